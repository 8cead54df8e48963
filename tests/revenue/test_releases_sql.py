"""S6–S8, set-based (``revenue.services.releases_sql``): ``releases_insert`` writes exactly the
schedule rows, journal entries and ledger totals (M6) that the Python path writes —
``so_schedule_book`` for each new SO line, then ``Booker.flush`` — on SQLite and PostgreSQL,
down to SQLite's storage class of each amount.

Each comparison books the same lines twice: the Python path in a savepoint that is read and
rolled back, then ``releases_insert``; the rows are compared as multisets (ids aside)."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from djmoney.money import Money
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from core.services import currency_exponent
from revenue.models import (
    BookedEntry,
    JournalEntry,
    LedgerTotal,
    RevenueContract,
    ScheduleRow,
    SoLine,
)
from revenue.models.choices import EntryType, RevMethod, RowKind
from revenue.services import releases_sql
from revenue.services.ledger import Booker
from revenue.services.releases_sql import NewRelease, releases_insert
from revenue.services.splits import (
    cumulative_weights,
    period_add,
    period_last_day,
    period_of,
    split_minor,
)
from tests.revenue.releases_reference import so_schedule_book

_SEQ = itertools.count(1)
METHODS = [RevMethod.IMMEDIATE, RevMethod.RATABLE_MONTHLY, RevMethod.RATABLE_DAILY]
# KWD: a 3-decimal currency (the amount columns keep 2 decimals)
CURRENCIES = ["USD", "JPY", "KWD"]


# --- helpers ---------------------------------------------------------------------------------


def lines_create(specs: list[dict]) -> list[NewRelease]:
    """SO lines for ``specs`` (currency, total, method, start, end, held, inbound_id), in one
    new contract; their NewRelease, in order."""
    n = next(_SEQ)
    contract = RevenueContract.objects.create(rc_key=f"RC-SQL-{n}")
    lines = SoLine.objects.bulk_create(
        SoLine(
            so_line_id=f"SQL-{n}-{i}",
            contract=contract,
            f_cur=s["currency"],
            quantity=Decimal(1),
            ext_lst_prc=Money(s["total"], s["currency"]),
            ext_sll_prc=Money(s["total"], s["currency"]),
            rev_method=s["method"],
            start_date=s["start"],
            end_date=s["end"],
            rev_start_date=s["start"],
            rev_end_date=s["end"],
            hold=s["held"],
        )
        for i, s in enumerate(specs)
    )
    return [
        NewRelease(
            line_id=line.pk,
            inbound_id=s["inbound_id"],
            currency=s["currency"],
            total=s["total"],
            method=s["method"],
            start=s["start"],
            end=s["end"],
            held=s["held"],
        )
        for line, s in zip(lines, specs, strict=True)
    ]


def python_path(releases: list[NewRelease], open_period: int) -> tuple[int, int]:
    """The Python path the SQL replaces: so_schedule_book per line, one flush."""
    lines = SoLine.objects.in_bulk([r.line_id for r in releases])
    booker = Booker(open_period=open_period)
    for r in releases:
        line = lines[r.line_id]
        line.ext_sll_prc = Money(r.total, r.currency)  # as given, not as stored
        so_schedule_book(booker=booker, line=line, inbound_id=r.inbound_id)
    return booker.flush()


def _typeof(column: str) -> str:
    """The storage class of a value on SQLite; PostgreSQL's column type elsewhere."""
    if connection.vendor == "sqlite":
        return f"typeof({column}) || ' ' || quote({column})"
    return f"pg_typeof({column})::text"


def snapshot() -> dict[str, Counter]:
    """Every schedule row, journal entry and ledger total, ids aside, with each amount as
    stored (raw value and its storage class)."""
    queries = {
        "schedule": (
            f"SELECT line_id, period, source, amount, {_typeof('amount')}, amount_currency, "
            f"kind, held, inbound_line_id FROM {ScheduleRow._meta.db_table}"
        ),
        "journal": (
            f"SELECT line_id, period, source_type, entry_type, dr_account, cr_account, amount, "
            f"{_typeof('amount')}, amount_currency, posted, inbound_line_id "
            f"FROM {JournalEntry._meta.db_table}"
        ),
        "totals": (
            "SELECT period, contract_id, currency, dr_account, cr_account, entry_type, "
            f"source_type, amount_minor, entries FROM {LedgerTotal._meta.db_table}"
        ),
    }
    out = {}
    with connection.cursor() as cursor:
        for name, sql in queries.items():
            cursor.execute(sql)
            out[name] = Counter(tuple(row) for row in cursor.fetchall())
    return out


