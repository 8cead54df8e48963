"""A1–A4: revenue contracts, Ext SSP, allocation and carve, through the commands."""

import re
from datetime import date
from fractions import Fraction

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from revenue.models import RevenueContract, SoLine
from revenue.services.splits import term_months
from tests.revenue.conftest import D
from tests.revenue.test_reductions import book, cm_r, lines, rord, so

ALLOCATION = ("EXT_SSP", "ALLOCATED", "CARVE")


def allocation(ledger) -> dict:
    return {line: tuple(row[k] for k in ALLOCATION) for line, row in lines(ledger).items()}


# --- A1 --------------------------------------------------------------------------------------


def test_a1_lines_are_grouped_by_rc_key_else_by_so_num(ledger):
    """A1: no RC_KEY → the contract is the SO_NUM; RC_KEY groups lines of different orders."""
    ledger.cmd("revenue_period", "open", "202601")
    book(
        ledger,
        so("A-1", 100, ssp_pct=100),
        so("A-2", 100, ssp_pct=100),
        so("B-1", 300, elp=100, rc_key="DEAL", ssp_pct=100),
        so("C-1", 100, elp=200, rc_key="DEAL", ssp_pct=100),
    )
    assert {line: row["RC_KEY"] for line, row in lines(ledger).items()} == {
        "A-1": "A",
        "A-2": "A",
        "B-1": "DEAL",
        "C-1": "DEAL",
    }
    assert set(RevenueContract.objects.values_list("rc_key", flat=True)) == {"A", "DEAL"}
    # one pool per contract: DEAL's 400 is spread 1 : 2 over B-1 and C-1
    assert allocation(ledger) == {
        "A-1": ("100.00", "100.00", "0.00"),
        "A-2": ("100.00", "100.00", "0.00"),
        "B-1": ("100.00", "133.33", "-166.67"),
        "C-1": ("200.00", "266.67", "166.67"),
    }


# --- A2 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, end, months",
    [
        (date(2026, 1, 1), date(2026, 12, 31), 12),
        (date(2026, 3, 5), date(2026, 3, 5), 1),  # one day: at least 1
        (date(2026, 1, 1), date(2026, 2, 14), Fraction(3, 2)),  # Feb: 14 / 28
        (date(2026, 1, 15), date(2026, 2, 14), 1),
        (date(2026, 1, 1), date(2026, 1, 15), 1),  # 15 / 31, raised to 1
        (date(2024, 1, 1), date(2024, 2, 29), 2),  # leap February is whole
        (date(2026, 10, 1), date(2026, 12, 31), 3),
    ],
)
def test_a2_term_months(start, end, months):
    """A2: months from start to end + 1 day, a partial month as days / days in month, ≥ 1."""
    assert term_months(start, end) == months


