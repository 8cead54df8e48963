"""Bad-input hardening (issue 7): fuzzed inbound rows through every door, and a crawl of
every admin page, form and action with malformed input."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import call_command
from hypothesis import Phase, settings


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def open_period(db):
    call_command("revenue_period", "open", "202601", stdout=io.StringIO())


class Tally(Counter):
    minimum = 0  # rows the test must have fed at least


@pytest.fixture
def tally(request):
    """Rows and files fed by one fuzz test, summed over all its Hypothesis examples.

    Hypothesis runs every example of a test inside one call of the test function, so this
    function-scoped fixture (like ``db`` and ``tmp_path``) is shared by the examples on
    purpose: the database keeps what earlier examples staged (collection then also meets
    them), and the tally adds up. ``tally.minimum`` is how many rows the test must have
    fed at least, so the volume cannot shrink unnoticed.
    """
    counts = Tally()
    yield counts
    print(f"\n{request.node.name}: {dict(counts)}")
    if not getattr(request.node, "rep_call_failed", True):
        assert counts["rows"] >= counts.minimum, f"only {counts['rows']} rows fed"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.rep_call_failed = report.failed
    return report


# ``--hypothesis-profile=hardening-debug``: report the first failures without shrinking
# (examples of a hundred rows shrink slowly)
settings.register_profile(
    "hardening-debug", phases=[Phase.explicit, Phase.reuse, Phase.generate], print_blob=True
)