def both_ways(releases: list[NewRelease], open_period: int):
    """(Python path's counts and rows, SQL path's counts and rows) for the same lines; None
    when the Python path fails on a constraint, after checking the SQL path fails on the
    same one (nothing written)."""
    before = snapshot()
    try:
        with transaction.atomic():
            python_counts = python_path(releases, open_period)
            python_rows = snapshot()
            transaction.set_rollback(True)
    except (IntegrityError, connection.Database.IntegrityError) as error:  # COPY: the driver's
        with pytest.raises(IntegrityError) as refused, transaction.atomic():
            releases_insert(releases=releases, open_period=open_period)
        assert _constraint(refused.value) == _constraint(error)
        assert snapshot() == before
        return None
    assert snapshot() == before
    sql_counts = releases_insert(releases=releases, open_period=open_period)
    return (python_counts, python_rows), (sql_counts, snapshot())


def _constraint(error: Exception) -> str:
    names = [c.name for m in (ScheduleRow, BookedEntry) for c in m._meta.constraints]
    return next((name for name in names if name in str(error)), str(error))


def assert_same(
    releases: list[NewRelease], open_period: int, *, refusal: bool = False
) -> dict[str, Counter] | None:
    """Book ``releases`` both ways; the rows are the same. Returns them (SQL path), or None
    when both paths refused the batch (only with ``refusal``)."""
    before = snapshot()
    both = both_ways(releases, open_period)
    if both is None:
        assert refusal, "the Python path failed"
        return None
    (python_counts, python_rows), (sql_counts, sql_rows) = both
    for name in ("schedule", "journal", "totals"):
        assert sql_rows[name] == python_rows[name], name
    assert sql_counts == python_counts
    assert python_counts == (
        python_rows["schedule"].total() - before["schedule"].total(),
        python_rows["journal"].total() - before["journal"].total(),
    )
    return sql_rows


