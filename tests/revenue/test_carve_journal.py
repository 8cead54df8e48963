"""Carve rows are their journal entries (carve.md K3, K9; S3, M6; migration 0020).

A carve row (``CarveEntry``) is written once: the journal view derives its ADJ pair, as it
derives a release from its schedule row. These tests hold the derived pairs to what the
stored ones were: the same accounts by sign, the row's period, posted when the period
closes, ids apart from every other entry, the ledger totals (M6) following every write of
the carve table, the journal's reads served by indexes, and the migration refusing to drop
stored pairs the carve rows do not give.
"""

import re
from decimal import Decimal
from importlib import import_module

import pytest
from django.db import connection

from revenue.models import BookedEntry, CarveEntry, JournalEntry, SoLine
from revenue.models.journal import CARVE, CARVE_FROM, STORED_FROM
from revenue.services.bulk import bulk_insert
from tests.revenue.scans import soline_scanned, solines_copy
from tests.revenue.test_carve_vectors import KV3_STEP1, KV3_STEP2
from tests.revenue.test_journal_view import _plan
from tests.revenue.test_ledger_totals import assert_totals_match, total

MIGRATION = import_module("revenue.migrations.0020_carve_entries_derived")
ADJ = ("ADJ_LIABILITY", "ADJ_REVENUE")


@pytest.fixture
def kv3(ledger):
    """KV3's contract collected with 202601 open, then 202601–202603 closed and its RORD
    collected in 202604 (a prospective placement: RELEASE and CATCH_UP rows)."""
    ledger.cmd("revenue_profile", "CREATE_RORD_CONTRA_ENTRY", "N")
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(KV3_STEP1)
    ledger.collect()
    ledger.cmd("revenue_period", "close", "--through", "202603")
    ledger.stage(KV3_STEP2)
    ledger.collect()
    return ledger


def test_k3_each_carve_row_is_its_adj_pair_once(kv3):
    """K3, K9: no ADJ pair is stored; every carve row is one journal entry with the row's
    id, period, entry type and inbound line, source type ADJ, Adjustment liability Dr /
    Adjustment revenue Cr for a positive amount and the reverse for a negative one, for
    the amount's magnitude; no other entry is on the adjustment accounts."""
    assert not BookedEntry.objects.filter(source_type="ADJ").exists()
    rows = {row.pk: row for row in CarveEntry.objects.all()}
    assert {row.entry_type for row in rows.values()} == {"RELEASE", "CATCH_UP"}
    assert any(row.amount.amount < 0 for row in rows.values())
    entries = JournalEntry.objects.filter(source_type="ADJ")
    assert {e.pk for e in entries} == set(rows)
    for entry in entries:
        row = rows[entry.pk]
        signed = row.amount.amount
        pair = ADJ if signed > 0 else ADJ[::-1]
        assert (entry.dr_account, entry.cr_account) == pair, entry
        assert entry.amount.amount == abs(signed) and entry.amount.currency == row.amount.currency
        assert (entry.period, entry.line_id, entry.entry_type, entry.inbound_line_id) == (
            row.period,
            row.line_id,
            row.entry_type,
            row.inbound_line_id,
        )
    on_adj = JournalEntry.objects.filter(dr_account__in=ADJ) | JournalEntry.objects.filter(
        cr_account__in=ADJ
    )
    assert on_adj.count() == len(rows)


def test_ids_apart_every_entry_of_the_view_has_its_own_id(kv3):
    """Carve rows are numbered from 2^61 on, below stored entries (2^62 on) and above
    schedule rows, so the view's ids are distinct (journal_ids_apart)."""
    ids = list(JournalEntry.objects.values_list("id", "source_type"))
    assert len({pk for pk, _ in ids}) == len(ids)
    carve = [pk for pk, source in ids if source == "ADJ"]
    assert carve and all(CARVE_FROM <= pk < STORED_FROM for pk in carve)
    others = [pk for pk, source in ids if source != "ADJ"]
    assert all(pk < CARVE_FROM or pk >= STORED_FROM for pk in others)


def test_s3_a_carve_entry_is_posted_when_its_period_closes(kv3):
    """S2, K3: a derived ADJ entry is posted once its period is closed, like a stored one
    (202604 open: its entries are not posted; after its close they are)."""
    april = JournalEntry.objects.filter(source_type="ADJ", period=202604)
    assert april.exists() and not april.filter(posted=True).exists()
    kv3.cmd("revenue_period", "close")
    assert not april.filter(posted=False).exists()
    assert not JournalEntry.objects.filter(source_type="ADJ", period=202605, posted=True).exists()


