"""M4: the pre-close checklist's revenue checks, its report, and its registry."""

import io
import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.exceptions import BusinessRuleRefused
from revenue.models import CollectionRun, InboundLine, SoLine
from revenue.reports import checklist
from revenue.reports.checklist import (
    Check,
    checklist_register,
    checklist_registered,
    checklist_report,
    checklist_run,
)
from revenue.reports.checks import REVENUE_CHECKS
from revenue.reports.output import write_text
from revenue.services.manual import so_line_hold
from revenue.services.run_lease import RunLease
from tests.revenue.test_admin import GOOD_CSV
from tests.revenue.test_reductions import HEADER, book, so

REVENUE = [
    "lines_new",
    "collection_running",
    "lines_stopped",
    "lines_waiting",
    "rords_review",
    "lines_on_hold",
    "carve_unbalanced",
    "carve_booked",
    "carve_liability",
    "contract_currencies",
    "contract_partial_ssp",
]


def rows_now(**kw) -> dict[str, Check]:
    started_at = kw.pop("started_at", None) or timezone.now()
    rows = checklist_run(period=202601, started_at=started_at)
    return {row.check: row for row in rows if row.check in REVENUE}


def severities(rows: dict[str, Check]) -> dict[str, tuple[str, int]]:
    return {name: (row.severity, row.count) for name, row in rows.items()}


@pytest.fixture
def opened(ledger):
    ledger.cmd("revenue_period", "open", "202601")
    return ledger


@pytest.fixture
def stopped(opened):
    """The admin sample after one collection: 3 lines collected; stopped: a RORD by V6
    (RPRO-00353), a RORD with errors, an SO with a parse error (INB-000); an INV waiting
    for its SO line (V12, INB-004)."""
    opened.cmd("revenue_rule", "RPRO-00353", "--enable")
    opened.stage(GOOD_CSV)
    opened.collect()
    return opened


def test_m4_every_check_has_an_ok_row_with_count_0_on_a_clean_ledger(opened):
    """M4: a check with nothing to report is one ``ok`` row, count 0, in a fixed order."""
    rows = rows_now()
    assert list(rows) == REVENUE
    assert all(row.severity == "ok" and row.count == 0 for row in rows.values())
    assert all(row.detail for row in rows.values())


def test_m4_lines_new_block_only_when_staged_before_the_close_started(opened):
    """M4: NEW lines staged before the close block; those staged after it started, and
    withdrawn lines (I4), never count."""
    before = timezone.now()
    opened.stage(HEADER + "\n" + "\n".join([so("A-1", 100), so("A-2", 200), so("B-1", 50)]))
    rows = rows_now()
    assert rows["lines_new"].severity == "blocker" and rows["lines_new"].count == 3
    assert rows["lines_new"].detail.startswith(
        "3 lines staged before the close started are still NEW: collect them first"
    )
    assert severities(rows_now(started_at=before))["lines_new"] == ("ok", 0)

    InboundLine.objects.filter(so_line_id="B-1").update(
        status="WITHDRAWN", withdrawn_at=timezone.now(), withdrawn_reason="order cancelled"
    )
    assert severities(rows_now())["lines_new"] == ("blocker", 2)
    opened.collect()
    assert severities(rows_now())["lines_new"] == ("ok", 0)


def test_m4_a_live_collection_run_blocks_a_lost_one_does_not(opened, settings):
    """M4 + I9: a RUNNING run whose lease a live worker holds blocks, however old its
    heartbeat; one whose lease is free lost its worker (the next run or beat's tick marks
    it FAILED and takes over), so it does not block, however fresh its heartbeat."""
    settings.CONTRA_RUN_STALE_SECONDS = 5
    now = timezone.now()
    run = CollectionRun.objects.create(trigger="COMMAND", status="RUNNING", heartbeat_at=now)
    CollectionRun.objects.create(trigger="BEAT", status="SUCCEEDED", heartbeat_at=now)
    CollectionRun.objects.create(trigger="ADMIN", status="QUEUED")
    assert severities(rows_now())["collection_running"] == ("ok", 0)  # nobody holds it

    lease = RunLease(run.pk)
    assert lease.acquire()  # its worker, alive
    try:
        rows = rows_now()
        assert severities(rows)["collection_running"] == ("blocker", 1)
        assert f"(run {run.pk})" in rows["collection_running"].detail
        CollectionRun.objects.filter(pk=run.pk).update(heartbeat_at=now - timedelta(hours=1))
        assert severities(rows_now())["collection_running"] == ("blocker", 1)
    finally:
        lease.release()
    assert severities(rows_now())["collection_running"] == ("ok", 0)