def temp_tables() -> list[str]:
    """The temporary tables releases_insert left behind (none, ever)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_temp_master WHERE type = 'table'")
        else:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname LIKE 'pg_temp%'")
        return [name for (name,) in cursor.fetchall() if name.startswith("releases_sql_")]


# --- the property ----------------------------------------------------------------------------

SPECIAL_DAYS = [
    date(2024, 2, 29),
    date(2024, 2, 28),
    date(2024, 1, 31),
    date(2024, 3, 1),
    date(2025, 2, 28),
    date(2025, 12, 31),
    date(2026, 1, 1),
    date(2026, 4, 30),
    date(2027, 2, 28),
    date(2028, 2, 29),
]
SMALL_TOTALS = ["0", "0.01", "-0.01", "0.02", "0.05", "-0.07", "0.10", "0.5", "2.5", "3.5", "1"]


@st.composite
def span(draw):
    """(method, start, end): 1–40 months, month ends and leap days included."""
    method = draw(st.sampled_from(METHODS))
    days = st.dates(date(2024, 1, 1), date(2027, 12, 31))
    start = draw(
        st.one_of(
            st.sampled_from(SPECIAL_DAYS),
            days,
            days.map(lambda d: d.replace(day=1)),  # whole months: shares of 1/2, 1/4, …
        )
    )
    months = draw(st.one_of(st.integers(min_value=0, max_value=3), st.integers(0, 39)))
    shape = draw(st.sampled_from(["month end", "about", "days"]))
    if shape == "month end":
        end = period_last_day(period_add(period_of(start), months))
    elif shape == "about":  # about ``months`` months after the start
        end = start + timedelta(days=months * 30 + draw(st.integers(0, 29)))
    else:
        end = start + timedelta(days=draw(st.integers(0, 3)))
    return method, start, end


totals = st.one_of(
    # a few minor units, and halves (to_minor rounds half even: JPY 2.50 is 2 yen, 3.50 is 4)
    st.sampled_from([Decimal(t) for t in SMALL_TOTALS]),
    st.decimals(min_value=-(10**6), max_value=10**6, places=2, allow_nan=False),
    st.integers(min_value=-(10**12), max_value=10**12).map(lambda c: Decimal(c).scaleb(-2)),
)


@st.composite
def batch(draw):
    """Lines sharing some spans (a batch has few distinct spans) and an open period before,
    inside or after them."""
    pool = draw(st.lists(span(), min_size=1, max_size=4))
    specs = []
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        method, start, end = draw(st.sampled_from(pool))
        specs.append(
            {
                "method": method,
                "start": start,
                "end": end,
                "currency": draw(st.sampled_from(CURRENCIES)),
                "total": draw(totals),
                "held": draw(st.booleans()),
                "inbound_id": draw(st.one_of(st.none(), st.integers(1, 10**9))),
            }
        )
    first = min(period_of(s["start"]) for s in specs)
    open_period = period_add(first, draw(st.integers(min_value=-3, max_value=45)))
    return specs, open_period


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=batch())
def test_s6_s7_s8_sql_releases_equal_the_python_path(db, case):
    """S6, S7, S8 (property): for any batch of new SO lines — IMMEDIATE, RATABLE_MONTHLY and
    RATABLE_DAILY over 1–40 months, month ends and leap days, totals positive, negative,
    zero or a few minor units, USD, JPY and KWD, held or not, an open period before, inside
    or after the span — releases_insert writes the same schedule rows, journal entries and
    LedgerTotal deltas as so_schedule_book + Booker.flush, with the same SQLite storage
    class (typeof) and value of every amount. Where the Python path fails on a constraint
    (PostgreSQL: a KWD part under 0.005 rounds to 0.00 in the 2-decimal column and breaks
    journal_amount_positive), the SQL path fails on the same one."""
    specs, open_period = case
    with transaction.atomic():
        if assert_same(lines_create(specs), open_period, refusal=True) is None:
            event("both paths refused the batch")
        transaction.set_rollback(True)


# --- explicit cases --------------------------------------------------------------------------


def _spec(**kw) -> dict:
    base = {
        "method": RevMethod.RATABLE_MONTHLY,
        "start": date(2026, 1, 1),
        "end": date(2026, 12, 31),
        "currency": "USD",
        "total": Decimal("1200.00"),
        "held": False,
        "inbound_id": None,
    }
    return base | kw


def _minor_rows(table: str, line_id: int, cents: bool = True) -> list[tuple[int, int]]:
    """(period, round(amount × 100), or the amount itself) of a line's rows in ``table``,
    by period (on SQLite round() is a double: the amounts in cents are below 2^53)."""
    minor = "round(amount * 100)" if cents else "amount"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT period, CAST({minor} AS BIGINT) FROM {table} "
            "WHERE line_id = %s ORDER BY period",
            [line_id],
        )
        return [tuple(row) for row in cursor.fetchall()]


def test_s7_s8_ten_to_the_sixteen_minor_units_over_twenty_years(db):
    """S7: a total of 10^16 minor units (10^14 USD) over 240 months, and the same negative on
    hold: no 64-bit overflow, the parts are split_minor's and add up to the total exactly.
    S8: totals of 10^16 − 1 and −(10^16 − 3) minor units caught up whole in one row each;
    stored as the Python path stores them (on SQLite a REAL above 2^53 minor units, where
    ``minor / 100.0`` would round twice and store another double)."""
    total = Decimal(10**16).scaleb(-2)
    start, end = date(2020, 1, 15), date(2039, 12, 20)
    releases = lines_create(
        [
            _spec(start=start, end=end, total=total),
            _spec(start=start, end=end, total=-total, held=True),
            _spec(start=start, end=end, total=Decimal(10**16 - 1).scaleb(-2)),
            _spec(start=start, end=end, total=-Decimal(10**16 - 3).scaleb(-2)),
        ]
    )
    rows = assert_same(releases[:2], 202001)
    expected = split_minor(10**16, cumulative_weights(RevMethod.RATABLE_MONTHLY, start, end))
    assert len(expected) == 240 and sum(m for _, m in expected) == 10**16
    schedule, journal = ScheduleRow._meta.db_table, JournalEntry._meta.db_table
    assert _minor_rows(schedule, releases[0].line_id) == expected
    assert _minor_rows(journal, releases[0].line_id) == expected
    assert _minor_rows(schedule, releases[1].line_id) == [(p, -m) for p, m in expected]
    assert _minor_rows(journal, releases[1].line_id) == []  # held: no entries
    assert sum(amount * n for (*_, amount, _), n in rows["totals"].items()) == 10**16

    # the open period after the end: each line is one catch-up row of its whole total
    caught = assert_same(releases[2:], 204001)
    assert sorted((r[0], r[1], r[6]) for r in caught["schedule"]) == [
        (releases[0].line_id, p, RowKind.RELEASE) for p, _ in expected
    ] + [(releases[1].line_id, p, RowKind.RELEASE) for p, _ in expected] + [
        (releases[2].line_id, 204001, RowKind.CATCH_UP),
        (releases[3].line_id, 204001, RowKind.CATCH_UP),
    ]
    entries = {
        r[0]: r[3] for r in caught["journal"] if r[0] in (releases[2].line_id, releases[3].line_id)
    }
    assert entries == {
        releases[2].line_id: EntryType.CATCH_UP,
        releases[3].line_id: EntryType.REVERSAL,
    }
    if connection.vendor == "postgresql":
        amounts = {r[0]: r[3] for r in caught["schedule"] if r[1] == 204001}
        assert amounts[releases[2].line_id] == Decimal("99999999999999.99")
        assert amounts[releases[3].line_id] == Decimal("-99999999999999.97")


def test_s7_integer_rounding_at_the_bounds(db, monkeypatch):
    """S7 in SQL integers at the bounds: denominators near 2^31, |totals| up to 10^15 minor
    units (JPY: the amounts are integers on both databases), exact halves rounded away
    from zero; every part is split_minor's (the one Python implementation)."""
    d = 2**31 - 1
    shares = [
        ((202601, 1, 2), (202602, 1, 1)),  # halves
        ((202601, 1, 3), (202602, 2, 3), (202603, 1, 1)),
        ((202601, 1, d), (202602, d - 1, d), (202603, 1, 1)),
        ((202601, 1_073_741_823, 2**31 - 2), (202602, 1, 1)),  # n/d just under 1/2
        ((202601, 2**30, 2**31), (202602, 1, 1)),  # exactly 1/2 with d = 2^31
        ((202601, 0, 1), (202602, 1, 1)),
    ]
    totals = [1, -1, 3, -3, 5, 10**15, -(10**15), 10**15 - 1, -(10**15 - 1), 999_999_999_999_989]
    specs, expected = [], {}
    for i, cumulative in enumerate(shares):
        for total in totals:
            specs.append(
                _spec(
                    currency="JPY",
                    total=Decimal(total),
                    start=date(2026, 1, 1) + timedelta(days=i),  # one combo per share list
                    end=date(2026, 3, 31),
                )
            )
            expected[len(specs) - 1] = [(p, m) for p, m in split_minor(total, cumulative) if m]
    fake = {date(2026, 1, 1) + timedelta(days=i): c for i, c in enumerate(shares)}
    monkeypatch.setattr(releases_sql, "cumulative_weights", lambda method, start, end: fake[start])
    releases = lines_create(specs)
    assert releases_insert(releases=releases, open_period=202601)[0] == sum(
        len(v) for v in expected.values()
    )
    for i, release in enumerate(releases):
        rows = _minor_rows(ScheduleRow._meta.db_table, release.line_id, cents=False)
        assert rows == expected[i], specs[i]
    assert expected[0] == [(202601, 1)]  # 1 × 1/2 rounds up (the rest, 0, is left out)
    assert expected[1] == [(202601, -1)]  # −1 × 1/2 rounds away from zero


