"""The clarifications of revenue.md that landed with issue 15, one test (or more) per rule:
I3 (a CM-RO stopped with RPRO-00683 is retried once a RORD of its SO line is collected),
V14 (INB-006), P3 (dates in the open or closed periods clip to the first future period),
P5 / P5a (what a CM-R and a CM change), P7 (contra books only the increase) and P8 (a
CM-RO reverses the contra of all the line's RORDs together, unposted first).

SO line L-1 sells 1200 over 2026 (100 a month) unless a test says otherwise.
"""

import pytest

from revenue.models import ContraEntry, InboundLine, JournalEntry, SoLine
from tests.revenue.conftest import D
from tests.revenue.test_reductions import (
    AR,
    CL,
    bill,
    book,
    cm_r,
    cm_ro,
    inv,
    lines,
    reversal_rows,
    rord,
    sched,
    so,
)

CONTRA_AR = "CONTRA_AR"
YEAR = {"start": "2026-01-01", "end": "2026-12-31"}


def cm(line, inv_id, esp, **kw):
    return bill("CM", line, inv_id, esp, **kw)


def staged(kind: str) -> InboundLine:
    return InboundLine.objects.get(tran_type=kind)


def contras() -> list:
    return list(
        ContraEntry.objects.order_by("id").values_list(
            "period", "kind", "amount", "removed", "reversed", "inbound_line__so_line_id"
        )
    )


def contra_journal() -> list:
    return list(
        JournalEntry.objects.filter(entry_type__in=["CONTRA", "CONTRA_REVERSAL"])
        .order_by("period", "id")
        .values_list("period", "entry_type", "dr_account", "cr_account", "amount", "posted")
    )


def balance(line="L-1"):
    return SoLine.objects.get(so_line_id=line).contra_balance


@pytest.fixture
def january(ledger):
    ledger.cmd("revenue_period", "open", "202601")
    return ledger


@pytest.fixture
def billed(january):
    """L-1 for 12 units billed in full, contra profile Y, January open."""
    january.cmd("revenue_profile", "CREATE_RORD_CONTRA_ENTRY", "Y")
    book(january, so("L-1", 1200, qty=12), inv("L-1", "I-1", 1200, qty=12))
    return january


# --- P3 --------------------------------------------------------------------------------------


def test_p3_rord_dates_in_closed_periods_clip_to_first_future_period(january):
    """P3, revenue.md's example: a RORD of −240 over January–December collected with April
    open reverses 30 in each of May–December; nothing in April or before."""
    book(january, so("L-1", 1200))
    january.cmd("revenue_period", "close", "--through", "202603")
    book(january, rord("R-1", "L-1", -240, **YEAR))
    assert reversal_rows() == [(202600 + m, "SO", D(-30)) for m in range(5, 13)]
    assert sched(january) == {
        (202601, "SO"): D(100),
        (202602, "SO"): D(100),
        (202603, "SO"): D(100),
        (202604, "SO"): D(100),
    } | {(202600 + m, "SO"): D(70) for m in range(5, 13)}
    assert [lines(january)["L-1"][k] for k in ("EXT_SLL_PRC", "RECOGNIZED", "DEFERRED")] == [
        "960.00",
        "400.00",
        "560.00",
    ]


def test_p3_a_rord_starting_in_the_open_period_spreads_over_its_future_days_only(january):
    """P3 clipping with RATABLE_DAILY (3650 over 2026, 10 a day): −200 over 1 March – 30 June
    with April open counts May (31 days) and June (30 days): 101.64 and 98.36."""
    book(january, so("D-1", 3650, method="RATABLE_DAILY"))
    january.cmd("revenue_period", "close", "--through", "202603")
    book(january, rord("R-1", "D-1", -200, start="2026-03-01", end="2026-06-30"))
    assert reversal_rows("D-1") == [(202605, "SO", D("-101.64")), (202606, "SO", D("-98.36"))]


# --- P5, P5a ---------------------------------------------------------------------------------


