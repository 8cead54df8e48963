"""K3 with S10: a held line releases no carve until released, also a free line (N = 0,
K2's weights), and the close checklist's K10 liability check waits for the release. A held
free line's share stops at the last period it released in before its hold
(``SoLine.hold_period``), as a held paid line's R(p) does (K2, K7 steps 2 and 6)."""

import json
from datetime import date
from decimal import Decimal

from revenue.models import SoLine
from revenue.services.carve.targets import Form, LineCarve, prospective_place
from tests.revenue.test_carve_vectors import carve_rows

FREE = """
TRAN_TYPE,SO_NUM,SO_LINE_ID,SO_DATE,ITEM,ORD_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,START_DATE,END_DATE,REV_METHOD,SSP_PCT
SO,F1,F1-1,2026-01-01,License,1,1200,1200,USD,USD,2026-01-01,2026-01-01,IMMEDIATE,100
SO,F1,F1-2,2026-01-01,Support,1,1200,0,USD,USD,2026-01-01,2026-12-31,RATABLE_MONTHLY,100
"""


def checks(ledger) -> dict:
    data = json.loads(ledger.cmd("revenue_report", "checklist", "--format", "json"))
    return {row["check"]: row["count"] for row in data["rows"]}


def free_line_carve(ledger) -> dict[int, Decimal]:
    return {p: a for (line, p), a in carve_rows(ledger).items() if line == "F1-2"}