def test_sqlite_storage_class_of_amounts(db):
    """On SQLite an amount written by releases_insert has the storage class (typeof) and
    value of the Python path's (Django adapts a Decimal to text; NUMERIC affinity makes it
    INTEGER or REAL), for cents, whole amounts, negatives, 3 decimals, and values around
    2^53 and 10^16 minor units."""
    specs = [
        _spec(method=RevMethod.IMMEDIATE, total=Decimal(t), currency=c)
        for t in [
            "1200.00",
            "0.07",
            "-0.10",
            "100",
            "12.34",
            "90071992547409.93",
            "90071992547409.94",
            "99999999999999.99",
            "-99999999999999.97",
            "12345678901234.56",
        ]
        for c in ("USD", "KWD", "JPY")
        if c != "KWD" or abs(Decimal(t)) < 10**13
    ]
    assert currency_exponent("KWD") == 3  # amounts of 3 decimals (the column has 2)
    rows = assert_same(lines_create(specs), 202601)
    classes = {r[4].split()[0] for r in rows["schedule"]}  # compared above, with quote()
    assert classes == ({"integer", "real"} if connection.vendor == "sqlite" else {"numeric"})


def test_empty_batch_writes_nothing(db, django_assert_num_queries):
    """An empty batch: (0, 0), no query, nothing written."""
    before = snapshot()
    with django_assert_num_queries(0):
        assert releases_insert(releases=[], open_period=202601) == (0, 0)
    assert snapshot() == before


