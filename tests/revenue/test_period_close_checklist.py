"""M4 in the close (S2): the checklist before each period's close, blockers refuse it
unless forced with an audited reason, --through stops at the first blocked period, and
the monthly auto-close never forces but records why it did not close."""

import io
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from core.exceptions import BusinessRuleRefused
from core.models import AuditEvent
from revenue.models import JournalEntry, Period
from revenue.reports import checklist
from revenue.reports.checklist import Check, checklist_register
from revenue.services.periods import period_close, period_close_due
from tests.revenue.test_admin import GOOD_CSV
from tests.revenue.test_reductions import HEADER, book, so


def close(*args) -> tuple[str, CommandError | None]:
    """``revenue_period close ARGS``: what it printed, and its error (None on success)."""
    out = io.StringIO()
    try:
        call_command("revenue_period", "close", *args, stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def open_period() -> int:
    return Period.objects.get(status=Period.Status.OPEN).pk


def events(action: str, period: int):
    return AuditEvent.objects.filter(object_id=str(period), action=action).order_by("id")


@pytest.fixture
def collected(ledger):
    """2026-01 open, one SO line collected (its January release posted at the close)."""
    ledger.cmd("revenue_period", "open", "202601")
    book(ledger, so("C-1", 1200))
    return ledger


@pytest.fixture
def pending(collected):
    """…and two lines staged but not collected: NEW, a blocker."""
    collected.stage(HEADER + "\n" + so("N-1", 100) + "\n" + so("N-2", 200))
    return collected


@pytest.fixture
def february_blocked(monkeypatch):
    """A check another app registers (the registry of M4) that blocks 2026-02 only."""
    monkeypatch.setattr(checklist, "_REGISTRY", dict(checklist._REGISTRY))

    def february(*, period, started_at):
        if period == 202602:
            return [Check("billing_test", "blocker", 1, "1 invoice of 202602 has no line")]
        return [Check("billing_test", "ok", 0, "every invoice has its lines")]

    checklist_register("billing_test", february)


def test_m4_close_refused_exit_2_with_the_blockers_listed(pending):
    """M4: NEW lines staged before the close block it: exit 2, the blockers in words, the
    checklist printed first; nothing closed, nothing posted."""
    printed, error = close()
    assert error is not None and error.returncode == 2
    assert str(error).startswith("period 202601 was not closed: 2 lines staged before")
    assert str(error).endswith(" [M4]")
    assert "still NEW: collect them first" in str(error)
    assert printed.splitlines()[0].startswith("checklist 202601: blocker lines_new (2): 2 lines")
    assert open_period() == 202601
    assert not JournalEntry.objects.filter(posted=True).exists()
    assert not events("close", 202601).exists()


def test_m4_warnings_are_printed_and_do_not_stop_the_close(ledger):
    """M4: stopped, waiting and review lines only warn: printed one line each, then the
    close goes ahead."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.cmd("revenue_rule", "RPRO-00353", "--enable")
    ledger.stage(GOOD_CSV)
    ledger.collect()
    printed, error = close()
    assert error is None
    lines = printed.splitlines()
    assert lines[:3] == [
        "checklist 202601: warning lines_stopped (3): 3 lines are stopped in staging with "
        "errors: correct, review or delete them",
        "checklist 202601: warning lines_waiting (1): 1 line waits for an SO line not "
        "collected yet (INB-004): stage or collect the SO line",
        "checklist 202601: warning rords_review (1): 1 RORD line awaits review (stopped by "
        "RPRO-00353 or RPRO-00356, 1 not marked yet): tick RORD Review Completed and collect",
    ]
    assert lines[-1] == "closed 202601; open period 202602"
    assert open_period() == 202602


def test_m4_force_without_a_reason_is_refused(pending):
    for args in (["--force"], ["--force", "--reason", "   "]):
        printed, error = close(*args)
        assert error is not None and error.returncode == 2
        assert "--force needs --reason" in str(error)
        assert printed == ""
    with pytest.raises(BusinessRuleRefused) as refused:
        period_close(actor=None, force=True, reason="")
    assert refused.value.field == "reason" and refused.value.message.startswith("reason:")
    assert open_period() == 202601


def test_m4_forced_close_is_audited_with_the_reason_and_the_blockers(pending):
    printed, error = close("--force", "--reason", "Auditor approved: N-* belong to February")
    assert error is None
    assert printed.splitlines()[-1] == (
        "closed 202601 (forced: blockers overridden, reason audited); open period 202602"
    )
    assert open_period() == 202602
    event = events("close", 202601).get()
    assert event.comment == "Auditor approved: N-* belong to February"
    assert event.data["forced"] is True
    assert event.data["overrode"] == [
        {
            "check": "lines_new",
            "severity": "blocker",
            "count": 2,
            "detail": "2 lines staged before the close started are still NEW: collect them "
            "first (revenue_collect or Collect now)",
        }
    ]
    assert event.data["posted_entries"] == JournalEntry.objects.filter(period=202601).count()


def test_m4_through_stops_at_the_first_blocked_period(collected, february_blocked):
    """M4: with --through the checklist runs before each period; 2026-01 closes and stays
    closed, 2026-02 is refused by name, 2026-03 is not reached."""
    printed, error = close("--through", "202603")
    assert error is not None and error.returncode == 2
    assert str(error).startswith(
        "period 202602 was not closed (202601 closed before it): 1 invoice of 202602"
    )
    assert str(error).endswith(" [M4]")
    assert "checklist 202602: blocker billing_test (1): 1 invoice of 202602 has no line" in printed
    assert Period.objects.get(pk=202601).status == Period.Status.CLOSED
    assert open_period() == 202602
    assert not JournalEntry.objects.filter(period=202602, posted=True).exists()
    # forced, it goes on through March
    printed, error = close("--through", "202603", "--force", "--reason", "invoice follows")
    assert error is None and printed.splitlines()[-1].startswith("closed 202602, 202603 (forced")
    assert [e.data.get("forced") for e in events("close", 202602)] == [True]
    assert [e.data.get("forced") for e in events("close", 202603)] == [None]  # not blocked


def test_m4_auto_close_never_forces_and_records_why(pending, admin_client):
    """S2 + M4: the monthly job stops at the blocked period without raising, records a
    close_blocked event on it, shown on its page and on the admin's home page."""
    pending.cmd("revenue_profile", "AUTO_CLOSE_PERIOD", "Y")
    assert period_close_due(today=date(2026, 3, 10)) == []
    assert open_period() == 202601
    event = events("close_blocked", 202601).get()
    assert event.actor is None and event.actor_label == "auto-close"
    assert [b["check"] for b in event.data["blockers"]] == ["lines_new"]
    assert event.data["blockers"][0]["count"] == 2

    page = admin_client.get(reverse("admin:revenue_period_change", args=[202601]))
    assert [e.pk for e in page.context["close_blocked"]] == [event.pk]
    assert b"Auto-close did not close 2026-01" in page.content
    home = admin_client.get(reverse("admin:index"))
    assert b'id="close-blocked-notice"' in home.content
    assert reverse("admin:revenue_period_change", args=[202601]).encode() in home.content
    assert b"2 lines staged before the close started are still NEW" in home.content

    pending.collect()  # the blocker gone, the next run closes January and February
    assert [p.pk for p in period_close_due(today=date(2026, 3, 10))] == [202601, 202602]
    assert b'id="close-blocked-notice"' not in admin_client.get(reverse("admin:index")).content


def test_m4_auto_close_keeps_the_periods_it_closed_before_the_blocked_one(
    collected, february_blocked
):
    collected.cmd("revenue_profile", "AUTO_CLOSE_PERIOD", "Y")
    closed = period_close_due(today=date(2026, 4, 2))
    assert [p.pk for p in closed] == [202601]
    assert open_period() == 202602
    event = events("close_blocked", 202602).get()
    assert event.comment.startswith("period 202602 was not closed (202601 closed before it)")
    assert not events("close_blocked", 202601).exists()


# --- admin ------------------------------------------------------------------------------------


def test_m4_admin_close_page_shows_the_checklist_first(pending, admin_client):
    page = admin_client.get(reverse("admin:revenue_period_close"))
    assert page.status_code == 200
    assert b"Close period 2026-01?" in page.content
    rows = {row.check: row for row in page.context["checks"]}
    assert rows["lines_new"].severity == "blocker" and rows["lines_new"].count == 2
    assert page.context["blockers"] == 1
    html = page.content.decode()
    assert '<span class="contra-badge checklist-blocker">blocker</span>' in html
    assert f'<a href="{rows["lines_new"].url}">2</a>' in html.replace("&amp;", "&")
    assert 'name="force"' in html and 'name="reason"' in html


def test_m4_admin_close_without_blockers_has_no_force_field(collected, admin_client):
    page = admin_client.get(reverse("admin:revenue_period_close"))
    assert page.context["blockers"] == 0 and b'name="force"' not in page.content
    done = admin_client.post(reverse("admin:revenue_period_close"), {"period": "202601"})
    assert done.status_code == 302 and open_period() == 202602


def test_m4_admin_close_needs_force_and_a_reason_with_a_blocker(pending, admin_client):
    """M4: refused as a message on the page (never a 500); force without a reason is a
    form error on the reason; force with one closes and audits."""
    close_url = reverse("admin:revenue_period_close")
    refused = admin_client.post(close_url, {"period": "202601"})
    assert refused.status_code == 200
    said = [str(m) for m in refused.context["messages"]]
    assert any(m.startswith("period 202601 was not closed: 2 lines") for m in said)
    assert not any("M4" in m for m in said)  # the rule in words on a page
    assert open_period() == 202601

    no_reason = admin_client.post(close_url, {"period": "202601", "force": "on", "reason": " "})
    assert no_reason.status_code == 200
    assert no_reason.context["form"].errors["reason"] == [
        "Reason: a forced close needs a reason (why close despite the blockers)."
    ]
    assert open_period() == 202601

    forced = admin_client.post(
        close_url, {"period": "202601", "force": "on", "reason": "Late lines are February's"}
    )
    assert forced.status_code == 302 and open_period() == 202602
    event = events("close", 202601).get()
    assert event.comment == "Late lines are February's" and event.data["forced"] is True
    assert event.actor_label == "boss"


def test_m4_admin_fsm_close_button_refused_points_to_the_close_page(pending, admin_client):
    response = admin_client.post(
        reverse("admin:revenue_period_change", args=[202601]),
        {"_fsm_transition_to": "close"},
        follow=True,
    )
    assert response.status_code == 200
    said = " ".join(str(m) for m in response.context["messages"])
    assert said.startswith("period 202601 was not closed") and "M4" not in said
    assert reverse("admin:revenue_period_close") in said
    assert open_period() == 202601
