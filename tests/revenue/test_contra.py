"""P6–P9: contra AR for reduction orders, driven through the management commands.

SO line L-1 sells 1200 over 2026 (100 a month); the open period is January unless a test
closes it. RV1 (tests/revenue/test_vectors.py) covers the vendor's example; these cover
the formula's edges, the increment, partial and posted removals.
"""

import pytest
from django.core.management import CommandError, call_command

from revenue.models import ContraEntry, JournalEntry, ProfileSetting, SoLine
from revenue.services.settings import profile_get
from tests.revenue.conftest import D
from tests.revenue.test_reductions import AR, CL, REV, book, cm_ro, inv, rord, so

CONTRA_AR = "CONTRA_AR"
Q4 = {"start": "2026-10-01", "end": "2026-12-31"}


def contra_journal() -> list:
    return list(
        JournalEntry.objects.filter(entry_type__in=["CONTRA", "CONTRA_REVERSAL"])
        .order_by("id")
        .values_list("period", "entry_type", "dr_account", "cr_account", "amount", "posted")
    )


def contras() -> list:
    return list(
        ContraEntry.objects.order_by("id").values_list(
            "period", "kind", "amount", "removed", "reversed", "inbound_line__so_line_id"
        )
    )


def balance(line="L-1"):
    return SoLine.objects.get(so_line_id=line).contra_balance


@pytest.fixture
def billed(ledger):
    """L-1 billed in full, contra profile Y."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.cmd("revenue_profile", "CREATE_RORD_CONTRA_ENTRY", "Y")
    book(ledger, so("L-1", 1200, qty=12), inv("L-1", "I-1", 1200, qty=12))
    return ledger


# --- P6 --------------------------------------------------------------------------------------


def test_p6_contra_profile_defaults_to_n_and_then_books_no_contra(ledger):
    """P6: CREATE_RORD_CONTRA_ENTRY is N out of the box; a RORD on an over-billed line then
    books no contra (P7 with N)."""
    setting = ProfileSetting.objects.get(name="CREATE_RORD_CONTRA_ENTRY")
    assert (setting.value, setting.default) == ("N", "N")
    assert profile_get("CREATE_RORD_CONTRA_ENTRY") == "N"
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200), inv("L-1", "I-1", 1200))
    book(ledger, rord("R-1", "L-1", -300, **Q4))
    assert contra_journal() == [] and not ContraEntry.objects.exists() and balance() == 0
    assert all(account != CONTRA_AR for _, account in ledger.nets())


def test_p6_the_profile_command_refuses_a_bad_value_with_exit_code_2(ledger):
    """P6: only Y or N; a bad value exits 2 with a message naming the setting and the
    allowed values, and changes nothing. y is taken as Y."""
    with pytest.raises(CommandError) as refused:
        call_command("revenue_profile", "CREATE_RORD_CONTRA_ENTRY", "X")
    assert refused.value.returncode == 2
    assert str(refused.value) == "CREATE_RORD_CONTRA_ENTRY must be one of Y, N [P6]"
    assert profile_get("CREATE_RORD_CONTRA_ENTRY") == "N"
    with pytest.raises(CommandError, match="unknown profile setting 'NO_SUCH'") as unknown:
        call_command("revenue_profile", "NO_SUCH", "Y")
    assert unknown.value.returncode == 2
    assert ledger.cmd("revenue_profile", "CREATE_RORD_CONTRA_ENTRY", "y").strip() == (
        "CREATE_RORD_CONTRA_ENTRY = Y"
    )
    assert profile_get("CREATE_RORD_CONTRA_ENTRY") == "Y"


# --- P7 --------------------------------------------------------------------------------------


def test_p7_contra_is_net_billed_less_net_sell_as_cl_dr_contra_ar_cr(billed):
    """P7: billed 1200, sold 1200 − 300 = 900 → contra 300 in the open period."""
    book(billed, rord("R-1", "L-1", -300, **Q4))
    assert contra_journal() == [(202601, "CONTRA", CL, CONTRA_AR, D(300), False)]
    assert contras() == [(202601, "CONTRA", D(300), D(0), D(0), "R-1")]
    assert balance() == D(300)
    nets = billed.nets(period_to=202601)
    assert nets == {
        (202601, AR): D(1200),
        (202601, CL): D(-1200 + 100 + 300),
        (202601, REV): D(-100),
        (202601, CONTRA_AR): D(-300),
    }


@pytest.mark.parametrize("invoiced", [600, 900])
def test_p7_no_contra_when_net_billed_is_not_above_net_sell(ledger, invoiced):
    """P7: max(0, billed − sell): billed 600 or 900 against sold 900 → no contra at all."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.cmd("revenue_profile", "CREATE_RORD_CONTRA_ENTRY", "Y")
    book(ledger, so("L-1", 1200), inv("L-1", "I-1", invoiced))
    book(ledger, rord("R-1", "L-1", -300, **Q4))
    assert contra_journal() == [] and not ContraEntry.objects.exists() and balance() == 0