def test_k3_a_held_free_line_books_no_carve_across_closes_and_catches_up_on_release(ledger):
    """K2 (N = 0: S6's weights), K3, S10: 600 of carve over 12 months; held in April with
    Jan–Mar closed it keeps the 150 booked, books nothing while closes pass, and its
    release catches up in the open period."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(FREE)
    ledger.collect()
    assert free_line_carve(ledger) == {202600 + m: Decimal(50) for m in range(1, 13)}
    ledger.cmd("revenue_period", "close", "--through", "202603")
    ledger.cmd("revenue_line", "hold", "F1-2")
    assert free_line_carve(ledger) == {202600 + m: Decimal(50) for m in (1, 2, 3)}
    assert checks(ledger)["carve_liability"] == 0  # not released: no warning
    ledger.cmd("revenue_period", "close", "--force", "--reason", "hold over the close")
    ledger.cmd("revenue_period", "close", "--force", "--reason", "hold over the close")
    assert sum(free_line_carve(ledger).values()) == Decimal(150)  # nothing while held
    ledger.cmd("revenue_line", "release", "F1-2")
    after = free_line_carve(ledger)
    assert after[202606] == Decimal(150)  # April–June caught up in the open period
    assert all(after[202600 + m] == Decimal(50) for m in range(7, 13))
    assert sum(after.values()) == Decimal(600)
    assert checks(ledger)["carve_booked"] == 0


def free_line(*, hold: bool, hold_through: int | None, booked: dict[int, int]) -> LineCarve:
    """A free line (N = 0) over Jan–Dec 2026, monthly (W≤p / W = months / 12), Ext SSP
    1200.00, C 500.00; minor units."""
    return LineCarve(
        pk=1,
        so_line_id="F-1",
        currency="USD",
        carve=50000,
        net=0,
        returned=False,
        hold=hold,
        hold_through=hold_through,
        residual=0,
        method="RATABLE_MONTHLY",
        rev_start=date(2026, 1, 1),
        rev_end=date(2026, 12, 31),
        ext_ssp_of=lambda: 120000,
        booked=booked,
    )


def test_k2_k7_a_held_free_line_shares_stop_at_its_last_release_before_the_hold():
    """K2 (N = 0: "S6's share W≤p / W … with held rows excluded as for any line"), K7 steps
    2 and 6, pure arithmetic: held with 202604 open (h = 202603), the line's share is
    frozen at W≤min(p, h) / W = 3/12 for every p while its target follows C; held in the
    period it came into the ledger (h none) it is 0."""
    retro = Form(prospective=False, since=None, closed=202605)
    held = free_line(hold=True, hold_through=202603, booked={})
    assert [retro.target(held, p) for p in (202602, 202603, 202604, 202612)] == [
        8333,  # round(50000 × 2/12)
        12500,  # round(50000 × 3/12): 125.00 of C 500.00
        12500,
        12500,
    ]
    assert retro.target(free_line(hold=False, hold_through=None, booked={}), 202606) == 25000
    assert retro.target(free_line(hold=True, hold_through=None, booked={}), 202612) == 0

    # K7 step 6 from P = 202602: B = 80.00 booked through it; 2/12 done, 1/12 more
    # released before the hold: T = B + round((C − B) × (3/12 − 2/12) / (1 − 2/12))
    booked = {202601: 4000, 202602: 4000}
    pro = Form(prospective=True, since=202602, closed=202605)
    line = free_line(hold=True, hold_through=202603, booked=booked)
    assert [pro.target(line, p) for p in (202602, 202603, 202605, 202612)] == [
        8000,
        12200,  # 8000 + round(42000 × (1/12) / (10/12))
        12200,
        12200,
    ]
    released = free_line(hold=False, hold_through=None, booked=booked)
    assert pro.target(released, 202605) == 8000 + 42000 * 3 // 10

    # K7 step 2 at P = 202606: s = ExtSSP × (W − W≤min(P, h)) / W = 1200.00 × 9/12 = 900.00,
    # not the 600.00 of W≤P; with a paid line (N 1100.00, R(P) 600.00, s 500.00, B −300.00)
    # X = 500.00 − (120.00 − 300.00) = 680.00 is placed 900 : 500
    frozen = {202601: 4000, 202602: 4000, 202603: 4000}
    free = free_line(hold=True, hold_through=202603, booked=frozen)
    paid = LineCarve(
        pk=2,
        so_line_id="F-2",
        currency="USD",
        carve=-30000,
        net=110000,
        returned=False,
        hold=False,
        residual=0,
        method="RATABLE_MONTHLY",
        rev_start=date(2026, 1, 1),
        rev_end=date(2026, 11, 30),
        ext_ssp_of=lambda: 110000,
        released={202606: 60000},
        booked={202606: -30000},
    )
    placed = prospective_place([free, paid], closed=202606, changed=2)
    # alloc F = round(68000 × 90000 / 140000) = 43714: C_F = 12000 + 43714 − 0
    assert placed.carve == {1: 55714, 2: -55714}
    assert placed.residual == {}


def test_k2_a_free_line_held_in_the_period_it_came_in_released_nothing(ledger):
    """K2, K3, S8, S10: a free line dated from October 2025 comes into the ledger with
    202601 open, so its carve for Oct–Dec is a catch-up in 202601 with January's; held in
    202601 it has released nothing (the hold takes all of 202601 back, as it reverses and
    holds a paid line's catch-up rows there), and it books nothing while C changes."""
    backdated = FREE.replace("2026-01-01,2026-12-31", "2025-10-01,2026-09-30")
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(backdated)
    ledger.collect()
    assert free_line_carve(ledger) == {
        202601: Decimal(200),  # 600 × 4/12
        **{202600 + m: Decimal(50) for m in range(2, 10)},
    }
    ledger.cmd("revenue_line", "hold", "F1-2")
    assert SoLine.objects.get(so_line_id="F1-2").hold_period == 202601
    assert free_line_carve(ledger) == {}
    ledger.cmd("revenue_period", "close", "--force", "--reason", "hold over the close")
    ledger.stage(backdated.replace(",1200,1200,USD", ",1200,300,USD"))  # F1-1 300: C 150
    ledger.collect()
    assert free_line_carve(ledger) == {}
    ledger.cmd("revenue_line", "release", "F1-2")
    assert SoLine.objects.get(so_line_id="F1-2").hold_period is None
    after = free_line_carve(ledger)
    assert after[202602] == Decimal("62.50")  # 150 × 5/12 (Oct–Feb), caught up
    assert sum(after.values()) == Decimal(150)


def test_k2_a_free_line_held_again_in_the_period_of_its_release_keeps_its_first_share(ledger):
    """K2, K3, S10: held in April (Jan–Mar closed: 150 of 600 kept), released in June (the
    catch-up of April–June, 150, in June) and held again in June: the new hold takes June's
    release back, as it does a paid line's rows, so the line keeps its share through March
    and records the April hold's period."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(FREE)
    ledger.collect()
    ledger.cmd("revenue_period", "close", "--through", "202603")
    ledger.cmd("revenue_line", "hold", "F1-2")
    for _ in range(2):
        ledger.cmd("revenue_period", "close", "--force", "--reason", "hold over the close")
    ledger.cmd("revenue_line", "release", "F1-2")
    assert free_line_carve(ledger)[202606] == Decimal(150)
    ledger.cmd("revenue_line", "hold", "F1-2")
    assert SoLine.objects.get(so_line_id="F1-2").hold_period == 202604
    assert free_line_carve(ledger) == {202600 + m: Decimal(50) for m in (1, 2, 3)}


def test_migration_0020_gives_held_lines_the_period_of_their_hold(ledger):
    """The data step of ``0021_soline_hold_period`` for lines held before the field: the
    period open when their last hold was audited, else the open period."""
    from importlib import import_module

    from django.apps import apps

    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(FREE)
    ledger.collect()
    ledger.cmd("revenue_period", "close", "--through", "202603")
    ledger.cmd("revenue_line", "hold", "F1-2")
    for _ in range(2):
        ledger.cmd("revenue_period", "close", "--force", "--reason", "hold over the close")
    SoLine.objects.filter(so_line_id="F1-2").update(hold_period=None)
    SoLine.objects.filter(so_line_id="F1-1").update(hold=True)  # held without an audit event
    import_module("revenue.migrations.0021_soline_hold_period").hold_periods_fill(apps, None)
    assert dict(SoLine.objects.values_list("so_line_id", "hold_period")) == {
        "F1-1": 202606,
        "F1-2": 202604,
    }