def test_m4_i9_where_the_lease_cannot_tell_the_heartbeat_decides(opened, settings, monkeypatch):
    """M4 + I9 without a lease to ask (no ``fcntl``): a RUNNING run blocks while its
    heartbeat is younger than CONTRA_RUN_STALE_SECONDS, and not once it is older."""
    monkeypatch.setattr(RunLease, "reliable", property(lambda lease: False))
    settings.CONTRA_RUN_STALE_SECONDS = 5
    now = timezone.now()
    run = CollectionRun.objects.create(
        trigger="COMMAND", status="RUNNING", heartbeat_at=now - timedelta(seconds=4)
    )
    assert severities(rows_now())["collection_running"] == ("blocker", 1)
    CollectionRun.objects.filter(pk=run.pk).update(heartbeat_at=now - timedelta(seconds=6))
    assert severities(rows_now())["collection_running"] == ("ok", 0)


def test_m4_stopped_waiting_and_review_lines_warn_and_never_block(stopped):
    """M4: 3 stopped (1 RORD by V6 among them), 1 waiting (V12): warnings, no blocker."""
    rows = rows_now()
    assert severities(rows) == {
        "lines_new": ("ok", 0),
        "collection_running": ("ok", 0),
        "lines_stopped": ("warning", 3),
        "lines_waiting": ("warning", 1),
        "rords_review": ("warning", 1),
        "lines_on_hold": ("ok", 0),
        "carve_unbalanced": ("ok", 0),
        "carve_booked": ("ok", 0),
        "carve_liability": ("ok", 0),
        "contract_currencies": ("ok", 0),
        "contract_partial_ssp": ("ok", 0),
    }
    assert rows["rords_review"].detail.startswith("1 RORD line awaits review")


def test_m4_a_line_marked_for_retry_still_only_warns(stopped):
    """M4: 'a stopped line, even one marked for retry, warns' (I3 retry)."""
    InboundLine.objects.filter(tran_type="SO", status="ERROR").update(retry=True)
    rows = rows_now()
    assert severities(rows)["lines_stopped"] == ("warning", 3)
    assert "(1 marked for retry at the next collection)" in rows["lines_stopped"].detail
    assert not [r for r in rows.values() if r.severity == "blocker"]


def test_m4_lines_on_hold_warn(opened):
    book(opened, so("H-1", 1200), so("H-2", 600))
    so_line_hold(line=SoLine.objects.get(so_line_id="H-1"), actor=None, reason="disputed")
    rows = rows_now()
    assert severities(rows)["lines_on_hold"] == ("warning", 1)
    assert rows["lines_on_hold"].detail.startswith("1 SO line is on hold")


def test_m4_k10_carve_checks_per_contract(opened):
    """K10 / K8: a contract in two currencies; a contract with an SSP on one line only;
    a contract whose carve does not add up to 0 (a damaged row: allocation never does it)."""
    book(
        opened,
        so("M-1", 100, ssp_pct=100),
        so("M-2", 100, curr="EUR", ssp_pct=100),  # M: USD and EUR (K8)
        so("P-1", 100, ssp_pct=100),
        so("P-2", 100),  # P: one line without an SSP
        so("U-1", 300, elp=100, rc_key="DEAL", ssp_pct=100),
        so("U-2", 100, elp=200, rc_key="DEAL", ssp_pct=100),
    )
    assert severities(rows_now())["carve_unbalanced"] == ("ok", 0)  # DEAL: -166.67 + 166.67
    SoLine.objects.filter(so_line_id="U-2").update(carve=Decimal("166.66"))
    rows = rows_now()
    assert severities(rows)["carve_unbalanced"] == ("warning", 1)
    assert severities(rows)["contract_currencies"] == ("warning", 1)
    assert severities(rows)["contract_partial_ssp"] == ("warning", 1)
    assert rows["carve_unbalanced"].detail.endswith(": check the allocation of DEAL")
    assert rows["contract_currencies"].detail.endswith("pool): M")
    assert rows["contract_partial_ssp"].detail.endswith("(those get no allocation): P")  # K10