def test_two_calls_in_one_transaction(db):
    """Two batches in one transaction (the temporary tables are per call, dropped after
    it): together the rows of the Python path for both, and no temporary table left."""
    first = lines_create([_spec(), _spec(total=Decimal("-99.99"), held=True)])
    second = lines_create(
        [
            _spec(method=RevMethod.RATABLE_DAILY, start=date(2025, 11, 15), currency="JPY"),
            _spec(method=RevMethod.IMMEDIATE, start=date(2025, 12, 31), end=date(2025, 12, 31)),
        ]
    )
    with transaction.atomic():
        (python_counts, python_rows), _ = both_ways(first + second, 202601)
        transaction.set_rollback(True)
    with transaction.atomic():
        a = releases_insert(releases=first, open_period=202601)
        b = releases_insert(releases=second, open_period=202601)
        assert temp_tables() == []
    assert (a[0] + b[0], a[1] + b[1]) == python_counts
    rows = snapshot()
    assert rows["schedule"] == python_rows["schedule"]
    assert rows["journal"] == python_rows["journal"]
    # LedgerTotal: PostgreSQL writes one delta per key and statement, so two statements
    # give as many rows as keys per call; their sums are the Python path's
    assert _summed(rows["totals"]) == _summed(python_rows["totals"])


def _summed(totals: Counter) -> dict:
    out: dict = {}
    for (*key, amount, entries), n in totals.items():
        a, e = out.get(tuple(key), (0, 0))
        out[tuple(key)] = (a + amount * n, e + entries * n)
    return out


@pytest.mark.parametrize("open_period", [202512, 202601, 202606, 202612, 202701])
def test_s8_open_period_before_inside_after(db, open_period):
    """S8: the closed periods' parts are one CATCH_UP row in the open period (a part of the
    open period itself stays a RELEASE row), as the Python path books them."""
    specs = [
        _spec(),
        _spec(total=Decimal("-1000.01"), start=date(2026, 1, 31), end=date(2026, 7, 30)),
        _spec(method=RevMethod.RATABLE_DAILY, start=date(2025, 12, 31), held=True),
        _spec(method=RevMethod.IMMEDIATE, start=date(2026, 6, 30), end=date(2026, 6, 30)),
    ]
    rows = assert_same(lines_create(specs), open_period)
    kinds = Counter(r[6] for r in rows["schedule"].elements())
    catch_ups = {202512: 0, 202601: 1, 202606: 3, 202612: 4, 202701: 4}[open_period]
    assert kinds[RowKind.CATCH_UP] == catch_ups
