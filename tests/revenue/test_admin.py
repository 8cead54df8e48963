"""The revenue admin screens: thin pages over the services (I1–I8, V rules, S1–S10, P6).

Data is created the way a user would: through the management commands (``ledger``).
"""

from __future__ import annotations

import csv
import io
import re
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.models import AuditEvent
from revenue.models import (
    CollectionRun,
    InboundBatch,
    InboundLine,
    JournalEntry,
    Period,
    ProfileSetting,
    RevenueContract,
    SoLine,
    ValidationRule,
)
from tests.charts import chart_spec, points
from tests.factories import UserFactory

HEADER = (
    "TRAN_TYPE,SO_NUM,SO_LINE_ID,ORIG_SO_LINE_ID,SO_DATE,INV_NUM,INV_LINE_ID,INV_DATE,"
    "CUSTOMER,ITEM,ORD_QTY,INV_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,START_DATE,END_DATE,"
    "REV_METHOD"
)
ROWS = [
    "SO,S1,S1-1,,2026-01-01,,,,Acme,Support,12,,1200,1200,USD,USD,2026-01-01,2026-12-31,"
    "RATABLE_MONTHLY",
    "SO,S1,S1-2,,2026-01-01,,,,Acme,Hardware,1,,500,500,USD,USD,2026-01-01,2026-01-01,IMMEDIATE",
    "INV,S1,S1-1,,,I1,I1-1,2026-01-05,Acme,Support,12,12,1200,600,USD,USD,2026-01-01,2026-06-30,",
    "RORD,S1,S1-1R,S1-1,2026-02-01,,,,Acme,Support,3,,-300,-300,USD,USD,2026-10-01,2027-01-31,",
    "RORD,S1,S1-1Q,,2026-02-01,,,,Acme,Support,3,,-300,-300,USD,USD,2026-10-01,2026-12-31,",
    "INV,S9,S9-1,,,I9,I9-1,2026-01-05,Beta,Widget,1,1,10,10,USD,USD,2026-01-01,2026-01-31,",
    "SO,S2,S2-1,,2026-13-01,,,,Gamma,Thing,1,,1O0,100,USD,USD,2026-01-01,2026-01-31,",
]
GOOD_CSV = HEADER + "\n" + "\n".join(ROWS) + "\n"


def so_rows(count: int, start: int = 100) -> str:
    return "\n".join(
        f"SO,N{i},N{i}-1,,2026-01-01,,,,Cust {i},Item,1,,120,120,USD,USD,2026-01-01,2026-12-31,"
        "RATABLE_MONTHLY"
        for i in range(start, start + count)
    )


