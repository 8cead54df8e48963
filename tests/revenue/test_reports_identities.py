"""The identities of close.md M1–M3 on whole generated days (bench/collect_data.py, the
benchmark's own mix of SO, INV, RORD, CM-RO and CM-R lines in USD and EUR), on whichever
database the suite runs (CI runs it on SQLite and on PostgreSQL).

Expected figures come from ``revenue_export journal`` (report_checks), not from the
reports' selectors."""

from __future__ import annotations

import io
from decimal import Decimal

from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.collect_data import generate
from revenue.selectors import open_period_id
from revenue.services.periods import period_close
from revenue.services.splits import period_add
from tests.revenue.report_checks import (
    LIABILITY,
    REVENUE,
    after,
    assert_fast_totals,
    credit_nets,
    dec,
    journal_sides,
    report,
    through,
    totals_by_currency,
)

BYS = ("contract", "customer", "item", "line")


def _sum(rows, key, currency):
    return sum((dec(r[key]) for r in rows if r["currency"] == currency), Decimal(0))


def _check_totals(data, keys):
    """`totals` holds Σ of each amount key per currency."""
    totals = totals_by_currency(data)
    currencies = {r["currency"] for r in data["rows"]}
    assert set(totals) == currencies
    for currency in currencies:
        for key in keys:
            assert dec(totals[currency][key]) == _sum(data["rows"], key, currency), key


def check_waterfall_and_balances(period: int, sides) -> None:
    revenue = credit_nets(sides, REVENUE)
    carve = credit_nets(sides, ("ADJ_REVENUE",))
    liability = credit_nets(sides, LIABILITY)
    receivable = credit_nets(sides, ("AR",))
    currencies = {c for c, _ in revenue} | {c for c, _ in liability}
    for by in BYS:
        m1 = report("waterfall", "--period", str(period), "--by", by, "--periods", "6")
        m3 = report("balances", "--period", str(period), "--by", by)
        assert_fast_totals("waterfall", m1, period=period, by=by, periods=6)
        assert_fast_totals("balances", m3, period=period, by=by)
        _check_totals(m1, ["recognized", "later", "deferred", "total"])
        _check_totals(
            m3, ["billed", "recognized", "cl_balance", "contract_liability", "contract_asset"]
        )
        for row in m1["rows"]:
            assert dec(row["deferred"]) == sum(map(dec, row["periods"].values())) + dec(
                row["later"]
            )
            assert dec(row["total"]) == dec(row["recognized"]) + dec(row["deferred"])
        _check_totals(m1, ["contractual", "carve"])
        _check_totals(m3, ["contractual", "carve"])
        for row in m1["rows"] + m3["rows"]:
            # ASC 606 (carve.md K9): recognized = contractual + carve
            assert dec(row["recognized"]) == dec(row["contractual"]) + dec(row["carve"])
        for row in m3["rows"]:
            assert dec(row["rpo"]) == dec(row["rpo_12"]) + dec(row["rpo_24"]) + dec(
                row["rpo_later"]
            )
            assert min(dec(row["contract_liability"]), dec(row["contract_asset"])) >= 0
        for currency in currencies:
            whole = sum((v for (c, _), v in revenue.items() if c == currency), Decimal(0))
            # M1: Σ total = revenue over the whole journal; Σ recognized = through P
            assert _sum(m1["rows"], "total", currency) == whole
            assert _sum(m1["rows"], "recognized", currency) == through(revenue, currency, period)
            assert _sum(m1["rows"], "carve", currency) == through(carve, currency, period)
            assert _sum(m3["rows"], "carve", currency) == through(carve, currency, period)
            # M3: Σ CL − Σ CA = the CL balance through P; Σ rpo = revenue after P = M1 deferred
            cl = _sum(m3["rows"], "contract_liability", currency) - _sum(
                m3["rows"], "contract_asset", currency
            )
            assert cl == through(liability, currency, period)
            assert _sum(m3["rows"], "cl_balance", currency) == cl
            assert _sum(m3["rows"], "billed", currency) == -through(receivable, currency, period)
            assert _sum(m3["rows"], "rpo", currency) == after(revenue, currency, period)
            assert _sum(m3["rows"], "rpo", currency) == _sum(m1["rows"], "deferred", currency)


def check_rollforward(first: int, last: int, sides) -> None:
    liability = credit_nets(sides, LIABILITY)
    adjustment = credit_nets(sides, ("ADJ_LIABILITY",))
    data = report("rollforward", "--period", str(first), "--through", str(last))
    previous: dict[str, Decimal] = {}
    for row in data["rows"]:
        currency, period = row["currency"], int(row["period"])
        amounts = {k: dec(v) for k, v in row.items() if k not in ("currency", "period")}
        assert amounts["closing"] == (
            amounts["opening"]
            + amounts["billed"]
            - amounts["credited"]
            - amounts["released"]
            + amounts["reversed"]
            - amounts["contra"]
            + amounts["other"]
            - amounts["carve"]  # ASC 606: Dr − Cr of ADJ_LIABILITY (carve.md K9)
        )
        assert amounts["carve"] == -adjustment.get((currency, period), Decimal(0))
        # M2: closing = the CL balance booked through the period; opening = closing before
        assert amounts["closing"] == through(liability, currency, period)
        assert amounts["opening"] == through(liability, currency, period_add(period, -1))
        if currency in previous:
            assert amounts["opening"] == previous[currency]
        previous[currency] = amounts["closing"]
    # a period with a balance always has its row (even without movements)
    for currency in {c for c, _ in liability}:
        if through(liability, currency, last):
            assert any(r["currency"] == currency and int(r["period"]) == last for r in data["rows"])


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(min_value=0, max_value=10_000),
    lines=st.integers(min_value=120, max_value=400),
    closes=st.integers(min_value=0, max_value=5),
)
def test_m1_m2_m3_identities_on_generated_days(db, tmp_path, seed, lines, closes):
    """M1, M2, M3 identities hold exactly on a random day of the benchmark's mix, at the
    open period, at a closed one and at a future one, for every --by."""
    # hypothesis runs every example in the test's one database: each in a savepoint that
    # is rolled back, so each starts from an empty ledger
    with transaction.atomic():
        _one_day(tmp_path / f"day-{seed}-{lines}.csv", seed, lines, closes)
        transaction.set_rollback(True)


def _one_day(path, seed: int, lines: int, closes: int) -> None:
    made = generate(path, lines, seed, "full")
    start = made["earliest"]
    call_command("revenue_period", "open", f"{start.year}{start.month:02d}", stdout=io.StringIO())
    call_command("revenue_import", str(path), stdout=io.StringIO())
    out = io.StringIO()
    call_command("revenue_collect", stdout=out)
    assert "collected" in out.getvalue()
    for _ in range(closes):
        period_close(actor=None)
    sides = journal_sides()
    assert len(sides) > lines, "the generated day booked its entries"
    p = open_period_id()
    periods = sorted({int(s["PERIOD"]) for s in sides})
    check_waterfall_and_balances(p, sides)
    check_waterfall_and_balances(period_add(p, 4), sides)
    if periods[0] < p:
        check_waterfall_and_balances(periods[0], sides)
    check_rollforward(periods[0], period_add(p, 14), sides)