def test_p7_a_second_rord_books_only_the_increment(billed):
    """P7: after 300 of contra, a second RORD of 200 makes it 1200 − 700 = 500: it books
    the 200 more, not 500."""
    book(billed, rord("R-1", "L-1", -300, **Q4))
    book(billed, rord("R-2", "L-1", -200, start="2026-08-01", end="2026-09-30"))
    assert [c[:3] + c[5:] for c in contras()] == [
        (202601, "CONTRA", D(300), "R-1"),
        (202601, "CONTRA", D(200), "R-2"),
    ]
    assert [e[4] for e in contra_journal()] == [D(300), D(200)]
    assert balance() == D(500)
    assert billed.nets()[(202601, CONTRA_AR)] == D(-500)


def test_p7_billing_that_arrives_after_a_rord_counts_at_the_next_rord(ledger):
    """P7: billed 600 vs sold 900 → none; 600 more billed (1200), then a RORD of 100:
    sold 800 → contra 400 (the whole difference, none was booked before)."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.cmd("revenue_profile", "CREATE_RORD_CONTRA_ENTRY", "Y")
    book(ledger, so("L-1", 1200), inv("L-1", "I-1", 600))
    book(ledger, rord("R-1", "L-1", -300, **Q4))
    assert not ContraEntry.objects.exists()
    book(ledger, inv("L-1", "I-2", 600))
    book(ledger, rord("R-2", "L-1", -100, start="2026-09-01", end="2026-09-30"))
    assert [c[2] for c in contras()] == [D(400)] and balance() == D(400)


# --- P8 --------------------------------------------------------------------------------------


def test_p8_a_partial_cm_ro_shrinks_the_unposted_contra_then_a_second_removes_it(billed):
    """P8: contra 300 not posted; CM-RO 100 leaves 200 (its journal pair shrinks), CM-RO
    200 more removes it (no CONTRA_AR left); each CM-RO books CL Dr / AR Cr (S4)."""
    book(billed, rord("R-1", "L-1", -300, **Q4))
    book(billed, cm_ro("R-1", "L-1", "CRO-1", -100))
    assert contras() == [(202601, "CONTRA", D(300), D(100), D(0), "R-1")]
    assert contra_journal() == [(202601, "CONTRA", CL, CONTRA_AR, D(200), False)]
    assert balance() == D(200)
    assert billed.nets(period_to=202601) == {
        (202601, AR): D(1100),
        (202601, CL): D(-1200 + 100 + 200 + 100),
        (202601, REV): D(-100),
        (202601, CONTRA_AR): D(-200),
    }
    initial = JournalEntry.objects.get(source_type="CM-RO", entry_type="INITIAL")
    assert (initial.dr_account, initial.cr_account, initial.amount.amount) == (CL, AR, D(100))

    book(billed, cm_ro("R-1", "L-1", "CRO-2", -200))
    assert contras() == [(202601, "CONTRA", D(300), D(300), D(0), "R-1")]
    assert contra_journal() == [] and balance() == 0
    assert (202601, CONTRA_AR) not in billed.nets()


def test_p8_a_posted_contra_is_answered_by_a_contra_reversal_in_the_open_period(billed):
    """P8: contra 300 booked in January and posted by closing it; the CM-RO in February
    books CONTRA_REVERSAL Contra AR Dr / CL Cr 300 there: two contra entries."""
    book(billed, rord("R-1", "L-1", -300, **Q4))
    billed.cmd("revenue_period", "close")
    assert contra_journal() == [(202601, "CONTRA", CL, CONTRA_AR, D(300), True)]
    book(billed, cm_ro("R-1", "L-1", "CRO-1", -300, day="2026-02-10"))
    assert contra_journal() == [
        (202601, "CONTRA", CL, CONTRA_AR, D(300), True),
        (202602, "CONTRA_REVERSAL", CONTRA_AR, CL, D(300), False),
    ]
    assert ContraEntry.objects.count() == 2
    assert contras() == [
        (202601, "CONTRA", D(300), D(0), D(300), "R-1"),
        (202602, "CONTRA_REVERSAL", D(300), D(0), D(0), "R-1"),
    ]
    reversal = ContraEntry.objects.get(kind="CONTRA_REVERSAL")
    assert reversal.reverses == ContraEntry.objects.get(kind="CONTRA")
    assert reversal.inbound_line.tran_type == "CM-RO"
    assert balance() == 0
    assert billed.nets(period_from=202602, period_to=202602) == {
        (202602, AR): D(-300),
        (202602, CL): D(100 + 300 - 300),
        (202602, REV): D(-100),
        (202602, CONTRA_AR): D(300),
    }
    assert billed.nets(period_to=202601)[(202601, CONTRA_AR)] == D(-300)  # posted: untouched


def test_p8_partial_cm_ros_on_a_posted_contra_each_book_their_own_reversal(billed):
    """P8: posted contra 300; CM-RO 100 then CM-RO 50: reversals of 100 and 50, 150 left."""
    book(billed, rord("R-1", "L-1", -300, **Q4))
    billed.cmd("revenue_period", "close")
    book(billed, cm_ro("R-1", "L-1", "CRO-1", -100))
    book(billed, cm_ro("R-1", "L-1", "CRO-2", -50))
    assert [(k, a, r) for _, k, a, _, r, _ in contras()] == [
        ("CONTRA", D(300), D(150)),
        ("CONTRA_REVERSAL", D(100), D(0)),
        ("CONTRA_REVERSAL", D(50), D(0)),
    ]
    assert balance() == D(150)
    assert billed.nets()[(202602, CONTRA_AR)] == D(150)


def test_p8_a_cm_ro_reverses_at_most_the_contra_there_is(ledger):
    """P8: billed 1000, sold 900 → contra 100; a CM-RO of 300 removes those 100 only (its
    other 200 is billing, S4)."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.cmd("revenue_profile", "CREATE_RORD_CONTRA_ENTRY", "Y")
    book(ledger, so("L-1", 1200), inv("L-1", "I-1", 1000))
    book(ledger, rord("R-1", "L-1", -300, **Q4))
    assert balance() == D(100)
    book(ledger, cm_ro("R-1", "L-1", "CRO-1", -300))
    assert contras() == [(202601, "CONTRA", D(100), D(100), D(0), "R-1")]
    assert contra_journal() == [] and balance() == 0
    assert ledger.nets()[(202601, AR)] == D(700)