def test_p5_a_cm_r_lowers_net_sell_and_net_billed_alike(billed):
    """P5: a CM-R of −100 for 1 of 12 units takes 100 off the line's net sell price (N) and
    off its net billed: 1100 each, so a RORD of −300 then leaves 1100 − 800 = 300 of contra
    (P7), not the 200 that counting the CM-R on the billed side only would give."""
    book(billed, cm_r("L-1", "CR-1", -100, qty=1))
    line = SoLine.objects.get(so_line_id="L-1")
    assert line.net_sll_prc == D(1100) and line.return_flag == "N"
    assert lines(billed)["L-1"]["EXT_SLL_PRC"] == "1100.00"
    assert billed.nets()[(202601, AR)] == D(1100)
    book(billed, rord("R-1", "L-1", -300, start="2026-10-01", end="2026-12-31"))
    assert contras() == [(202601, "CONTRA", D(300), D(0), D(0), "R-1")]
    assert balance() == D(300)


def test_p5a_a_cm_lowers_net_billed_only_s9_in_reverse(billed):
    """P5a: a CM of −300 dated October–December turns those months' invoice-source 100 back
    into SO source; net sell price, recognized, deferred and every release entry stay as
    they were. It books CL Dr / AR Cr 300 (S4)."""
    releases = list(
        JournalEntry.objects.exclude(entry_type="INITIAL").values_list(
            "period", "entry_type", "dr_account", "cr_account", "amount"
        )
    )
    before = lines(billed)["L-1"]
    book(billed, cm("L-1", "CM-1", -300, start="2026-10-01", end="2026-12-31"))
    assert sched(billed) == {(202600 + m, "INV"): D(100) for m in range(1, 10)} | {
        (202600 + m, "SO"): D(100) for m in range(10, 13)
    }
    assert lines(billed)["L-1"] == before  # net sell 1200, recognized / deferred unchanged
    assert (
        list(
            JournalEntry.objects.exclude(entry_type="INITIAL").values_list(
                "period", "entry_type", "dr_account", "cr_account", "amount"
            )
        )
        == releases
    )
    initial = JournalEntry.objects.get(source_type="CM", entry_type="INITIAL")
    assert (initial.period, initial.dr_account, initial.cr_account) == (202601, CL, AR)
    assert initial.amount.amount == D(300)


def test_p5a_p7_a_cm_lowers_the_net_billed_that_contra_compares(billed):
    """P5a with P7: billed 1200 − 200 (CM) = 1000, sold 1200 − 300 = 900 → contra 100."""
    book(billed, cm("L-1", "CM-1", -200, start="2026-11-01", end="2026-12-31"))
    book(billed, rord("R-1", "L-1", -300, start="2026-10-01", end="2026-12-31"))
    assert contras() == [(202601, "CONTRA", D(100), D(0), D(0), "R-1")]
    assert SoLine.objects.get(so_line_id="L-1").net_sll_prc == D(900)


# --- P7 --------------------------------------------------------------------------------------


def test_p7_contra_books_only_the_increase_over_the_outstanding_contra(billed):
    """P7: contra 300 (R-1), 100 of it removed by a CM-RO (outstanding 200, billed 1100);
    R-2 of −200 makes the formula 1100 − 700 = 400: it books 400 − 200 = 200."""
    book(billed, rord("R-1", "L-1", -300, start="2026-10-01", end="2026-12-31"))
    book(billed, cm_ro("R-1", "L-1", "CRO-1", -100))
    assert balance() == D(200)
    book(billed, rord("R-2", "L-1", -200, start="2026-08-01", end="2026-09-30"))
    assert [c[2] for c in contras()] == [D(300), D(200)]
    assert balance() == D(400)
    assert billed.nets()[(202601, CONTRA_AR)] == D(-400)


