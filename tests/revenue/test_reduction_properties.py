"""Properties of reductions (P1–P9, S1, S3, A3) for any line and any sequence of events.

Hypothesis draws an SO line (method, dates, amount, quantity, currency, SSP) in a contract
with a second line, the contra profile and how much is billed up front, then a sequence of
events: partial invoices (dated or not), credit memos, returns (CM-R, dated or not),
reduction orders (RORD) dated inside the line, anywhere or not at all, their credit memos
(CM-RO), closes of one to three periods, contra profile switches, and the manual actions
of S10 (hold / release, new revenue dates). Each event is staged and collected with the
services the commands use (``inbound_stage`` + ``collection_collect``); after each one the
ledger must hold its invariants, and each reduction must have been placed as P2–P4 say.

Each example runs in a savepoint that is rolled back, so it starts from a clean ledger on
SQLite and on PostgreSQL alike.
"""

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import hypothesis
import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from core.services import currency_exponent, sum_exact
from revenue.models import ContraEntry, InboundLine, JournalEntry, Period, ScheduleRow, SoLine
from revenue.selectors import so_lines_with_amounts
from revenue.services.collection import collection_collect
from revenue.services.inbound import inbound_stage
from revenue.services.ledger import states_load
from revenue.services.manual import so_line_dates_change, so_line_hold, so_line_release
from revenue.services.periods import period_close, period_open
from revenue.services.settings import profile_set
from revenue.services.splits import period_add
from tests.revenue.test_reductions import COLUMNS

ZERO = Decimal(0)
FIRST_OPEN = 202601

pct = st.integers(min_value=1, max_value=100)
day = st.dates(min_value=date(2025, 6, 1), max_value=date(2027, 12, 31))
events = st.one_of(
    st.tuples(st.just("INV"), pct, st.booleans(), st.floats(0, 1), st.floats(0, 1)),
    st.tuples(st.just("CM"), pct),
    st.tuples(st.just("CM-R"), pct, st.floats(0, 1), st.booleans(), st.floats(0, 1)),
    st.tuples(st.just("RORD"), pct, st.sampled_from(["inside", "anywhere", "none"]), day, day),
    st.tuples(st.just("RORD"), pct, st.just("inside"), day, day),
    st.tuples(st.just("CM-RO"), pct),
    st.tuples(st.just("CM-RO"), pct),
    st.tuples(st.just("CLOSE"), st.integers(min_value=1, max_value=3)),
    st.tuples(st.just("PROFILE"), st.sampled_from(["Y", "N"])),
    st.tuples(st.just("HOLD")),
    st.tuples(st.just("DATES"), day, st.integers(min_value=0, max_value=400)),
)
line_spec = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["IMMEDIATE", "RATABLE_MONTHLY", "RATABLE_DAILY"]),
        "start": st.dates(min_value=date(2025, 10, 1), max_value=date(2026, 6, 30)),
        "days": st.integers(min_value=0, max_value=540),
        "minor": st.integers(min_value=1, max_value=10**7),
        "qty": st.integers(min_value=1, max_value=12),
        "currency": st.sampled_from(["USD", "USD", "JPY"]),
        "ssp": st.sampled_from(["pct", "price", "none"]),
        "profile": st.sampled_from(["Y", "N"]),
        "invoiced": st.sampled_from([0, 50, 100, 100]),  # % billed with the SO
    }
)