def test_a2_ext_ssp_from_a_percentage_of_the_net_list_price(ledger):
    """A2: SSP_PCT 80 % of ELP 1000 = 800; a RORD with ELP −250 leaves 80 % of 750 = 600."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 900, elp=1000, ssp_pct=80))
    assert allocation(ledger)["L-1"] == ("800.00", "900.00", "0.00")
    book(ledger, rord("R-1", "L-1", -225, elp=-250, start="2026-10-01", end="2026-12-31"))
    assert allocation(ledger)["L-1"] == ("600.00", "675.00", "0.00")


def test_a2_ext_ssp_from_a_price_times_quantity_times_term_months(ledger):
    """A2: SSP_PRICE × ORD_QTY × term months: 10 × 2 × 12 = 240 for a calendar year;
    10 × 1 × 1 for a one-day line; 10 × 1 × 1.5 for 1 Jan – 14 Feb."""
    ledger.cmd("revenue_period", "open", "202601")
    book(
        ledger,
        so("Y-1", 100, qty=2, ssp_price=10),
        so("O-1", 100, start="2026-03-05", end="2026-03-05", method="IMMEDIATE", ssp_price=10),
        so("P-1", 100, start="2026-01-01", end="2026-02-14", ssp_price=10),
    )
    ssp = {line: values[0] for line, values in allocation(ledger).items()}
    assert ssp == {"Y-1": "240.00", "O-1": "10.00", "P-1": "15.00"}


def test_a2_a_rord_s_term_comes_off_the_line_s_term(ledger):
    """A2: a 12-month line reduced by Oct–Dec has net term 9: SSP_PRICE 100 × 1 × 9 = 900;
    with quantity 4 reduced by 1 unit for Oct–Dec: 100 × (48 − 3) = 4500."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200, ssp_price=100), so("M-1", 4800, qty=4, ssp_price=100))
    assert allocation(ledger)["L-1"][0] == "1200.00"
    book(
        ledger,
        rord("R-1", "L-1", -300, start="2026-10-01", end="2026-12-31"),
        rord("S-1", "M-1", -300, start="2026-10-01", end="2026-12-31", qty=1),
    )
    assert allocation(ledger)["L-1"] == ("900.00", "900.00", "0.00")
    assert allocation(ledger)["M-1"] == ("4500.00", "4500.00", "0.00")


# --- A3 --------------------------------------------------------------------------------------

EQUAL = [
    so("K-1", 50, elp=100, ssp_pct=50),
    so("K-2", 30, elp=100, ssp_pct=50),
    so("K-3", 20, elp=100, ssp_pct=50),
]


def test_a3_allocations_add_up_to_the_contract_s_esp_with_cumulative_rounding(ledger):
    """A3: 100 over three equal SSPs: 33.33 / 33.34 / 33.33 (cumulative rounding), Σ = 100;
    carve = allocated − ESP: −16.67, 3.34, 13.33 (Σ = 0)."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, *EQUAL)
    assert allocation(ledger) == {
        "K-1": ("50.00", "33.33", "-16.67"),
        "K-2": ("50.00", "33.34", "3.34"),
        "K-3": ("50.00", "33.33", "13.33"),
    }


def test_a3_a_returned_line_is_left_out_of_the_pool(ledger):
    """A3, P2: K-3 fully reduced: the 80 left is spread over K-1 and K-2 only."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, *EQUAL)
    book(ledger, rord("R-3", "K-3", -20, start="2026-01-01", end="2026-12-31"))
    assert allocation(ledger) == {
        "K-1": ("50.00", "40.00", "-10.00"),
        "K-2": ("50.00", "40.00", "10.00"),
        "K-3": ("", "", ""),
    }


def test_a3_the_allocation_does_not_depend_on_which_line_changed(ledger):
    """A3: recomputing a contract after a change to one line that leaves the pool as it
    was (an SO update of the item name) gives every line the same allocation, cents
    included: the rounding order is the lines' order, not the batch's."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, *EQUAL)
    before = allocation(ledger)
    book(ledger, so("K-3", 20, elp=100, ssp_pct=50).replace(",Item,", ",Renamed,"))
    assert SoLine.objects.get(so_line_id="K-3").item == "Renamed"
    assert allocation(ledger) == before
    book(ledger, so("K-2", 30, elp=100, ssp_pct=50).replace(",Item,", ",Renamed,"))
    assert allocation(ledger) == before


def test_a3_lines_without_ssp_show_no_allocation_and_stay_out(ledger):
    """A3: a line with neither SSP_PCT nor SSP_PRICE is not allocated; the others share
    their own ESP."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("K-1", 100, ssp_pct=100), so("K-2", 300, elp=300, ssp_pct=100), so("K-3", 50))
    assert allocation(ledger) == {
        "K-1": ("100.00", "100.00", "0.00"),
        "K-2": ("300.00", "300.00", "0.00"),
        "K-3": ("", "", ""),
    }


# --- A4 --------------------------------------------------------------------------------------