def test_p7_a_lower_formula_books_no_decrease(billed):
    """P7: a decrease comes only from a CM-RO. Contra 300; a CM of −250 lowers net billed to
    950; R-2 of −100 gives 950 − 800 = 150 < 300 outstanding: nothing booked, 300 stays."""
    book(billed, rord("R-1", "L-1", -300, start="2026-10-01", end="2026-12-31"))
    book(billed, cm("L-1", "CM-1", -250, start="2026-07-01", end="2026-09-30"))
    book(billed, rord("R-2", "L-1", -100, start="2026-09-01", end="2026-09-30"))
    assert contras() == [(202601, "CONTRA", D(300), D(0), D(0), "R-1")]
    assert balance() == D(300)
    assert contra_journal() == [(202601, "CONTRA", CL, CONTRA_AR, D(300), False)]


# --- P8 --------------------------------------------------------------------------------------


def test_p8_a_cm_ro_reverses_the_contra_of_all_the_line_s_rords_together(billed):
    """P8: contra 300 (R-1) and 200 (R-2), both unposted; the CM-RO of R-1 for 450 removes
    450 of the 500 across both RORDs: 50 outstanding, one CONTRA_AR pair of 50 left."""
    book(billed, rord("R-1", "L-1", -300, start="2026-10-01", end="2026-12-31"))
    book(billed, rord("R-2", "L-1", -200, start="2026-08-01", end="2026-09-30"))
    book(billed, cm_ro("R-1", "L-1", "CRO-1", -450))
    assert balance() == D(50)
    assert sum(rm for _, _, _, rm, _, _ in contras()) == D(450)
    assert [e[4] for e in contra_journal()] == [D(50)]
    assert billed.nets()[(202601, CONTRA_AR)] == D(-50)


def test_p8_unposted_contra_is_removed_before_posted_contra_is_reversed(billed):
    """P8: R-1's contra 300 is posted (January closed), R-2's 200 is booked in February and
    not posted. The CM-RO of R-1 for 250 removes R-2's 200 first, then answers 50 of R-1's
    posted 300 with a CONTRA_REVERSAL in February: 250 outstanding."""
    book(billed, rord("R-1", "L-1", -300, start="2026-10-01", end="2026-12-31"))
    billed.cmd("revenue_period", "close")
    book(billed, rord("R-2", "L-1", -200, start="2026-08-01", end="2026-09-30"))
    book(billed, cm_ro("R-1", "L-1", "CRO-1", -250, day="2026-02-10"))
    assert contras() == [
        (202601, "CONTRA", D(300), D(0), D(50), "R-1"),
        (202602, "CONTRA", D(200), D(200), D(0), "R-2"),
        (202602, "CONTRA_REVERSAL", D(50), D(0), D(0), "R-1"),
    ]
    assert contra_journal() == [
        (202601, "CONTRA", CL, CONTRA_AR, D(300), True),
        (202602, "CONTRA_REVERSAL", CONTRA_AR, CL, D(50), False),
    ]
    assert balance() == D(250)
    assert billed.nets()[(202602, CONTRA_AR)] == D(50)


# --- I3, V11 ---------------------------------------------------------------------------------


def test_i3_a_cm_ro_stopped_with_rpro_00683_is_retried_once_a_rord_is_collected(billed):
    """I3 / V11: a CM-RO that arrives before any RORD of its SO line is stopped with
    RPRO-00683 and is not retried while there is none; the run that collects a RORD of the
    line collects it too (contra 300, then removed by the CM-RO)."""
    assert book(billed, cm_ro("R-1", "L-1", "CRO-1", -300)) == "collected 0, stopped 1, waiting 0"
    assert staged("CM-RO").error_codes == "RPRO-00683"
    assert billed.collect().strip() == "collected 0, stopped 0, waiting 0"
    assert staged("CM-RO").status == "ERROR"
    assert book(billed, rord("R-1", "L-1", -300, start="2026-10-01", end="2026-12-31")) == (
        "collected 2, stopped 0, waiting 0"
    )
    assert staged("CM-RO").status == "COLLECTED"
    assert contras() == [(202601, "CONTRA", D(300), D(300), D(0), "R-1")]
    assert balance() == 0 and billed.nets()[(202601, AR)] == D(900)