class Scenario:
    """The line under test (L-1), its contract partner (L-2) and what was sent so far."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.currency = spec["currency"]
        self.exponent = currency_exponent(self.currency)
        self.start = spec["start"]
        self.end = self.start + timedelta(days=spec["days"])
        self.esp = Decimal(spec["minor"]).scaleb(-self.exponent)
        self.billed = ZERO
        self.rords: list[tuple[str, Decimal]] = []
        self.reduced = {"RORD": ZERO, "CM-R": ZERO}  # Σ abs(ESP) sent
        self.contra = False
        self.n = 0

    def money(self, value: Decimal) -> Decimal:
        return value.quantize(Decimal(1).scaleb(-self.exponent), rounding=ROUND_HALF_UP)

    def share(self, total: Decimal, percent: int) -> Decimal:
        """``percent`` of ``total``, at least one minor unit, at most ``total``."""
        unit = Decimal(1).scaleb(-self.exponent)
        return min(max(self.money(total * percent / 100), unit), total)

    def row(self, **values) -> dict:
        base = {"CURR": self.currency, "F_CUR": self.currency, "ITEM": "Item"}
        base.update({k.upper(): v for k, v in values.items() if v is not None})
        return {column: str(base.get(column, "")) for column in COLUMNS}

    def stage(self, *rows: dict) -> None:
        inbound_stage(rows=list(rows), source="COMMAND", filename="property.csv")
        collection_collect(trigger="COMMAND")

    def next_id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}-{self.n}"

    def so_rows(self) -> list[dict]:
        spec, ssp = self.spec, self.spec["ssp"]
        common = {"tran_type": "SO", "so_num": "K", "so_date": self.start}
        first = self.row(
            **common,
            so_line_id="L-1",
            ord_qty=spec["qty"],
            ext_lst_prc=self.esp,
            ext_sll_prc=self.esp,
            start_date=self.start,
            end_date=self.end,
            rev_method=spec["method"],
            ssp_pct=80 if ssp == "pct" else None,
            ssp_price=7 if ssp == "price" else None,
        )
        partner = self.row(
            **common,
            so_line_id="L-2",
            ord_qty=1,
            ext_lst_prc=500,
            ext_sll_prc=300,
            start_date="2026-01-01",
            end_date="2026-12-31",
            rev_method="RATABLE_MONTHLY",
            ssp_pct=100,
        )
        return [first, partner]

    def bill(self, kind: str, amount: Decimal, **extra) -> dict:
        inv_id = self.next_id(kind)
        return self.row(
            tran_type=kind,
            so_num="K",
            so_line_id=extra.pop("so_line_id", "L-1"),
            inv_num=inv_id,
            inv_line_id=inv_id,
            inv_date="2026-01-15",
            ext_lst_prc=extra.pop("ext_lst_prc", amount),
            ext_sll_prc=amount,
            **extra,
        )

    def within(self, a: float, b: float) -> tuple[date, date]:
        span = (self.end - self.start).days
        first = self.start + timedelta(days=int(a * span))
        last = first + timedelta(days=int(b * (self.end - first).days))
        return first, last

    # --- events ---------------------------------------------------------------------------

    def apply(self, event: tuple) -> bool:
        """Send one event; True when it must be collected (False: nothing sent)."""
        kind = event[0]
        if kind == "CLOSE":
            current = Period.objects.get(status="OPEN").id
            period_close(actor=None, through=period_add(current, event[1] - 1))
            return False
        if kind == "PROFILE":
            profile_set(name="CREATE_RORD_CONTRA_ENTRY", value=event[1], actor=None)
            self.contra = event[1] == "Y"
            return False
        line = SoLine.objects.get(so_line_id="L-1")
        remaining = line.net_sll_prc
        if kind == "HOLD":  # S10: hold, or release a held line
            (so_line_release if line.hold else so_line_hold)(line=line, actor=None)
            hypothesis.event("hold / release")
            return False
        if kind == "DATES":  # S10: new revenue dates
            so_line_dates_change(
                line=line, start=event[1], end=event[1] + timedelta(days=event[2]), actor=None
            )
            return False
        if kind == "INV":
            amount = self.share(self.esp, event[1])
            dates = self.within(event[3], event[4]) if event[2] else (None, None)
            self.stage(
                self.bill(
                    "INV", amount, ord_qty=1, inv_qty=1, start_date=dates[0], end_date=dates[1]
                )
            )
            self.billed += amount
            return True
        if kind == "CM":
            if self.billed <= 0:
                return False
            amount = self.share(self.billed, event[1])
            self.stage(self.bill("CM", -amount, inv_qty=1))
            self.billed -= amount
            return True
        if line.is_returned or remaining <= 0:
            return False  # V10: nothing more to reduce (checked by the rule tests)
        open_period = Period.objects.get(status="OPEN").id
        state = states_load(line_ids=[line.pk], open_period=open_period)[line.pk]
        if kind == "CM-R":
            amount = self.share(remaining, event[1])
            qty = max(1, round(event[2] * self.spec["qty"]))
            dates = self.within(event[4], event[2]) if event[3] else (None, None)
            self.stage(
                self.bill(
                    "CM-R",
                    -amount,
                    inv_qty=qty,
                    ext_lst_prc=None,
                    start_date=dates[0],
                    end_date=dates[1],
                )
            )
            self.billed -= amount
            self.reduced["CM-R"] += amount
            check_placement(line=line, amount=amount, state=state, open_period=open_period)
            hypothesis.event("CM-R full" if amount == remaining else "CM-R partial")
            return True
        if kind == "RORD":
            amount = self.share(remaining, event[1])
            where, a, b = event[2], event[3], event[4]
            if where == "inside":
                start, end = self.within((a.toordinal() % 97) / 96, (b.toordinal() % 89) / 88)
            elif where == "anywhere":
                start, end = min(a, b), max(a, b)
            else:
                start = end = None
            rord_id = self.next_id("R")
            self.stage(
                self.row(
                    tran_type="RORD",
                    so_num="R",
                    so_line_id=rord_id,
                    orig_so_line_id="L-1",
                    so_date=start or "2026-01-15",
                    ord_qty=1,
                    ext_lst_prc=-amount,
                    ext_sll_prc=-amount,
                    start_date=start,
                    end_date=end,
                )
            )
            self.rords.append((rord_id, amount))
            self.reduced["RORD"] += amount
            check_placement(line=line, amount=amount, state=state, open_period=open_period)
            hypothesis.event("RORD full" if amount == remaining else "RORD partial")
            after = SoLine.objects.get(pk=line.pk)
            # P7: with Y the line then carries max(0, net billed − net sell), or what it
            # already carried when that is more (a RORD books only the increment); net
            # sell = SO + RORD + CM-R (a return lowers net sell and net billed alike)
            net_sell = self.esp - self.reduced["RORD"] - self.reduced["CM-R"]
            wanted = max(self.billed - net_sell, ZERO)
            if self.contra:
                assert after.contra_balance == max(wanted, line.contra_balance)
                if wanted > line.contra_balance:
                    hypothesis.event("contra booked")
            else:
                assert after.contra_balance == line.contra_balance
            return True
        if kind == "CM-RO":
            if not self.rords:
                return False
            rord_id, rord_amount = self.rords[-1]
            amount = self.share(rord_amount, event[1])
            self.stage(
                self.bill("CM-RO", -amount, so_line_id=rord_id, orig_so_line_id="L-1", inv_qty=1)
            )
            self.billed -= amount
            after = SoLine.objects.get(pk=line.pk)
            if after.contra_balance < line.contra_balance:
                hypothesis.event("contra reduced by CM-RO")
            if ContraEntry.objects.filter(kind="CONTRA_REVERSAL").exists():
                hypothesis.event("contra reversal")
            return True
        raise AssertionError(kind)


# --- invariants ------------------------------------------------------------------------------


def check_placement(*, line: SoLine, amount: Decimal, state, open_period: int) -> None:
    """P2–P4 for the reduction just collected: ``state`` is the line's schedule before it
    (closed periods summed into the open one), ``amount`` its A."""
    remaining = line.net_sll_prc
    reduction = InboundLine.objects.filter(tran_type__in=["RORD", "CM-R"]).latest("pk")
    rows = list(
        ScheduleRow.objects.filter(inbound_line_id=reduction.pk, kind="REVERSAL").values_list(
            "period", "source", "amount"
        )
    )
    assert all(period >= open_period and value < 0 for period, _, value in rows), rows
    future = -sum((value for period, _, value in rows if period > open_period), ZERO)
    now = -sum((value for period, _, value in rows if period == open_period), ZERO)
    deferred = sum(
        (max(value, ZERO) for (period, _), value in state.amounts.items() if period > open_period),
        ZERO,
    )
    if amount >= remaining:  # P2: every deferred row in its own period, the rest now
        assert (future, now) == (deferred, remaining - deferred)
        assert SoLine.objects.get(pk=line.pk).is_returned
    else:  # P3: deferred first, then recognized in the open period
        assert (future, now) == (min(amount, deferred), amount - min(amount, deferred))
    # P4: a period gives SO-source amount only once its INV-source amount is used up
    after = states_load(line_ids=[line.pk], open_period=open_period)[line.pk]
    for period in {period for period, source, _ in rows if source == "SO"}:
        assert after.get(period, "INV") == 0, (period, dict(after.amounts))


def snapshot(open_period: int):
    """Every entry and row of the closed periods, and every posted entry, as they are."""
    entries = set(
        JournalEntry.objects.filter(period__lt=open_period).values_list(
            "id", "period", "dr_account", "cr_account", "amount", "posted"
        )
    )
    posted = set(JournalEntry.objects.filter(posted=True).values_list("id", "period", "amount"))
    rows = set(
        ScheduleRow.objects.filter(period__lt=open_period).values_list("id", "period", "amount")
    )
    return entries, posted, rows


def check_invariants(scenario: Scenario, before, open_before: int) -> None:
    open_now = Period.objects.get(status="OPEN").id
    # S1: nothing booked into, changed in or removed from a closed period; posted stays
    entries, posted, rows = snapshot(open_before)
    assert entries == before[0], "S1: journal of a closed period changed"
    assert rows == before[2], "S1: schedule of a closed period changed"
    assert before[1] <= posted, "S2: a posted entry changed or disappeared"
    assert not JournalEntry.objects.filter(period__lt=open_now, posted=False).exists()

    # S3: every period balances, per currency; ``nets`` also holds each account's total
    nets = defaultdict(lambda: ZERO)
    for account_field, sign in (("dr_account", 1), ("cr_account", -1)):
        for period, currency, account, total in (
            JournalEntry.objects.values_list("period", "amount_currency", account_field)
            .annotate(total=Sum("amount"))
            .order_by()
        ):
            nets[(period, currency)] += sign * sum_exact(total)
            nets[(currency, account)] += sign * sum_exact(total)
            nets[(period, currency, account)] += sign * sum_exact(total)
    unbalanced = {k: v for k, v in nets.items() if len(k) == 2 and isinstance(k[0], int) and v}
    assert not unbalanced, f"S3: unbalanced {unbalanced}"

    # S5: each period's revenue is what the schedule releases there (reversals negative)
    released = {
        (period, currency): sum_exact(total)
        for period, currency, total in ScheduleRow.objects.filter(held=False)
        .values_list("period", "amount_currency")
        .annotate(total=Sum("amount"))
        .order_by()
    }
    for (period, currency), total in released.items():
        assert -nets[(period, currency, "REVENUE")] == total, f"S5: revenue of {period}"

    lines = {line.so_line_id: line for line in so_lines_with_amounts()}
    line = lines["L-1"]
    net = line.net_sll_prc
    # P2/P3: the schedule's total is the remaining net sell price, never below zero
    assert net >= 0, f"net sell price {net} < 0"
    for so in lines.values():
        recognized, deferred = sum_exact(so.recognized_amount), sum_exact(so.deferred_amount)
        assert recognized + deferred == so.net_sll_prc, so.so_line_id
    # S5, S10: the revenue booked over all periods is what the schedules released (held
    # rows wait), and every schedule adds up to its line's net sell price
    revenue = nets[(scenario.currency, "REVENUE")]
    assert -revenue == sum(released.values(), ZERO)
    totals = defaultdict(lambda: ZERO)
    for line_id, total in (
        ScheduleRow.objects.values_list("line__so_line_id").annotate(t=Sum("amount")).order_by()
    ):
        totals[line_id] = sum_exact(total)
    assert {k: totals[k] for k in lines} == {k: so.net_sll_prc for k, so in lines.items()}
    # S4: AR is what was billed
    assert nets[(scenario.currency, "AR")] == scenario.billed
    # P7/P8: the contra AR balance is the line's outstanding contra, never negative
    contra_ar = nets[(scenario.currency, "CONTRA_AR")]
    assert line.contra_balance >= 0 and -contra_ar == line.contra_balance
    outstanding = sum(
        (c.outstanding for c in ContraEntry.objects.filter(line=line, kind="CONTRA")), ZERO
    )
    assert outstanding == line.contra_balance
    # P3/P4: per period and source (closed periods summed into the open one) a positive
    # line never holds a negative amount; reversals never exceed the line
    state = states_load(line_ids=[line.pk], open_period=open_now)[line.pk]
    assert all(amount >= 0 for amount in state.amounts.values()), dict(state.amounts)
    reversed_total = sum_exact(
        ScheduleRow.objects.filter(line=line, kind="REVERSAL").aggregate(t=Sum("amount"))["t"]
    )
    assert reversed_total >= -line.ext_sll_prc.amount
    assert reversed_total == line.rord_sll_prc + line.cmr_sll_prc
    assert (line.rord_sll_prc, line.cmr_sll_prc) == (
        -scenario.reduced["RORD"],
        -scenario.reduced["CM-R"],
    )
    # A3 / K10: the carves of the contract add up to 0 (a line returned under a prospective
    # reduction keeps the carve it had booked, carve.md K7 step 5), and each allocated line
    # is allocated its net sell price plus its carve
    carved = [so for so in lines.values() if so.carve is not None]
    if carved:
        assert sum(so.carve.amount for so in carved) == 0
    for so in lines.values():
        if so.allocated is not None:
            assert so.carve.amount == so.allocated.amount - so.net_sll_prc
    if line.is_returned:
        assert line.allocated is None and line.ext_ssp is None
    # I9: every line sent was collected exactly once, none stopped by a system error
    assert not InboundLine.objects.exclude(status="COLLECTED").exists(), list(
        InboundLine.objects.exclude(status="COLLECTED").values_list(
            "tran_type", "error_codes", "errors"
        )
    )


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],  # no slow "explain"
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=line_spec, steps=st.lists(events, min_size=1, max_size=8))
@hypothesis.example(  # P7: a return before a RORD lowers net sell too (contra 0.01)
    spec={
        "method": "IMMEDIATE",
        "start": date(2025, 10, 1),
        "days": 0,
        "minor": 2,
        "qty": 2,
        "currency": "USD",
        "ssp": "pct",
        "profile": "Y",
        "invoiced": 0,
    },
    steps=[
        ("INV", 1, False, 0.0, 0.0),
        ("INV", 1, False, 0.0, 0.0),
        ("CM-R", 1, 0.0, False, 0.0),
        ("RORD", 1, "inside", date(2025, 6, 1), date(2025, 6, 1)),
    ],
)
def test_reductions_keep_the_ledger_whole_for_any_sequence_of_events(spec, steps):
    """P1–P9, S1, S3, S5, A3 as properties: after every event the journal balances per
    period and currency, closed periods are untouched, recognized + deferred = net sell
    price ≥ 0, no (period, source) of the line goes negative, reversals never exceed the
    line, revenue booked = schedules, contra AR = outstanding contra, allocations add up."""
    with transaction.atomic():
        period_open(period=FIRST_OPEN, actor=None)
        scenario = Scenario(spec)
        scenario.apply(("PROFILE", spec["profile"]))
        scenario.stage(*scenario.so_rows())
        if spec["invoiced"]:
            scenario.apply(("INV", spec["invoiced"], False, 0, 0))
        try:
            for event in steps:
                open_before = Period.objects.get(status="OPEN").id
                before = snapshot(open_before)
                scenario.apply(event)
                check_invariants(scenario, before, open_before)
        finally:
            transaction.set_rollback(True)
