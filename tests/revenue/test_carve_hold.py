"""K3 with S10: a held line releases no carve until released, also a free line (N = 0,
K2's weights), and the close checklist's K10 liability check waits for the release."""

import json
from decimal import Decimal

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
