"""I1–I5: staging from every door with one parser; bad values kept with their error."""

import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from core.exceptions import BusinessRuleRefused
from core.models import AuditEvent
from revenue.models import InboundBatch, InboundLine
from revenue.services.inbound import (
    InboundFileRefused,
    inbound_file_stage,
    inbound_line_delete,
    inbound_line_update,
    inbound_review_set,
    inbound_stage,
)

HEADER = (
    "TRAN_TYPE,SO_NUM,SO_LINE_ID,SO_DATE,ORD_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,"
    "START_DATE,END_DATE,REV_METHOD"
)
GOOD = "SO,A,A-1,2026-01-01,1,100,100,USD,USD,2026-01-01,2026-12-31,RATABLE_MONTHLY"


def stage_text(text: str, name="f.csv"):
    return inbound_file_stage(
        stream=io.BytesIO(text.encode()), filename=name, source=InboundBatch.SourceKind.COMMAND
    )


def test_i1_csv_json_and_service_share_one_parser(db):
    """I1: the same row through CSV, JSON and the service call gives the same parsed line."""
    row = dict(zip(HEADER.split(","), GOOD.split(","), strict=True))
    csv_batch = stage_text(f"{HEADER}\n{GOOD}\n")
    json_batch = stage_text(json.dumps([row]), name="f.json")
    service_batch = inbound_stage(rows=[row], source=InboundBatch.SourceKind.SERVICE)
    hashes = {b.lines.get().content_hash for b in (csv_batch, json_batch, service_batch)}
    assert len(hashes) == 1
    line = csv_batch.lines.get()
    assert (line.tran_type, line.ext_sll_prc, line.rev_method) == (
        "SO",
        Decimal("100"),
        "RATABLE_MONTHLY",
    )


def test_i2_bad_values_are_line_errors_and_nothing_is_dropped(db):
    """I2: unparseable values stop the line with INB-000 naming the column; raw kept as is."""
    rows = [
        GOOD,
        "SO,A,A-2,2026-13-01,1,100,1O0,USD,USD,2026-01-01,2026-12-31,RATABLE_MONTHLY",
        "XX,A,A-3,2026-01-01,1,100,100,USD,USD,2026-01-01,2026-12-31,RATABLE_MONTHLY",
        "SO,A,A-4,2026-01-01,1,100,100,US,USD,2026-02-01,2026-01-01,WEEKLY",
        "SO,A,A-5,2026-01-01,1,100,100.005,USD,USD,2026-01-01,2026-12-31,",
        "SO,A,A-6,2026-01-01,1,100,100,USD,USD,2026-01-01,2026-12-31,IMMEDIATE,extra",
    ]
    batch = stage_text(HEADER + "\n" + "\n".join(rows) + "\n")
    assert batch.line_count == 6 and batch.error_count == 5
    lines = {line.raw["SO_LINE_ID"]: line for line in InboundLine.objects.all()}
    assert lines["A-1"].status == "NEW" and lines["A-1"].errors == []
    bad_date = lines["A-2"]
    assert bad_date.status == "ERROR" and bad_date.error_codes == "INB-000"
    messages = " | ".join(e["message"] for e in bad_date.errors)
    assert "SO_DATE: '2026-13-01' is not a calendar date" in messages
    assert "EXT_SLL_PRC: '1O0' is not a decimal number" in messages
    assert bad_date.raw["EXT_SLL_PRC"] == "1O0"  # exactly as received
    assert "TRAN_TYPE: 'XX' is not one of SO" in lines["A-3"].errors[0]["message"]
    text = " | ".join(e["message"] for e in lines["A-4"].errors)
    assert "CURR: 'US' is not an ISO 4217" in text
    assert "REV_METHOD: 'WEEKLY'" in text
    assert "END_DATE: 2026-01-01 is before START_DATE 2026-02-01" in text
    assert "more decimals than USD allows" in lines["A-5"].errors[0]["message"]
    assert lines["A-5"].rev_method == "RATABLE_DAILY"
    assert "more values than the header" in lines["A-6"].errors[0]["message"]
    assert lines["A-6"].raw["__extra__"] == ["extra"]


def test_i2_a_nul_byte_stops_the_line_and_keeps_the_rest(db):
    """I2: no database text column holds a NUL byte; the line is kept, shown with U+FFFD,
    and stopped with INB-000 naming the column, never an exception."""
    rows = [
        {"TRAN_TYPE": "SO", "SO_LINE_ID": "N-1", "CUSTOMER": "Acme\x00Corp"},
        {"TRAN_TYPE": "SO", "SO_LINE_ID": "N-2", "CUSTOMER": "literal \\u0000 text"},
    ]
    inbound_stage(rows=rows, source=InboundBatch.SourceKind.SERVICE)
    bad, good = InboundLine.objects.order_by("pk")
    assert bad.status == "ERROR" and bad.error_codes == "INB-000"
    assert bad.customer == "Acme\ufffdCorp" and "CUSTOMER: contains a NUL byte" in str(
        bad.parse_errors
    )
    assert good.customer == "literal \\u0000 text" and not good.parse_errors


def test_i2_empty_rev_method_defaults_to_ratable_daily(db):
    batch = stage_text(f"{HEADER}\n{GOOD.replace('RATABLE_MONTHLY', '')}\n")
    assert batch.lines.get().rev_method == "RATABLE_DAILY"