@pytest.fixture
def data(ledger):
    """Open 2026-01, stage the sample rows, collect: 3 collected, RORDs stopped (V6 on:
    S1-1R ends after its SO line), an INV waiting (INB-004) and a row with parse errors
    (INB-000)."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.cmd("revenue_rule", "RPRO-00353", "--enable")
    ledger.stage(GOOD_CSV)
    ledger.collect()
    return ledger


def line_by_key(key: str) -> InboundLine:
    return InboundLine.objects.get(raw__SO_LINE_ID=key)


def url(name: str, *args) -> str:
    return reverse(f"admin:revenue_{name}", args=args)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- every page answers ----------------------------------------------------------------------


CHANGELISTS = [
    "inboundline",
    "inboundbatch",
    "soline",
    "journalentry",
    "period",
    "collectionrun",
    "validationrule",
    "profilesetting",
    "revenuecontract",
]


@pytest.mark.parametrize("model", CHANGELISTS)
def test_every_changelist_answers_with_data(admin_client, data, model):
    response = admin_client.get(url(f"{model}_changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count > 0


def test_every_change_page_answers(admin_client, data):
    objects = [
        ("inboundline", line_by_key("S1-1R")),
        ("inboundline", InboundLine.objects.filter(status="COLLECTED").first()),
        ("inboundbatch", InboundBatch.objects.first()),
        ("soline", SoLine.objects.get(so_line_id="S1-1")),
        ("journalentry", JournalEntry.objects.first()),
        ("period", Period.objects.get()),
        ("collectionrun", CollectionRun.objects.first()),
        ("validationrule", ValidationRule.objects.get(code="INB-001")),
        ("profilesetting", ProfileSetting.objects.first()),
        ("revenuecontract", RevenueContract.objects.first()),
    ]
    for model, obj in objects:
        response = admin_client.get(url(f"{model}_change", obj.pk))
        assert response.status_code == 200, (model, obj)


# --- inbound lines (I1–I5) ----------------------------------------------------------------


def test_inbound_list_shows_badges_errors_and_waiting(admin_client, data):
    """V12: an ERROR line stopped only by INB-004 reads 'Waiting'; errors are code + message
    (the rule ID, I2 here, is not shown)."""
    response = admin_client.get(url("inboundline_changelist"))
    html = response.content.decode()
    for code, label in (("WAITING", "Waiting"), ("COLLECTED", "Collected"), ("ERROR", "Error")):
        assert re.search(rf'class="contra-badge {code}"[^>]*>{label}</span>', html)
    assert "<code>INB-000</code> SO_DATE: &#x27;2026-13-01&#x27; is not a calendar date" in html
    assert 'class="revenue-rule"' not in html
    assert "<code>RPRO-00030</code>" in html


def test_inbound_filters_by_error_code_batch_status_and_search(admin_client, data):
    base = url("inboundline_changelist")
    waiting = admin_client.get(base, {"error_code": "INB-004"}).context["cl"]
    assert [line.raw["SO_LINE_ID"] for line in waiting.result_list] == ["S9-1"]
    parse = admin_client.get(base, {"error_code": "INB-000"}).context["cl"]
    assert [line.raw["SO_LINE_ID"] for line in parse.result_list] == ["S2-1"]
    batch = InboundBatch.objects.get()
    assert admin_client.get(base, {"batch": batch.pk}).context["cl"].result_count == len(ROWS)
    assert admin_client.get(base, {"waiting__exact": "1"}).context["cl"].result_count == 1
    found = admin_client.get(base, {"q": "S1-1R"}).context["cl"]
    assert [line.so_line_id for line in found.result_list] == ["S1-1R"]
    by_id = admin_client.get(base, {"q": f"#{line_by_key('S9-1').pk}"}).context["cl"]
    assert by_id.result_count == 1


def test_inbound_list_query_count_does_not_grow_with_rows(admin_client, ledger):
    """No N+1: the same number of queries for 3 and for 30 lines."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(HEADER + "\n" + so_rows(3))
    counts = []
    for more in (0, 27):
        if more:
            ledger.stage(HEADER + "\n" + so_rows(more, start=500))
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(url("inboundline_changelist"))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_i5_inline_review_edit_sets_y_through_the_service(admin_client, data):
    """I5: the inline RORD Review Completed column saves through inbound_review_set
    (audited 'review'); non-RORD rows are read-only in the list."""
    rord = line_by_key("S1-1R")
    page = admin_client.get(url("inboundline_changelist"), {"tran_type__exact": "RORD"})
    formset = page.context["cl"].formset
    post = {
        "form-TOTAL_FORMS": str(formset.total_form_count()),
        "form-INITIAL_FORMS": str(formset.initial_form_count()),
        "_save": "Save",
    }
    for index, form in enumerate(formset.forms):
        post[f"form-{index}-id"] = str(form.instance.pk)
        value = "Y" if form.instance.pk == rord.pk else form.instance.rord_review_completed
        post[f"form-{index}-rord_review_completed"] = value
    response = admin_client.post(
        url("inboundline_changelist") + "?tran_type__exact=RORD", post, follow=True
    )
    assert response.status_code == 200
    rord.refresh_from_db()
    assert rord.rord_review_completed == "Y"
    assert AuditEvent.objects.filter(object_id=str(rord.pk), action="review").exists()
    assert any("RORD Review Completed changed on 1 line" in m for m in messages_of(response))

    so_form = admin_client.get(url("inboundline_changelist"), {"tran_type__exact": "SO"})
    assert all(
        f.fields["rord_review_completed"].disabled for f in so_form.context["cl"].formset.forms
    )