def test_p8_a_cm_ro_takes_its_own_rord_s_contra_first(billed):
    """P8: contra 300 (R-1) and 200 (R-2); the CM-RO of R-2 for 200 removes R-2's."""
    book(billed, rord("R-1", "L-1", -300, **Q4))
    book(billed, rord("R-2", "L-1", -200, start="2026-08-01", end="2026-09-30"))
    book(billed, cm_ro("R-2", "L-1", "CRO-2", -200))
    assert [(a, rm, key) for _, _, a, rm, _, key in contras()] == [
        (D(300), D(0), "R-1"),
        (D(200), D(200), "R-2"),
    ]
    assert contra_journal() == [(202601, "CONTRA", CL, CONTRA_AR, D(300), False)]


def test_p8_p7_after_a_cm_ro_the_next_rord_books_the_formula_again(billed):
    """P7 after P8: contra 300 removed by a CM-RO of 300 (billed 900, sold 900); a RORD
    of 200 then makes it 900 − 700 = 200."""
    book(billed, rord("R-1", "L-1", -300, **Q4))
    book(billed, cm_ro("R-1", "L-1", "CRO-1", -300))
    book(billed, rord("R-2", "L-1", -200, start="2026-08-01", end="2026-09-30"))
    assert balance() == D(200)
    assert contra_journal() == [(202601, "CONTRA", CL, CONTRA_AR, D(200), False)]


# --- P9 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("close_first", [False, True], ids=["unposted", "posted"])
@pytest.mark.parametrize("profile", ["N", "Y"])
def test_p9_a_cm_ro_never_changes_the_schedule(ledger, profile, close_first):
    """P9: whatever the profile and whether the contra is posted, the schedule export and
    every release / reversal entry are the same before and after a CM-RO."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.cmd("revenue_profile", "CREATE_RORD_CONTRA_ENTRY", profile)
    book(ledger, so("L-1", 1200), inv("L-1", "I-1", 1200))
    book(ledger, rord("R-1", "L-1", -300, **Q4))
    if close_first:
        ledger.cmd("revenue_period", "close")
    schedule = ledger.export("schedule")
    releases = list(
        JournalEntry.objects.filter(entry_type__in=["RELEASE", "REVERSAL", "CATCH_UP"])
        .order_by("id")
        .values_list("period", "entry_type", "amount")
    )
    assert book(ledger, cm_ro("R-1", "L-1", "CRO-1", -300)) == "collected 1, stopped 0, waiting 0"
    assert ledger.export("schedule") == schedule
    assert (
        list(
            JournalEntry.objects.filter(entry_type__in=["RELEASE", "REVERSAL", "CATCH_UP"])
            .order_by("id")
            .values_list("period", "entry_type", "amount")
        )
        == releases
    )
    line = SoLine.objects.get()
    assert line.net_sll_prc == D(900) and line.return_flag == "N"


def test_v11_a_cm_ro_without_a_collected_rord_is_stopped(billed):
    """V11: a CM-RO for an SO line that has no RORD is RPRO-00683; it books nothing."""
    journal = billed.export("journal")
    assert book(billed, cm_ro("R-1", "L-1", "CRO-1", -300)) == "collected 0, stopped 1, waiting 0"
    assert billed.export("journal") == journal