def test_m6_the_totals_follow_every_write_of_the_carve_table(kv3):
    """M6: the totals equal the journal after carve rows are inserted, updated (amount and
    sign: the pair swaps sides) and deleted by hand, on either database's triggers."""
    rows = assert_totals_match()
    assert total(rows, source_type="ADJ") != 0
    line = SoLine.objects.get(so_line_id="SO4000-1")
    bulk_insert(
        table=CARVE,
        columns=("line_id", "contract_id", "period", "entry_type", "amount", "amount_currency",
                 "trigger", "inbound_line_id", "created_at"),
        rows=[(line.pk, line.contract_id, 202801 + i, "RELEASE", Decimal("12.34") * (-1) ** i,
               "USD", "test", None, "2026-04-01T00:00:00Z") for i in range(4)],
    )  # fmt: skip
    assert_totals_match()
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {CARVE} SET amount = -amount WHERE trigger = 'test'")
    rows = assert_totals_match()
    assert total(rows, source_type="ADJ", period=202801, dr_account="ADJ_REVENUE") == 1234
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {CARVE} WHERE trigger = 'test' AND period = 202801")
    rows = assert_totals_match()
    assert total(rows, source_type="ADJ", period=202801) == 0


def test_migration_0020_refuses_stored_adj_pairs_the_carve_rows_do_not_give(kv3):
    """Migration 0020 compares the stored ADJ pairs with the carve rows' before deleting
    them: an exact copy of every pair differs in nothing; one pair missing, one extra or
    one cent off is named (sum and count per line, period, entry type and accounts)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO revenue_journalentry (period, line_id, source_type, entry_type, "
            "dr_account, cr_account, amount, amount_currency, posted, inbound_line_id) "
            "SELECT period, line_id, source_type, entry_type, dr_account, cr_account, amount, "
            "amount_currency, posted, inbound_line_id FROM revenue_journal "
            "WHERE source_type = 'ADJ'"
        )
        assert MIGRATION._differences(cursor) == []
        stored = BookedEntry.objects.filter(source_type="ADJ")
        first = stored.order_by("id").first()
        stored.filter(pk=first.pk).update(amount=first.amount.amount + Decimal("0.01"))
        (difference,) = MIGRATION._differences(cursor)
        assert difference[0] == first.period and difference[1] == first.line_id
        assert _cents(difference[-2]) == Decimal("0.01") and difference[-1] == 0
        stored.filter(pk=first.pk).delete()
        (difference,) = MIGRATION._differences(cursor)
        assert _cents(difference[-2]) == -first.amount.amount and difference[-1] == -1
    stored.delete()


def _cents(value) -> Decimal:
    """A SUM of amounts as the database returns it (SQLite: a float) to the cent."""
    return round(Decimal(str(value)), 2)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plans")
def test_the_journal_view_reads_carve_rows_through_their_index(kv3):
    """The admin's journal list (newest period first, by id) merges the carve rows in the
    order of ``carve_period`` without sorting, as it does the schedule's; a filter on an
    account no carve pair touches (AR) plans no read of the carve table."""
    page = JournalEntry.objects.order_by("-period", "-id")[:100]
    plan = _plan(page, enable_sort="off", enable_seqscan="off")
    assert "Merge Append" in plan and "carve_period" in plan, plan
    assert not re.search(r"\bSort +\(cost", plan), plan
    ar = JournalEntry.objects.filter(dr_account="AR").order_by("-period", "-id")
    assert CARVE not in _plan(ar), _plan(ar)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's trigger functions")
def test_m6_the_carve_triggers_read_the_so_lines_of_the_statement_not_the_whole_table(kv3):
    """M6 at volume for carve rows (migration 0020): after the SO line table grew 20,000
    rows, inserting, updating and deleting carve rows reads none of it by scan."""
    line = SoLine.objects.get(so_line_id="SO4000-1")
    columns = ("line_id", "contract_id", "period", "entry_type", "amount", "amount_currency",
               "trigger", "inbound_line_id", "created_at")  # fmt: skip
    rows = [(line.pk, line.contract_id, 202605 + i % 6, "RELEASE", Decimal("1.01") * (i + 1),
             "USD", "volume", None, "2026-04-01T00:00:00Z") for i in range(24)]  # fmt: skip
    bulk_insert(table=CARVE, columns=columns, rows=rows)  # planned while small
    solines_copy(line, 20000)
    before = soline_scanned()
    bulk_insert(table=CARVE, columns=columns, rows=rows)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {CARVE} SET amount = -amount WHERE trigger = 'volume'")
        cursor.execute(f"DELETE FROM {CARVE} WHERE trigger = 'volume' AND period = 202606")
    scanned = soline_scanned() - before
    assert scanned < 1000, f"the triggers scanned {scanned} rows of revenue_soline"
    assert_totals_match()
