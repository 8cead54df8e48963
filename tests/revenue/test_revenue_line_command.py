"""S10 through `manage.py revenue_line hold|release|dates` (interchange.md): manual deferral,
release with catch-up and a change of revenue dates, each marking the line for V7; bad
arguments exit 2 with a message and change nothing.

SO line L-1 sells 1200 over 2026 (100 a month); January–March are closed, April is open.
"""

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from core.models import AuditEvent
from revenue.models import InboundLine, JournalEntry, SoLine
from tests.revenue.conftest import D
from tests.revenue.test_reductions import book, rord, sched, so

CL, REV = "CONTRACT_LIABILITY", "REVENUE"


@pytest.fixture
def april(ledger):
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("L-1", 1200, qty=12))
    ledger.cmd("revenue_period", "close", "--through", "202603")
    return ledger


def line() -> SoLine:
    return SoLine.objects.get(so_line_id="L-1")


def refused(*args) -> CommandError:
    with pytest.raises(CommandError) as error:
        call_command("revenue_line", *args)
    return error.value


def test_s10_hold_defers_from_the_open_period_and_marks_the_line_for_v7(april):
    """S10 hold: April's release is reversed in April and April–December are held: 300
    recognized (January–March), 900 deferred; the reason is in the line's history."""
    out = april.cmd("revenue_line", "hold", "L-1", "--reason", "customer dispute")
    assert out.strip().splitlines()[-1] == (
        "L-1 on hold, marked as changed by hand [RPRO-00356]; "
        "recognized 300.00, deferred 900.00 USD with 202604 open"
    )
    held = line()
    assert held.hold and held.manually_released and held.marked_for_v7
    assert april.nets(period_from=202604) == {}  # every release from April on is undone
    reversals = JournalEntry.objects.filter(entry_type="REVERSAL", inbound_line=None)
    assert sorted(reversals.values_list("period", "amount")) == [
        (202600 + m, D(100)) for m in range(4, 13)
    ]
    assert all(r == (REV, CL) for r in reversals.values_list("dr_account", "cr_account"))
    event = AuditEvent.objects.get(object_id=str(held.pk), action="hold")
    assert event.comment == "customer dispute"
    with pytest.raises(CommandError, match=r"^L-1 is already on hold \[S10\]$") as again:
        call_command("revenue_line", "hold", "L-1")
    assert again.value.returncode == 2


def test_s10_release_catches_up_everything_due_in_the_open_period(april):
    """S10 release: held since April, released with June open: April–June's 300 catch up
    in June, July–December release in their own periods again."""
    april.cmd("revenue_line", "hold", "L-1")
    april.cmd("revenue_period", "close", "--through", "202605")
    out = april.cmd("revenue_line", "release", "L-1", "--reason", "dispute settled")
    assert out.strip().splitlines()[-1] == (
        "L-1 released, marked as changed by hand [RPRO-00356]; "
        "recognized 600.00, deferred 600.00 USD with 202606 open"
    )
    released = line()
    assert not released.hold and released.manually_released
    nets = april.nets()
    assert nets[(202606, REV)] == D(-300) and nets[(202606, CL)] == D(300)
    assert [nets[(202600 + m, REV)] for m in range(7, 13)] == [D(-100)] * 6
    assert (202604, REV) not in nets and (202605, REV) not in nets  # closed: nothing booked
    catch_up = JournalEntry.objects.get(entry_type="CATCH_UP", inbound_line=None)
    assert (catch_up.period, catch_up.amount.amount) == (202606, D(300))
    assert AuditEvent.objects.get(object_id=str(released.pk), action="release").comment == (
        "dispute settled"
    )
    with pytest.raises(CommandError, match=r"^L-1 is not on hold \[S10\]$"):
        call_command("revenue_line", "release", "L-1")


def test_s10_dates_rebuild_the_future_rows_and_v7_then_stops_a_rord(april):
    """S10 dates: 1 January – 30 June with April open: May–December's 800 move to May and
    June (400 each), April and the closed months are untouched. With V7 on, a RORD for the
    line is then stopped with RPRO-00356."""
    out = april.cmd("revenue_line", "dates", "L-1", "2026-01-01", "2026-06-30")
    assert out.strip().splitlines()[-1] == (
        "L-1 revenue dates 2026-01-01 to 2026-06-30, marked as changed by hand [RPRO-00356]; "
        "recognized 400.00, deferred 800.00 USD with 202604 open"
    )
    assert sched(april) == {
        (202601, "SO"): D(100),
        (202602, "SO"): D(100),
        (202603, "SO"): D(100),
        (202604, "SO"): D(100),
        (202605, "SO"): D(400),
        (202606, "SO"): D(400),
    }
    changed = line()
    assert changed.dates_changed and changed.marked_for_v7
    assert (str(changed.rev_start_date), str(changed.rev_end_date)) == ("2026-01-01", "2026-06-30")
    assert (str(changed.start_date), str(changed.end_date)) == ("2026-01-01", "2026-12-31")
    assert AuditEvent.objects.get(object_id=str(changed.pk), action="change revenue dates")

    again = april.cmd("revenue_line", "dates", "L-1", "2026-01-01", "2026-06-30")
    assert again.strip().startswith("L-1 already has revenue dates 2026-01-01 to 2026-06-30")
    april.cmd("revenue_rule", "RPRO-00356", "--enable")
    assert book(april, rord("R-1", "L-1", -100, start="2026-06-01", end="2026-06-30")) == (
        "collected 0, stopped 1, waiting 0"
    )
    assert InboundLine.objects.get(tran_type="RORD").error_codes == "RPRO-00356"


def test_s10_an_unknown_so_line_exits_2_with_a_message(april):
    error = refused("hold", "NO-SUCH")
    assert error.returncode == 2
    assert str(error) == (
        "SO_LINE_ID: no SO line 'NO-SUCH' in the sub-ledger "
        "(an SO line exists once its SO row is collected)"
    )
    assert refused("dates", "NO-SUCH", "2026-01-01", "2026-06-30").returncode == 2


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-02-30", "2026-06-30", "START '2026-02-30' is not a date: use YYYY-MM-DD"),
        ("2026-01-01", "30/06/2026", "END '30/06/2026' is not a date: use YYYY-MM-DD"),
        ("2026-01-01", "20260630", "END '20260630' is not a date"),
        ("2026-01-01", "9999-12-31", "END 9999-12-31: the year must be between 1900 and 2999"),
        ("2026-06-30", "2026-01-01", "END 2026-01-01 is before START 2026-06-30"),
    ],
)
def test_s10_bad_dates_exit_2_and_change_nothing(april, start, end, message):
    rows = sched(april)
    error = refused("dates", "L-1", start, end)
    assert error.returncode == 2 and message in str(error)
    assert sched(april) == rows
    assert not line().marked_for_v7


def test_s10_missing_arguments_exit_2_from_the_command_line():
    """interchange.md: bad arguments exit 2 with a message, never a traceback."""
    manage = Path(__file__).resolve().parents[2] / "manage.py"
    done = subprocess.run(
        [sys.executable, str(manage), "revenue_line", "dates", "L-1", "2026-01-01"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "the following arguments are required: END" in done.stderr
    assert "Traceback" not in done.stderr