@pytest.mark.parametrize(
    "content,message",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a CSV or JSON file"),
        (b"name,amount\nx,1\n", "the header row has no TRAN_TYPE column"),
        (b"", "is empty"),
        (b'{"TRAN_TYPE": "SO"}', "JSON must be an array of objects"),
        (b"[1, 2", "is not valid JSON"),
        ("TRAN_TYPE\nSO\xff\n".encode("latin-1"), "is not UTF-8"),
    ],
)
def test_i1_a_file_that_is_not_csv_or_json_is_refused_whole(db, tmp_path, content, message):
    """Bad input: refused with exit code 2 and one line; nothing is staged."""
    path = tmp_path / "bad.bin"
    path.write_bytes(content)
    with pytest.raises(CommandError) as refused:
        call_command("revenue_import", str(path), stdout=io.StringIO())
    assert refused.value.returncode == 2
    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert not InboundLine.objects.exists()
    with pytest.raises(InboundFileRefused):
        inbound_file_stage(stream=io.BytesIO(content), filename="bad.bin", source="UPLOAD")


def test_revenue_import_prints_the_summary_last(db, tmp_path):
    path = tmp_path / "ok.csv"
    path.write_text(f"{HEADER}\n{GOOD}\n{GOOD.replace('A-1', 'A-2').replace('100,100', 'x,100')}\n")
    out = io.StringIO()
    call_command("revenue_import", str(path), stdout=out)
    batch = InboundBatch.objects.get()
    assert out.getvalue().splitlines()[-1] == f"staged 2 lines (batch {batch.pk})"
    with pytest.raises(CommandError) as missing:
        call_command("revenue_import", str(tmp_path / "nope.csv"))
    assert missing.value.returncode == 2


def test_i3_i4_edit_fixes_a_line_and_is_audited(ledger, admin_user):
    """I4: an edit clears the parse error of the fixed field, requeues, and is audited;
    I3: the edited line is collected at the next run."""
    ledger.cmd("revenue_period", "open", "202601")
    stage_text(f"{HEADER}\n{GOOD.replace('100,100', '100,abc')}\n")
    line = InboundLine.objects.get()
    assert line.status == "ERROR"
    line = inbound_line_update(line=line, changes={"ext_sll_prc": Decimal("100")}, actor=admin_user)
    assert line.parse_errors == [] and line.status == "ERROR" and line.retry
    assert "collected 1" in ledger.collect()
    event = AuditEvent.objects.get(object_id=str(line.pk), action="edit")
    assert event.actor == admin_user and event.data["changed"]["ext_sll_prc"] == ["None", "100"]
    line.refresh_from_db()
    with pytest.raises(BusinessRuleRefused, match="^a collected line is read-only$") as refused:
        inbound_line_update(line=line, changes={"item": "x"}, actor=admin_user)
    assert refused.value.rule == "I4"
    with pytest.raises(BusinessRuleRefused, match="cannot be deleted") as refused:
        inbound_line_delete(line=line, actor=admin_user)
    assert refused.value.rule == "I4"


def test_i4_delete_a_staged_line_is_audited(db, admin_user):
    stage_text(f"{HEADER}\n{GOOD}\n")
    line = InboundLine.objects.get()
    inbound_line_delete(line=line, actor=admin_user)
    assert not InboundLine.objects.exists()
    assert AuditEvent.objects.get(action="delete").data["raw"]["SO_LINE_ID"] == "A-1"


def test_i5_review_flag_only_on_staged_rord_lines(db, admin_user):
    """I5: RORD Review Completed is set on RORD lines; other lines are refused by id."""
    stage_text("TRAN_TYPE,SO_LINE_ID,ORIG_SO_LINE_ID\nRORD,R-1,A-1\nSO,A-1,\n")
    rord, so = InboundLine.objects.order_by("pk")
    assert rord.rord_review_completed == "N"
    assert inbound_review_set(line_ids=[rord.pk], actor=admin_user) == 1
    rord.refresh_from_db()
    assert rord.rord_review_completed == "Y"
    with pytest.raises(BusinessRuleRefused, match=f"#{so.pk} is a SO line, not RORD"):
        inbound_review_set(line_ids=[so.pk], actor=admin_user)
    with pytest.raises(CommandError) as refused:
        call_command("revenue_review", "abc")
    assert refused.value.returncode == 2


def test_i2_a_huge_field_or_an_infinite_json_number_never_crashes(db):
    """Bad input: a CSV field over the csv module's limit refuses the file in one line;
    a JSON number that overflows to infinity is kept as text and stops its line."""
    with pytest.raises(InboundFileRefused, match="not a readable CSV file near line"):
        stage_text(f"{HEADER}\nSO,{'x' * 200_000},A-1\n")
    batch = stage_text('[{"TRAN_TYPE": "SO", "SO_LINE_ID": "A-1", "EXT_SLL_PRC": 1e400}]', "f.json")
    line = batch.lines.get()
    assert line.raw["EXT_SLL_PRC"] == "inf" and line.error_codes == "INB-000"


def test_i4_review_flag_is_not_an_ordinary_edit(db, admin_user):
    stage_text(f"{HEADER}\n{GOOD}\n")
    with pytest.raises(ValueError, match="not an editable staging field"):
        inbound_line_update(
            line=InboundLine.objects.get(), changes={"rord_review_completed": "Y"}, actor=admin_user
        )
