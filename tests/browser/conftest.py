"""Fixtures for the headless-Chromium admin tests (``pytest -m browser``).

Playwright's sync API runs an event loop in the test thread, so Django's async-safety
guard would refuse ORM calls made from the tests; the live server runs in its own thread.

A browser test that fails (in its setup or its body) leaves a full-page screenshot in
``<CONTRA_VAR_DIR or var>/test-output/<node id>.png``; the path is printed.
"""

from __future__ import annotations

import os

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import re  # noqa: E402
from importlib import import_module  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from django.apps import apps  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
USERNAME = "browser-admin"
PASSWORD = "browser-admin-pw-1"


def output_dir() -> Path:
    """Where screenshots go: ``<CONTRA_VAR_DIR or var>/test-output`` (settings.VAR_DIR)."""
    return Path(settings.VAR_DIR) / "test-output"


def screenshot_path(nodeid: str) -> Path:
    """``tests/browser/test_x.py::test_y[a]`` →
    ``<output>/tests_browser_test_x.py__test_y_a.png``."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.replace("::", "__")).strip("_")
    return output_dir() / f"{name[:200]}.png"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item (``item.rep_setup``, ``item.rep_call``) so the
    ``page`` fixture knows at teardown whether the test failed."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def failed(node) -> bool:
    return any(
        getattr(getattr(node, f"rep_{when}", None), "failed", False) for when in ("setup", "call")
    )


def save_failure_screenshot(page, node) -> Path | None:
    """A full-page screenshot of ``page`` for the failed test ``node``; never raises (the
    test's own failure is what matters)."""
    path = screenshot_path(node.nodeid)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
    except Exception as error:  # noqa: BLE001 - a closed page must not hide the failure
        print(f"\nscreenshot of failed {node.nodeid} not saved: {error}")
        return None
    print(f"\nscreenshot of failed {node.nodeid}: {path}")
    return path


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser context (no cookies) and page per test; a screenshot on failure."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        if failed(request.node):
            save_failure_screenshot(page, request.node)
        context.close()


@pytest.fixture
def demo_data(transactional_db):
    call_command("load_demo", verbosity=0)


@pytest.fixture
def revenue_data(transactional_db, tmp_path, settings):
    """``load_demo``: periods 2026-09 and 2026-10 closed, 2026-11 open, a held line,
    lines stopped in staging (among them the RORD DEMO-RO-8-1, stopped by RPRO-00353).

    Earlier transactional tests flush what the migrations seed (validation rules,
    profile settings, beat tasks), and serialized rollback cannot bring it back while
    Playwright's event loop runs; so the seed migration runs again first (idempotent).
    """
    settings.MEDIA_ROOT = tmp_path / "media"
    import_module("revenue.migrations.0002_registry_and_jobs").seed(apps, None)
    call_command("load_demo", verbosity=0)


@pytest.fixture
def superuser(transactional_db):
    return get_user_model().objects.create_superuser(
        username=USERNAME, email="browser-admin@example.com", password=PASSWORD
    )


def login(page, live_server, username: str, password: str) -> None:
    """Log in through the real admin login form and land on the admin index."""
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/admin/")


@pytest.fixture
def logged_in_page(page, live_server, demo_data, superuser):
    """A page logged in as a superuser through the real admin login form."""
    login(page, live_server, USERNAME, PASSWORD)
    return page


def confirm_transition(page) -> None:
    """On a transition's confirmation page (what it will do, from a dry run), confirm it;
    the page answers with a redirect back to the document."""
    page.wait_for_url(re.compile(r".*/transition/[a-z_]+/$"))
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.click("#transition-form input[name=confirm]")
    assert posted.value.status == 302, f"confirming answered {posted.value.status}"
    page.wait_for_load_state()