def test_m4_each_link_lists_exactly_the_rows_counted(stopped, admin_client):
    """M4: the admin link of each check is its changelist filtered to what it counts."""
    book(stopped, so("M-1", 100, ssp_pct=100), so("M-2", 100, curr="EUR", ssp_pct=100))
    so_line_hold(line=SoLine.objects.get(so_line_id="M-1"), actor=None, reason="disputed")
    rows = rows_now()
    listed = {}
    for name, row in rows.items():
        response = admin_client.get(row.url)
        assert response.status_code == 200, (name, row.url)
        if row.count and name.startswith(("lines_", "rords_")):
            listed[name] = response.context["cl"].result_count
        elif row.count:  # the SO lines of the contracts flagged
            lines = response.context["cl"].queryset
            listed[name] = lines.values("contract").distinct().count()
    assert listed == {
        "lines_stopped": 3,
        "lines_waiting": 1,
        "rords_review": 1,
        "lines_on_hold": 1,
        "contract_currencies": 1,
    }
    assert {name: row.count for name, row in rows.items() if row.count} == listed


def test_m4_each_check_is_one_or_two_queries(stopped):
    """M4 at volume: counts only, never a query per line or per contract."""
    book(stopped, so("M-1", 100, ssp_pct=100), so("M-2", 100, curr="EUR", ssp_pct=100))
    started_at = timezone.now()
    for name, function in REVENUE_CHECKS:
        with CaptureQueriesContext(connection) as queries:
            function(period=202601, started_at=started_at)
        assert 1 <= len(queries) <= 2, (name, len(queries))


def test_m4_checklist_report_json_has_the_keys_of_close_md(stopped):
    out = io.StringIO()
    written = write_text(checklist_report(), fmt="json", out=out)
    report = json.loads(out.getvalue())
    assert report["report"] == "checklist" and report["period"] == "202601"
    assert report["totals"] == []
    assert written == len(report["rows"])
    mine = [row for row in report["rows"] if row["check"] in REVENUE]
    assert [row["check"] for row in mine] == REVENUE
    assert all(set(row) == {"check", "severity", "count", "detail"} for row in report["rows"])
    stopped_row = next(row for row in mine if row["check"] == "lines_stopped")
    assert stopped_row["severity"] == "warning" and stopped_row["count"] == 3


def test_m4_checklist_report_is_for_the_open_period_only(stopped):
    assert checklist_report(period=202601).period == 202601
    with pytest.raises(BusinessRuleRefused) as refused:
        checklist_report(period=202512)
    assert refused.value.field == "period" and "open period 202601" in refused.value.message


def test_m4_checklist_report_without_an_open_period(db):
    with pytest.raises(BusinessRuleRefused, match="no open period"):
        checklist_report()


def test_m4_registry_other_apps_checks_come_after_the_revenue_checks(opened, monkeypatch):
    """The orders app registers M5 from its ready() (before revenue's in INSTALLED_APPS):
    the revenue checks still show first; a check registered again keeps its place."""
    monkeypatch.setattr(checklist, "_REGISTRY", dict(checklist._REGISTRY))

    def billing(*, period, started_at):
        return [Check("billing_m5", "warning", 2, f"2 documents of {period} differ")]

    checklist_register("billing_m5", billing)
    checklist_register("lines_new", checklist_registered()["lines_new"], rank=0)
    names = [row.check for row in checklist_run(period=202601, started_at=timezone.now())]
    assert names[: len(REVENUE)] == REVENUE
    assert names[-1] == "billing_m5"
