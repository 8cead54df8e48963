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
    # file doors: how many refused files Hypothesis generates swings from 1 to 22 of 30
    # (it breeds examples from the ones it has), so their rows are not a fixed volume; what
    # is fixed is that every example ran and each file that has rows has its 50 or more
    minimum_files = 0
    rows_per_file = 0  # at least, in each file fed with rows (on average)

    def shortfall(self) -> str:
        """How the examples fed less than the test promises ('' when they did not)."""
        if self["rows"] < self.minimum:
            return f"only {self['rows']} rows fed (at least {self.minimum})"
        if self["files"] < self.minimum_files:
            return f"only {self['files']} files fed (at least {self.minimum_files})"
        if self.rows_per_file and not self["files with rows"]:
            return "no file with rows was fed"
        if self["rows"] < self.rows_per_file * self["files with rows"]:
            return (
                f"{self['rows']} rows in {self['files with rows']} files: fewer than "
                f"{self.rows_per_file} a file"
            )
        return ""


@pytest.fixture
def tally(request):
    """Rows and files fed by one fuzz test, summed over all its Hypothesis examples.

    Hypothesis runs every example of a test inside one call of the test function, so this
    function-scoped fixture (like ``db`` and ``tmp_path``) is shared by the examples on
    purpose: the database keeps what earlier examples staged (collection then also meets
    them), and the tally adds up. ``tally.minimum`` (or, for files, ``minimum_files`` and
    ``rows_per_file``) is what the test must have fed at least, so the volume cannot shrink
    unnoticed.
    """
    counts = Tally()
    yield counts
    print(f"\n{request.node.name}: {dict(counts)}")
    if not getattr(request.node, "rep_call_failed", True):
        assert not counts.shortfall(), counts.shortfall()


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