def test_a4_allocation_follows_new_lines_updates_rords_and_returns(ledger):
    """A4: contract K reallocated after each change, with exact figures:
    K-1 600 (SSP 60 % of 1000 = 600), K-2 300 (SSP 5 × 12 × 12 = 720)."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("K-1", 600, elp=1000, ssp_pct=60), so("K-2", 300, qty=12, ssp_price=5))
    assert allocation(ledger) == {
        "K-1": ("600.00", "409.09", "-190.91"),
        "K-2": ("720.00", "490.91", "190.91"),
    }
    # a new line: K-3 100, SSP 80 % of 100
    book(
        ledger,
        so("K-3", 100, start="2026-01-20", end="2026-01-20", method="IMMEDIATE", ssp_pct=80),
    )
    assert allocation(ledger) == {
        "K-1": ("600.00", "428.57", "-171.43"),
        "K-2": ("720.00", "514.29", "214.29"),
        "K-3": ("80.00", "57.14", "-42.86"),
    }
    # an SO update: K-1 sells 700
    book(ledger, so("K-1", 700, elp=1000, ssp_pct=60))
    assert allocation(ledger) == {
        "K-1": ("600.00", "471.43", "-228.57"),
        "K-2": ("720.00", "565.71", "265.71"),
        "K-3": ("80.00", "62.86", "-37.14"),
    }
    # a RORD: K-1 −350 (ELP −500): net 350, SSP 60 % of 500
    book(ledger, rord("R-1", "K-1", -350, elp=-500, start="2026-07-01", end="2026-12-31"))
    assert allocation(ledger) == {
        "K-1": ("300.00", "204.55", "-145.45"),
        "K-2": ("720.00", "490.90", "190.90"),
        "K-3": ("80.00", "54.55", "-45.45"),
    }
    # a CM-R: 6 of K-2's 12 units back (−150): SSP 5 × (144 − 6 × 12) = 360
    book(ledger, cm_r("K-2", "CR-1", -150, qty=6))
    assert allocation(ledger) == {
        "K-1": ("300.00", "243.24", "-106.76"),
        "K-2": ("360.00", "291.90", "141.90"),
        "K-3": ("80.00", "64.86", "-35.14"),
    }
    esp = {line: D(row["EXT_SLL_PRC"]) for line, row in lines(ledger).items()}
    assert esp == {"K-1": D(350), "K-2": D(150), "K-3": D(100)}
    assert sum(D(values[1]) for values in allocation(ledger).values()) == D(600)


def test_a4_reads_the_other_lines_of_a_changed_contract_once_with_what_it_needs(ledger):
    """A4: a batch that changes one line of a contract reads the contract's other lines in
    one query, with the columns A2–A3 and the carve step (K1–K7) read and write only, and
    never one line at a time (a column it left out, read later, would cost a query per
    line)."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, *(so(f"K-{i}", 100 * i, elp=100 * i, ssp_pct=50) for i in range(1, 7)))
    with CaptureQueriesContext(connection) as queries:
        book(ledger, so("K-7", 700, elp=700, ssp_pct=50))
    so_reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and 'FROM "revenue_soline"' in q["sql"]
    ]
    others = [sql for sql in so_reads if '"revenue_soline"."contract_id"' in sql.split("WHERE")[1]]
    # A4 reads them once, with what carve's step reads too (carve.md K1's scope and its
    # targets, after the batch's writes): neither reads the contract again
    assert len(others) == 1, others
    assert '"revenue_soline"."customer"' not in others[0]
    assert '"revenue_soline"."ext_ssp"' in others[0]
    assert '"revenue_soline"."carve_residual"' in others[0]
    assert not [sql for sql in so_reads if re.search(r'WHERE "revenue_soline"."id" = \d', sql)]
    # every line reallocated: Σ ESP 2,800 over SSP 50 % of each list price (A3)
    assert {line: values[1] for line, values in allocation(ledger).items()} == {
        f"K-{i}": f"{100 * i}.00" for i in range(1, 8)
    }