def test_i3_a_cm_ro_is_retried_when_its_stopped_rord_is_collected_after_review(january):
    """I3: the RORD itself was stopped (V6, its end after the SO line's); once reviewed
    (I5) it is collected, and so is the CM-RO that was waiting for it with RPRO-00683."""
    book(january, so("L-1", 1200))
    january.cmd("revenue_rule", "RPRO-00353", "--enable")
    late = rord("R-1", "L-1", -300, start="2026-10-01", end="2027-01-31")
    assert book(january, late, cm_ro("R-1", "L-1", "CRO-1", -300)) == (
        "collected 0, stopped 2, waiting 0"
    )
    assert [staged(k).error_codes for k in ("RORD", "CM-RO")] == ["RPRO-00353", "RPRO-00683"]
    january.cmd("revenue_review", str(staged("RORD").pk))
    assert january.collect().strip() == "collected 2, stopped 0, waiting 0"


def test_i3_a_cm_ro_of_another_line_s_rord_is_not_retried(january):
    """I3: only a collected RORD of the CM-RO's own SO line makes it due again."""
    book(january, so("L-1", 1200), so("L-2", 600))
    book(january, cm_ro("R-1", "L-1", "CRO-1", -300))
    assert book(january, rord("R-2", "L-2", -100, start="2026-12-01", end="2026-12-31")) == (
        "collected 1, stopped 0, waiting 0"
    )
    assert staged("CM-RO").status == "ERROR"


# --- V14 -------------------------------------------------------------------------------------


def test_v14_rord_quantity_above_the_quantity_net_of_returns_is_stopped(billed):
    """V14 INB-006: 12 ordered, 2 returned (CM-R): a RORD for 11 is stopped naming ORD_QTY;
    one for 10 is collected."""
    book(billed, cm_r("L-1", "CR-1", -200, qty=2))
    assert book(billed, rord("R-1", "L-1", -100, qty=11, start="2026-12-01", end="2026-12-31")) == (
        "collected 0, stopped 1, waiting 0"
    )
    stopped = staged("RORD")
    assert stopped.error_codes == "INB-006"
    (error,) = stopped.errors
    assert error["field"] == "ORD_QTY" and error["rule"] == "V14"
    assert error["message"].endswith(": 11 > 10 (12 ordered, 2 returned)")
    assert book(billed, rord("R-2", "L-1", -100, qty=10, start="2026-12-01", end="2026-12-31")) == (
        "collected 1, stopped 0, waiting 0"
    )


def test_v14_can_be_switched_off(billed):
    """V14 is on by default and can be disabled; its stopped lines are then retried."""
    book(billed, rord("R-1", "L-1", -100, qty=13, start="2026-12-01", end="2026-12-31"))
    assert staged("RORD").error_codes == "INB-006"
    billed.cmd("revenue_rule", "INB-006", "--disable")
    assert billed.collect().strip() == "collected 1, stopped 0, waiting 0"


@pytest.mark.django_db
def test_v14_reaches_a_registry_seeded_before_it_and_leaves_choices_alone():
    """V14: a database migrated before INB-006 existed gets the rule (on, its defaults)
    from migration 0011; a rule an accountant switched off stays off."""
    from importlib import import_module

    from django.apps import apps

    from revenue.models import ValidationRule

    ValidationRule.objects.filter(code="INB-006").delete()
    ValidationRule.objects.filter(code="RPRO-00357").update(enabled=False)
    import_module("revenue.migrations.0011_registry_v14").seed_missing(apps, None)
    v14 = ValidationRule.objects.get(code="INB-006")
    assert (v14.rule, v14.enabled, v14.default_enabled, v14.line_types) == (
        "V14",
        True,
        True,
        "RORD",
    )
    assert ValidationRule.objects.get(code="RPRO-00357").enabled is False