def test_i5_bulk_review_action_and_refusals(admin_client, data):
    """I5: the action sets Y on RORD lines; an SO line in the selection is refused by name."""
    rord, so = line_by_key("S1-1Q"), line_by_key("S1-2")
    response = admin_client.post(
        url("inboundline_changelist"),
        {"action": "review_yes", "_selected_action": [rord.pk, so.pk]},
        follow=True,
    )
    rord.refresh_from_db()
    assert rord.rord_review_completed == "Y"
    text = " ".join(messages_of(response))
    assert "RORD Review Completed = Y on 1 line" in text
    assert f"#{so.pk} is a SO line, not RORD" in text
    assert rord.retry  # I3: a stopped line is retried once reviewed

    admin_client.post(
        url("inboundline_changelist"), {"action": "review_clear", "_selected_action": [rord.pk]}
    )
    rord.refresh_from_db()
    assert rord.rord_review_completed == "N"


def test_i3_retry_action(admin_client, data):
    waiting = line_by_key("S9-1")
    response = admin_client.post(
        url("inboundline_changelist"),
        {"action": "retry_selected", "_selected_action": [waiting.pk]},
        follow=True,
    )
    waiting.refresh_from_db()
    assert waiting.retry
    assert any("1 stopped line(s) will be retried" in m for m in messages_of(response))


def test_i4_delete_action_confirms_then_refuses_collected_lines(admin_client, data):
    """I4: only lines that are not collected can be deleted; the deletion is audited."""
    stopped, collected = line_by_key("S2-1"), line_by_key("S1-2")
    selection = {"action": "delete_selected_lines", "_selected_action": [stopped.pk, collected.pk]}
    confirm = admin_client.post(url("inboundline_changelist"), selection)
    assert confirm.status_code == 200
    assert b"Delete inbound lines?" in confirm.content
    assert InboundLine.objects.filter(pk=stopped.pk).exists()

    done = admin_client.post(
        url("inboundline_changelist"), {**selection, "confirm": "yes"}, follow=True
    )
    assert not InboundLine.objects.filter(pk=stopped.pk).exists()
    assert InboundLine.objects.filter(pk=collected.pk).exists()
    text = " ".join(messages_of(done))
    assert "Deleted 1 inbound line(s)." in text and "I4" not in text
    assert "1 deletion(s) refused: #" in text and "is collected: it cannot be deleted" in text
    assert AuditEvent.objects.filter(object_id=str(stopped.pk), action="delete").exists()


def test_i4_change_page_edits_through_the_service_and_collected_is_read_only(admin_client, data):
    """I4: a stopped line's typed fields are edited (audited, retried, I3); a collected
    line's page is read-only."""
    bad = line_by_key("S2-1")
    page = admin_client.get(url("inboundline_change", bad.pk))
    assert b"Row 7 as received" in page.content and b"1O0" in page.content
    form = page.context["adminform"].form
    post = {name: form[name].value() or "" for name in form.fields}
    post.update(so_date="2026-01-01", ord_qty="1", ext_lst_prc="100", _save="Save")
    response = admin_client.post(url("inboundline_change", bad.pk), post, follow=True)
    assert response.status_code == 200
    bad.refresh_from_db()
    assert str(bad.so_date) == "2026-01-01" and bad.parse_errors == []
    assert bad.retry
    edit = AuditEvent.objects.get(object_id=str(bad.pk), action="edit")
    assert set(edit.data["changed"]) == {"so_date", "ext_lst_prc"}

    collected = line_by_key("S1-2")
    view = admin_client.get(url("inboundline_change", collected.pk))
    assert view.status_code == 200
    assert view.context["has_change_permission"] is False
    refused = admin_client.post(url("inboundline_change", collected.pk), {"so_num": "X"})
    assert refused.status_code == 403


