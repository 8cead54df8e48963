"""The revenue lists at volume (bench/admin.py): filters that read an index instead of every
row, and a trial balance that is not summed over millions of entries on every view (S3)."""

from __future__ import annotations

from unittest import mock

import pytest

from revenue.admin.filters import journal_periods
from revenue.admin.journal import JournalEntryAdmin
from revenue.models import InboundLine, JournalEntry
from revenue.models.choices import LineStatus
from tests.revenue.test_admin import GOOD_CSV, url


@pytest.fixture
def stopped(ledger):
    """The sample rows collected in 2026-01: RORDs stopped by V6 (RPRO-00353), an INV
    waiting (INB-004), a row with parse errors (INB-000)."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.cmd("revenue_rule", "RPRO-00353", "--enable")
    ledger.stage(GOOD_CSV)
    ledger.collect()
    return ledger


def ids(response) -> set[int]:
    return {line.pk for line in response.context["cl"].result_list}


def test_error_code_filter_lists_stopped_lines_only(admin_client, stopped):
    """Codes belong to stopped lines; a line queued again keeps its old codes until it is
    validated, and is not listed as stopped by them."""
    v6 = set(
        InboundLine.objects.filter(
            status=LineStatus.ERROR, error_codes__contains="RPRO-00353"
        ).values_list("pk", flat=True)
    )
    assert len(v6) >= 1
    response = admin_client.get(url("inboundline_changelist"), {"error_code": "RPRO-00353"})
    assert ids(response) == v6
    InboundLine.objects.filter(pk=min(v6)).update(status=LineStatus.NEW)
    response = admin_client.get(url("inboundline_changelist"), {"error_code": "RPRO-00353"})
    assert ids(response) == v6 - {min(v6)}


def test_journal_balance_is_summed_on_request_above_the_limit(admin_client, stopped):
    base = url("journalentry_changelist")
    total = JournalEntry.objects.count()
    assert total > 1
    with mock.patch.object(JournalEntryAdmin, "balance_limit", total - 1):
        page = admin_client.get(base, {"posted__exact": "0"})
        assert "balance" not in page.context and page.context["balance_url"]
        html = page.content.decode()
        assert 'id="journal-balance-compute"' in html and "_balance=1" in html
        asked = admin_client.get(base, {"posted__exact": "0", "_balance": "1"})
        assert asked.status_code == 200  # not a lookup: no ?e=1 redirect
        (usd,) = asked.context["balance"]
        assert usd.balanced and sum(row.sides for row in usd.rows) == 2 * total
        small = admin_client.get(base, {"account": "AR"})  # under the limit: shown
        assert small.context["balance"][0].balanced


def test_journal_period_filter_lists_the_periods_with_entries(admin_client, stopped):
    distinct = sorted(set(JournalEntry.objects.values_list("period", flat=True)), reverse=True)
    assert journal_periods() == distinct
    assert journal_periods(limit=1) == distinct[:1]
    html = admin_client.get(url("journalentry_changelist")).content.decode()
    assert f"?period={distinct[0]}" in html


def test_journal_list_newest_period_first_and_source_type_filter(admin_client, stopped):
    page = admin_client.get(url("journalentry_changelist"))
    keys = [(e.period, e.pk) for e in page.context["cl"].result_list]
    assert keys == sorted(keys, reverse=True)
    source = JournalEntry.objects.values_list("source_type", flat=True).first()
    filtered = admin_client.get(url("journalentry_changelist"), {"source_type": source})
    entries = filtered.context["cl"].result_list
    assert {e.source_type for e in entries} == {source}
    assert len(entries) == JournalEntry.objects.filter(source_type=source).count()


def test_journal_posted_filter_after_a_close(admin_client, stopped):
    """S2: closing 2026-01 posts its entries; the filter lists them (and only them)."""
    stopped.cmd("revenue_period", "close")
    posted = set(JournalEntry.objects.filter(posted=True).values_list("pk", flat=True))
    unposted = set(JournalEntry.objects.filter(posted=False).values_list("pk", flat=True))
    assert posted and unposted
    base = url("journalentry_changelist")
    assert ids(admin_client.get(base, {"posted__exact": "1"})) == posted
    assert ids(admin_client.get(base, {"posted__exact": "0"})) == unposted
