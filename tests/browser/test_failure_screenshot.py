"""The failure screenshot of browser tests (tests/browser/conftest.py): the report hook
keeps each phase's report on the item, and a failed test's page is saved as a PNG named
after its node id under ``<CONTRA_VAR_DIR>/test-output``."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.browser.conftest import failed, save_failure_screenshot, screenshot_path

pytestmark = [pytest.mark.browser]


def test_report_hook_and_screenshot_of_a_failed_test(page, request, settings, tmp_path):
    # the hookwrapper stored this test's setup report on its item
    assert request.node.rep_setup.passed
    assert not failed(request.node)

    settings.VAR_DIR = tmp_path
    fake = SimpleNamespace(
        nodeid="tests/browser/test_x.py::test_y[a b/c]",
        rep_setup=SimpleNamespace(failed=False),
        rep_call=SimpleNamespace(failed=True),
    )
    assert failed(fake)
    page.set_content("<h1>what the failing test saw</h1>")

    path = save_failure_screenshot(page, fake)

    assert path == tmp_path / "test-output" / "tests_browser_test_x.py__test_y_a_b_c.png"
    assert path == screenshot_path(fake.nodeid)
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