def test_i1_upload_stages_a_good_csv(admin_client, db):
    upload = SimpleUploadedFile("lines.csv", GOOD_CSV.encode(), content_type="text/csv")
    response = admin_client.post(url("inboundline_upload"), {"file": upload})
    batch = InboundBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"?batch={batch.pk}")
    assert batch.source == InboundBatch.SourceKind.UPLOAD and batch.line_count == len(ROWS)
    listing = admin_client.get(response["Location"])
    text = " ".join(messages_of(listing))
    assert f"Staged 7 lines (batch {batch.pk}); 1 with values that could not be parsed" in text


def test_i1_upload_of_a_png_is_a_form_error_not_a_500(admin_client, db):
    png = SimpleUploadedFile("logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64)
    response = admin_client.post(url("inboundline_upload"), {"file": png})
    assert response.status_code == 200
    errors = response.context["form"].errors["file"]
    assert errors == ["logo.png is not a CSV or JSON file (it looks binary)"]
    assert not InboundBatch.objects.exists()


def test_i1_upload_the_csv_reader_chokes_on_is_a_form_error_too(admin_client, db):
    """A 200 000-character field: the page answers with the problem, nothing is staged."""
    huge = SimpleUploadedFile("huge.csv", b"TRAN_TYPE,SO_LINE_ID\nSO," + b"x" * 200_000 + b"\n")
    response = admin_client.post(url("inboundline_upload"), {"file": huge})
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert not InboundBatch.objects.exists()


def test_staging_export_of_the_filtered_list(admin_client, data):
    response = admin_client.get(url("inboundline_export"), {"status__exact": "ERROR"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert list(rows[0]) == [
        "ID",
        "TRAN_TYPE",
        "SO_LINE_ID",
        "ORIG_SO_LINE_ID",
        "STATUS",
        "ERROR_CODES",
        "RORD_REVIEW_COMPLETED",
    ]
    assert {r["STATUS"] for r in rows} == {"ERROR"}
    assert {r["SO_LINE_ID"] for r in rows} == {"S1-1Q", "S1-1R", "S9-1", "S2-1"}


# --- SO lines (S6–S10) ----------------------------------------------------------------------


def test_so_line_list_amounts_and_no_n_plus_one(admin_client, ledger):
    """S10: recognized / deferred come from one annotated query; 3 vs 30 lines, same count."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(HEADER + "\n" + so_rows(3))
    ledger.collect()
    counts = []
    for more in (0, 27):
        if more:
            ledger.stage(HEADER + "\n" + so_rows(more, start=500))
            ledger.collect()
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(url("soline_changelist"))
        counts.append(len(queries))
    assert counts[0] == counts[1]
    line = next(r for r in response.context["cl"].result_list if r.so_line_id == "N100-1")
    assert (line.recognized_amount, line.deferred_amount) == (10, 110)


def test_so_line_page_has_schedule_waterfall_transactions_and_journal(admin_client, data):
    line = SoLine.objects.get(so_line_id="S1-1")
    response = admin_client.get(url("soline_change", line.pk))
    html = response.content.decode()
    schedule = response.context["schedule"]
    assert len(schedule.rows) == 12 and schedule.total == 1200
    assert schedule.recognized == 100 and schedule.deferred == 1100
    assert schedule.rows[0].inv == 100 and schedule.rows[-1].so == 100  # S9: billed Jan–Jun
    spec = chart_spec(html, "chart-waterfall")  # S9, S10: floating bars from the cumulative
    assert spec["labels"][0] == ["Jan", "2026"] and spec["labels"][-1] == "Total"
    assert points(spec, "Recognized · billed") == {"Jan 2026": ["0.00", "100.00"]}
    assert points(spec, "Deferred · billed")["Jun"] == ["500.00", "600.00"]
    assert len(points(spec, "Deferred · billed")) == 5  # Feb–Jun: invoiced, not yet recognized
    assert points(spec, "Deferred · not billed")["Dec"] == ["1100.00", "1200.00"]
    assert points(spec, "Recognized") == {"Total": ["0.00", "100.00"]}
    assert points(spec, "Deferred (not held)") == {"Total": ["100.00", "1200.00"]}
    assert spec["connectors"][-1] == "1200.00" and spec["highlight"]["index"] == 0
    assert spec["links"][0][0] == "#schedule-2026-01" and 'id="schedule-2026-01"' in html
    assert 'id="revenue-transactions"' in html and "I1-1" in html
    assert 'id="revenue-journal"' in html and "Contract liability" in html
    assert 'id="revenue-history"' in html


def test_s10_hold_release_and_date_change_from_the_change_page(admin_client, data):
    """S10: hold, release and re-date go through revenue.services.manual and are audited."""
    line = SoLine.objects.get(so_line_id="S1-1")
    assert admin_client.get(url("soline_hold", line.pk)).status_code == 200
    response = admin_client.post(url("soline_hold", line.pk), {"reason": "dispute"}, follow=True)
    line.refresh_from_db()
    assert line.hold and line.marked_for_v7
    assert any("hold revenue done" in m for m in messages_of(response))
    assert AuditEvent.objects.get(object_id=str(line.pk), action="hold").comment == "dispute"

    again = admin_client.post(url("soline_hold", line.pk), {"reason": ""})
    assert again.status_code == 200  # S10 refusal shown on the form
    assert again.context["form"].errors["__all__"] == ["S1-1 is already on hold"]

    admin_client.post(url("soline_release", line.pk), {"reason": "settled"})
    line.refresh_from_db()
    assert not line.hold

    bad = admin_client.post(
        url("soline_dates", line.pk), {"start_date": "2026-12-01", "end_date": "2026-06-30"}
    )
    assert bad.status_code == 200
    assert bad.context["form"].errors["end_date"] == ["end 2026-06-30 is before start 2026-12-01"]
    good = admin_client.post(
        url("soline_dates", line.pk),
        {"start_date": "2026-01-01", "end_date": "2027-06-30", "reason": "extended"},
    )
    assert good.status_code == 302
    line.refresh_from_db()
    assert str(line.rev_end_date) == "2027-06-30" and line.dates_changed


def test_s10_bulk_hold_with_reason_and_refusals(admin_client, data):
    lines = SoLine.objects.filter(so_line_id__in=["S1-1", "S1-2"])
    selection = {"action": "hold_selected", "_selected_action": [x.pk for x in lines]}
    page = admin_client.post(url("soline_changelist"), selection)
    assert page.status_code == 200 and b"Hold revenue" in page.content
    admin_client.post(url("soline_changelist"), {**selection, "confirm": "yes", "reason": "x"})
    assert SoLine.objects.filter(hold=True).count() == 2
    again = admin_client.post(
        url("soline_changelist"), {**selection, "confirm": "yes", "reason": "x"}, follow=True
    )
    assert "2 line(s) refused: S1-1 is already on hold; S1-2 is already on hold" in " ".join(
        messages_of(again)
    )


def test_manage_schedule_permission_is_required(client, data):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.set(
        Permission.objects.filter(content_type__app_label="revenue", codename="view_soline")
    )
    client.force_login(viewer)
    line = SoLine.objects.get(so_line_id="S1-1")
    assert client.get(url("soline_change", line.pk)).status_code == 200
    assert client.post(url("soline_hold", line.pk), {"reason": ""}).status_code == 403
    line.refresh_from_db()
    assert not line.hold


# --- journal (S3) -------------------------------------------------------------------------


def test_journal_list_trial_balance_filters_and_export(admin_client, data):
    """S3: the filtered set balances (debits = credits); export uses the journal columns."""
    base = url("journalentry_changelist")
    response = admin_client.get(base)
    (usd,) = response.context["balance"]
    assert usd.balanced and usd.dr == usd.cr
    by_account = {row.account: row for row in usd.rows}
    assert by_account["AR"].dr == 600  # S4: INV books AR Dr / CL Cr
    ar_only = admin_client.get(base, {"account": "AR"}).context["cl"]
    assert all("AR" in (e.dr_account, e.cr_account) for e in ar_only.result_list)
    assert admin_client.get(base, {"period": "202601"}).context["cl"].result_count > 0

    export = admin_client.get(url("journalentry_export"), {"account": "AR"})
    rows = list(csv.DictReader(io.StringIO(export.content.decode())))
    assert list(rows[0]) == [
        "PERIOD",
        "SO_LINE_ID",
        "SOURCE_TYPE",
        "ENTRY_TYPE",
        "ACCOUNT",
        "DR",
        "CR",
        "CURRENCY",
        "POSTED",
    ]
    assert len(rows) == 2 * ar_only.result_count


def test_journal_list_query_count_does_not_grow(admin_client, ledger):
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(HEADER + "\n" + so_rows(3))
    ledger.collect()
    counts = []
    for more in (0, 27):
        if more:
            ledger.stage(HEADER + "\n" + so_rows(more, start=500))
            ledger.collect()
        with CaptureQueriesContext(connection) as queries:
            admin_client.get(url("journalentry_changelist"))
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize(
    "model", ["inboundbatch", "revenuecontract", "collectionrun", "period", "validationrule"]
)
def test_other_lists_query_count_does_not_grow(admin_client, ledger, model):
    """No N+1 in the batch, contract, run and period lists: 3 rounds of data or 9, the
    same number of queries (counts and totals come per page, not per row)."""
    ledger.cmd("revenue_period", "open", "202601")
    counts = []
    for rounds in (3, 6):
        for i in range(rounds):
            ledger.stage(HEADER + "\n" + so_rows(2, start=1000 + 10 * len(counts) * 7 + i * 2))
            ledger.collect()
            ledger.cmd("revenue_period", "close")
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(url(f"{model}_changelist"))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- periods (S1, S2) -----------------------------------------------------------------------


def test_s1_open_first_period_refuses_a_bad_month(admin_client, db):
    listing = admin_client.get(url("period_changelist"))
    assert b"Open first period" in listing.content
    bad = admin_client.post(url("period_open"), {"period": "202613"})
    assert bad.status_code == 200
    assert bad.context["form"].errors["period"] == [  # S1, in words
        "'202613' is not a period: use YYYYMM, e.g. 201901"
    ]
    good = admin_client.post(url("period_open"), {"period": "202601"})
    assert good.status_code == 302
    assert Period.objects.get().status == Period.Status.OPEN


def test_s2_close_via_the_fsm_button_then_download_the_gl_file(admin_client, data):
    """S2: the transition button is routed through period_close: entries posted, GL file
    written, next month open; the file downloads through the admin."""
    period = Period.objects.get(pk=202601)
    page = admin_client.get(url("period_change", period.pk))
    assert b'name="_fsm_transition_to"' in page.content and b"Trial balance" in page.content
    response = admin_client.post(
        url("period_change", period.pk), {"_fsm_transition_to": "close"}, follow=True
    )
    assert response.status_code == 200
    period.refresh_from_db()
    assert period.status == Period.Status.CLOSED and period.closed_by is not None
    assert Period.objects.get(status=Period.Status.OPEN).pk == 202602
    assert not JournalEntry.objects.filter(period=202601, posted=False).exists()
    assert any("2026-01 closed" in m for m in messages_of(response))

    download = admin_client.get(url("period_gl", period.pk))
    assert download.status_code == 200
    body = b"".join(download.streaming_content).decode()
    assert body.splitlines()[0] == "PERIOD,ACCOUNT,CURRENCY,DR,CR,ENTRY_SIDES"
    assert "GL_202601.csv" in download["Content-Disposition"]
    closed_page = admin_client.get(url("period_change", period.pk))
    assert closed_page.context["balance"][0].balanced


def test_s2_close_open_period_confirmation_and_stale_refusal(admin_client, data):
    confirm = admin_client.get(url("period_close"))
    assert confirm.status_code == 200 and b"Close period 2026-01?" in confirm.content
    admin_client.post(url("period_close"), {"period": "202601"})
    assert Period.objects.get(status=Period.Status.OPEN).pk == 202602
    stale = admin_client.post(url("period_close"), {"period": "202601"}, follow=True)
    assert "already after 202601" in " ".join(messages_of(stale))
    assert Period.objects.get(status=Period.Status.OPEN).pk == 202602


def test_gl_download_needs_a_closed_period(admin_client, data):
    assert admin_client.get(url("period_gl", 202601)).status_code == 404


# --- collection runs (I6, I8) -------------------------------------------------------------


def test_i6_collect_now_queues_a_run_for_celery(
    admin_client, data, django_capture_on_commit_callbacks
):
    """I6: *Collect now* records a queued run and hands it to Celery after commit."""
    with (
        mock.patch("revenue.tasks.collect_inbound_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = admin_client.post(url("collectionrun_collect"), follow=True)
    run = CollectionRun.objects.order_by("-pk").first()
    assert run.trigger == CollectionRun.Trigger.ADMIN and run.status == CollectionRun.Status.QUEUED
    delay.assert_called_once_with(run_id=run.pk)
    assert any(f"Run {run.pk} queued" in m for m in messages_of(response))
    assert admin_client.get(url("collectionrun_collect")).status_code == 405


def test_i8_runs_list_shows_progress_and_the_beat_schedule(admin_client, data):
    response = admin_client.get(url("collectionrun_changelist"))
    html = response.content.decode()
    assert 'class="contra-progress"' in html and "revenue/runs.js" in html
    assert "Schedule: every 5 minutes" in html and "/admin/django_celery_beat/periodictask/" in html


def test_i8_progress_json(admin_client, data):
    run = CollectionRun.objects.create(trigger="ADMIN", status="RUNNING", total=40, processed=10)
    done = CollectionRun.objects.exclude(pk=run.pk).first()
    response = admin_client.get(url("collectionrun_progress"), {"ids": f"{run.pk},{done.pk},x"})
    payload = response.json()
    assert payload["active"] is True
    states = {state["id"]: state for state in payload["runs"]}
    assert states[run.pk]["percent"] == 25 and states[run.pk]["status"] == "RUNNING"
    assert states[done.pk]["percent"] == 100 and states[done.pk]["active"] is False


def test_collect_now_needs_the_permission(client, data):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.set(
        Permission.objects.filter(codename="view_collectionrun", content_type__app_label="revenue")
    )
    client.force_login(viewer)
    assert b'id="collect-now"' not in client.get(url("collectionrun_changelist")).content
    assert client.post(url("collectionrun_collect")).status_code == 403


# --- settings (V rules, P6) -----------------------------------------------------------------


def _list_post(client, name, rows, field, values):
    post = {
        "form-TOTAL_FORMS": str(len(rows)),
        "form-INITIAL_FORMS": str(len(rows)),
        "_save": "Save",
    }
    for index, obj in enumerate(rows):
        post[f"form-{index}-{obj._meta.pk.name}"] = obj.pk
        value = values.get(obj.pk, getattr(obj, field))
        if isinstance(value, bool):
            if value:
                post[f"form-{index}-{field}"] = "on"
        else:
            post[f"form-{index}-{field}"] = value
    return client.post(url(f"{name}_changelist"), post, follow=True)


def test_v1_rule_toggle_refusal_and_v6_switch(admin_client, db):
    """V1 (INB-001) cannot be disabled: the refusal is a message; V6 switches on (audited)."""
    rules = list(ValidationRule.objects.order_by("sort"))
    response = _list_post(
        admin_client,
        "validationrule",
        rules,
        "enabled",
        {"INB-001": False, "RPRO-00353": True},
    )
    text = " ".join(messages_of(response))
    assert "INB-001 checks mandatory fields and cannot be disabled" in text and "V1" not in text
    assert "1 validation rule(s) switched" in text
    assert ValidationRule.objects.get(code="INB-001").enabled
    assert ValidationRule.objects.get(code="RPRO-00353").enabled
    assert AuditEvent.objects.filter(object_id="RPRO-00353", action="enable").exists()


def test_p6_profile_setting_choices_and_refusal(admin_client, db):
    """P6: Y/N settings offer a choice list; a bad batch size is refused by the service."""
    settings = list(ProfileSetting.objects.order_by("name"))
    page = admin_client.get(url("profilesetting_changelist"))
    forms = {f.instance.pk: f for f in page.context["cl"].formset.forms}
    assert forms["CREATE_RORD_CONTRA_ENTRY"].fields["value"].choices == [("Y", "Y"), ("N", "N")]
    response = _list_post(
        admin_client,
        "profilesetting",
        settings,
        "value",
        {"CREATE_RORD_CONTRA_ENTRY": "Y", "COLLECTION_BATCH_SIZE": "lots"},
    )
    text = " ".join(messages_of(response))
    assert "COLLECTION_BATCH_SIZE must be a whole number" in text
    assert "1 profile setting(s) saved" in text
    assert ProfileSetting.objects.get(pk="CREATE_RORD_CONTRA_ENTRY").value == "Y"
    assert ProfileSetting.objects.get(pk="COLLECTION_BATCH_SIZE").value == "2000"


def test_p6_change_page_refusal_is_a_message(admin_client, db):
    """P6 on the single-setting page: the service refuses, the page says why."""
    page = url("profilesetting_change", "COLLECTION_BATCH_SIZE")
    response = admin_client.post(page, {"value": "0", "_save": "Save"}, follow=True)
    assert "COLLECTION_BATCH_SIZE must be a whole number 1–50000" in " ".join(messages_of(response))
    assert ProfileSetting.objects.get(pk="COLLECTION_BATCH_SIZE").value == "2000"
    admin_client.post(page, {"value": "500", "_save": "Save"})
    assert ProfileSetting.objects.get(pk="COLLECTION_BATCH_SIZE").value == "500"


def test_settings_cannot_be_added_or_deleted(admin_client, db):
    assert admin_client.get(url("validationrule_add")).status_code == 403
    assert admin_client.get(url("profilesetting_add")).status_code == 403


# --- contracts (A1) -------------------------------------------------------------------------


def test_contract_list_counts_lines_and_links_them(admin_client, data):
    response = admin_client.get(url("revenuecontract_changelist"))
    contract = next(c for c in response.context["cl"].result_list if c.rc_key == "S1")
    assert contract._lines == 2
    lines = admin_client.get(url("soline_changelist"), {"contract__id__exact": contract.pk})
    assert lines.context["cl"].result_count == 2


def test_error_code_filter_lists_only_the_codes_stopped_lines_carry_with_counts(admin_client, data):
    """The filter offers the codes that occur (not the whole registry), each with what it
    means and how many stopped lines carry it; a chosen code stays listed at 0."""
    base = url("inboundline_changelist")
    codes = {}
    for line in InboundLine.objects.filter(status="ERROR"):
        for code in line.error_codes.split(";"):
            codes[code] = codes.get(code, 0) + 1
    assert len(codes) >= 3 and ValidationRule.objects.count() > len(codes)
    cl = admin_client.get(base).context["cl"]
    spec = next(f for f in cl.filter_specs if getattr(f, "parameter_name", "") == "error_code")
    choices = dict(spec.lookup_choices)
    assert set(choices) == set(codes)
    for code, n in codes.items():
        assert choices[code].startswith(f"{code} · ") and choices[code].endswith(f"({n})")
    assert "could not be read" in choices["INB-000"]
    InboundLine.objects.filter(raw__SO_LINE_ID="S2-1").update(status="COLLECTED", error_codes="")
    cl = admin_client.get(base, {"error_code": "INB-000"}).context["cl"]
    spec = next(f for f in cl.filter_specs if getattr(f, "parameter_name", "") == "error_code")
    assert dict(spec.lookup_choices)["INB-000"].endswith("(0)") and cl.result_count == 0
