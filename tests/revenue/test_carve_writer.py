"""How carve rows reach the ledger (carve.md K3, K4; M6; ``revenue.services.carve.writer``).

On PostgreSQL the carve step computes each contract's rows in a thread while it COPYs the
parts already computed, as COPY text it formats itself. These tests hold that path to the
rows the Decimal path gives: the same amounts in every currency exponent, triggers as
written, every contract's rows in one statement (so the ledger totals get the deltas one
statement would), and a failure or a query in the rows' thread failing the step.
"""

from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from revenue.models import CarveEntry, SoLine
from revenue.services.bulk import bulk_copy_text, copy_text
from revenue.services.carve import writer as carve_writer
from revenue.services.carve.writer import CarveWriter
from revenue.services.splits import from_minor
from tests.revenue.test_carve_vectors import KV3_STEP1
from tests.revenue.test_ledger_totals import assert_totals_match

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the COPY path is PostgreSQL's"
)


def _amount_text(minor: int, exponent: int) -> str:
    writer = CarveWriter(open_period=202601)
    writer.rows.append((1, 2, 202601, "RELEASE", minor, exponent, "USD", "T#1", None))
    text, count = writer._part()
    assert count == 1 and writer.rows == []
    return text.split("\t")[4]


@given(st.integers(min_value=-(10**16), max_value=10**16), st.sampled_from([0, 2, 3]))
def test_k3_copy_text_amount_is_the_decimal_amount(minor, exponent):
    """K3: the amount the COPY text carries is the number ``from_minor`` gives, which the
    Decimal path sent; for two-decimal currencies the same text."""
    text = _amount_text(minor, exponent)
    assert Decimal(text) == from_minor(minor, exponent)
    if exponent == 2:
        assert text == str(from_minor(minor, exponent))


def test_copy_text_escapes_what_copy_reads_as_syntax():
    assert copy_text("SO-1#7") == "SO-1#7"
    assert copy_text("a\tb\\c\nd\re") == "a\\tb\\\\c\\nd\\re"


@needs_postgresql
@pytest.mark.django_db
def test_copy_text_round_trips_through_postgresql():
    """A trigger text with a tab, a backslash or a line break is stored as written."""
    value = "SO\t1\\2\n3\r#4"
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE copy_probe (a text, b text)")
        bulk_copy_text(table="copy_probe", columns=["a", "b"], text=f"{copy_text(value)}\t\\N\n")
        cursor.execute("SELECT a, b FROM copy_probe")
        assert cursor.fetchall() == [(value, None)]


THREE_CONTRACTS = (
    KV3_STEP1.strip()
    + "\n"
    + "\n".join(
        line.replace("SO4000", number)
        for number in ("SO4100", "SO4200")
        for line in KV3_STEP1.strip().splitlines()[1:]
    )
)


@needs_postgresql
def test_k4_m6_each_contract_is_in_one_statement_whatever_the_part_size(ledger, monkeypatch):
    """M6: parts end at a contract's last row, so each contract's carve rows are in one
    COPY (its ledger-total deltas those of one statement); with parts of one row, one
    statement per contract. The rows are KV3's in each contract, and the totals match
    the journal."""
    parts: list[set[int]] = []
    real = carve_writer.bulk_copy_text

    def recording(*, table, columns, text):
        parts.append({int(line.split("\t")[1]) for line in text.splitlines()})
        real(table=table, columns=columns, text=text)

    monkeypatch.setattr(carve_writer, "PART_ROWS", 1)
    monkeypatch.setattr(carve_writer, "bulk_copy_text", recording)
    ledger.cmd("revenue_profile", "CREATE_RORD_CONTRA_ENTRY", "N")
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(THREE_CONTRACTS)
    ledger.collect()
    contracts = set(CarveEntry.objects.values_list("contract_id", flat=True))
    assert len(contracts) == 3
    assert sorted(parts, key=min) == [{pk} for pk in sorted(contracts)]
    rows = {
        number: sorted(
            (line[-2:], period, amount)
            for line, period, amount in CarveEntry.objects.filter(
                line__so_line_id__startswith=number
            ).values_list("line__so_line_id", "period", "amount")
        )
        for number in ("SO4000", "SO4100", "SO4200")
    }
    assert rows["SO4000"] and rows["SO4000"] == rows["SO4100"] == rows["SO4200"]
    assert_totals_match()


@needs_postgresql
@pytest.mark.django_db
def test_a_failure_in_the_rows_thread_fails_the_step():
    """Whatever ``place`` raises in the rows' thread is raised by ``write``."""
    writer = CarveWriter(open_period=202601)

    def place(contract):
        raise ValueError(f"bad contract {contract}")

    with pytest.raises(ValueError, match="bad contract 7"):
        writer.write([7], place)


@needs_postgresql
@pytest.mark.django_db
def test_the_rows_thread_refuses_a_query():
    """The rows' thread computes over what the step read: a query there would run on a
    connection of its own, outside the batch's transaction, so it is refused."""
    writer = CarveWriter(open_period=202601)

    def place(contract):
        SoLine.objects.count()

    with pytest.raises(RuntimeError, match="without querying the database"):
        writer.write([1], place)
