"""V1–V13: the validation registry. A stopped line lists every failing code."""

import io

import pytest
from django.core.management import CommandError, call_command

from revenue.models import InboundLine, ValidationRule

COLS = (
    "TRAN_TYPE,SO_NUM,SO_LINE_ID,ORIG_SO_LINE_ID,SO_DATE,INV_NUM,INV_LINE_ID,INV_DATE,ORD_QTY,"
    "INV_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,START_DATE,END_DATE,REV_METHOD,CANCEL_FLAG,"
    "RETURN_FLAG"
)
SO = "SO,S,S-1,,2026-01-01,,,,12,,1200,1200,USD,USD,2026-01-01,2026-12-31,RATABLE_MONTHLY,,"
RORD = "RORD,R,R-1,S-1,2026-07-01,,,,12,,-300,-300,USD,USD,2026-07-01,2026-12-31,,,"
INV = "INV,S,S-1,,,I1,I1-1,2026-01-05,12,12,1200,1200,USD,USD,,,,,"


@pytest.fixture
def collected_so(ledger):
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(f"{COLS}\n{SO}")
    ledger.collect()
    return ledger


def stopped(ledger, *rows) -> list[str]:
    start = InboundLine.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    ledger.stage(COLS + "\n" + "\n".join(rows))
    ledger.collect()
    return [line.error_codes for line in InboundLine.objects.filter(pk__gt=start).order_by("pk")]


def test_registry_defaults(db):
    """V1 on and locked; V6 and V7 off by default; 17 codes, none a part of another."""
    rules = {r.code: r for r in ValidationRule.objects.all()}
    assert len(rules) == 17
    assert rules["INB-001"].enabled and not rules["INB-001"].can_disable
    assert not rules["RPRO-00353"].enabled and not rules["RPRO-00356"].enabled
    assert all(r.enabled for c, r in rules.items() if c not in ("RPRO-00353", "RPRO-00356"))
    assert not any(a != b and a in b for a in rules for b in rules)


def test_v1_mandatory_fields_per_type_are_named(collected_so):
    """V1 INB-001: the message lists every missing field."""
    codes = stopped(collected_so, "SO,S,S-9,,,,,,1,,,100,USD,,,,,,")
    assert codes == ["INB-001"]
    line = InboundLine.objects.get(so_line_id="S-9")
    assert "EXT_LST_PRC, F_CUR, SO_DATE missing" in line.errors[0]["message"]


def test_v1_cannot_be_disabled(db):
    with pytest.raises(CommandError) as refused:
        call_command("revenue_rule", "INB-001", "--disable")
    assert refused.value.returncode == 2 and "cannot be disabled" in str(refused.value)


def test_v2_v3_v4_v5_on_a_bad_rord(collected_so):
    """V2 RPRO-00030, V3 RPRO-00058 / INB-002, V4 RPRO-00072, V5 INB-003, all listed."""
    bad = "RORD,R,R-2,,2026-07-01,,,,0,,300,300,USD,USD,2026-07-01,2026-12-31,,Y,N"
    (codes,) = stopped(collected_so, bad)
    assert codes.split(";") == [
        "INB-001",
        "RPRO-00030",
        "RPRO-00058",
        "INB-002",
        "RPRO-00072",
        "INB-003",
    ]


def test_v4_ord_qty_must_be_positive_on_so(collected_so):
    (codes,) = stopped(collected_so, SO.replace("S-1", "S-2").replace(",12,,1200", ",-1,,1200"))
    assert codes == "RPRO-00072"


def test_v6_dates_outside_the_so_line_when_enabled(collected_so):
    """V6 RPRO-00353 is off by default; on, a RORD ending after the SO line stops."""
    late = RORD.replace("2026-12-31", "2027-01-31")
    assert stopped(collected_so, late) == [""]
    call_command("revenue_rule", "RPRO-00353", "--enable", stdout=io.StringIO())
    assert stopped(collected_so, late.replace("R-1", "R-2")) == ["RPRO-00353"]


def test_v7_manual_schedule_change_stops_rords_unless_reviewed(collected_so, admin_user):
    """V7 RPRO-00356: the SO line was held by hand; review completed skips V6/V7 only."""
    from revenue.models import SoLine
    from revenue.services.manual import so_line_hold

    so_line_hold(line=SoLine.objects.get(), actor=admin_user)
    call_command("revenue_rule", "RPRO-00356", "--enable", stdout=io.StringIO())
    assert stopped(collected_so, RORD) == ["RPRO-00356"]
    rord = InboundLine.objects.get(tran_type="RORD")
    call_command("revenue_review", str(rord.pk), stdout=io.StringIO())
    collected_so.collect()
    rord.refresh_from_db()
    assert (rord.status, rord.error_codes) == ("COLLECTED", "")


def test_v8_currency_differs(collected_so):
    (codes,) = stopped(collected_so, RORD.replace("USD,USD", "EUR,EUR"))
    assert codes == "RPRO-00082"


def test_v9_reduction_larger_than_the_remaining_net_sell_price(collected_so):
    (codes,) = stopped(collected_so, RORD.replace("-300,-300", "-300,-1200.01"))
    assert codes == "RPRO-00357"


def test_v10_line_already_fully_returned(collected_so):
    from revenue.models import SoLine

    SoLine.objects.update(return_flag="Y")
    (codes,) = stopped(collected_so, RORD)
    assert codes == "RPRO-00620"


def test_v11_cm_ro_without_a_collected_rord(collected_so):
    cm_ro = "CM-RO,R,R-1,S-1,,I9,I9-1,2026-07-05,,12,,-300,USD,USD,,,,,"
    (codes,) = stopped(collected_so, cm_ro)
    assert codes == "RPRO-00683"


def test_v11_cm_ro_staged_with_its_rord_is_not_an_orphan(collected_so):
    """V11, I7: a CM-RO staged with its RORD (as the order side emits them) is collected
    after it in the same run: RORDs come before CM-ROs."""
    cm_ro = "CM-RO,R,R-1,S-1,,I9,I9-1,2026-07-05,,12,,-300,USD,USD,,,,,"
    assert stopped(collected_so, RORD, cm_ro) == ["", ""]
    statuses = set(InboundLine.objects.filter(so_num="R").values_list("status", flat=True))
    assert statuses == {"COLLECTED"}


def test_v12_waits_for_its_so_line_then_is_collected(collected_so):
    """V12 INB-004: an INV before its SO line waits and is retried automatically."""
    inv = INV.replace("S-1", "S-5").replace("I1-1", "I5-1")
    assert stopped(collected_so, inv) == ["INB-004"]
    line = InboundLine.objects.get(inv_line_id="I5-1")
    assert line.waiting and line.status == "ERROR"
    assert "collected 0" in collected_so.collect()  # its SO line is still missing
    line.refresh_from_db()
    assert line.waiting and line.status == "ERROR"
    collected_so.stage(f"{COLS}\n{SO.replace('S-1', 'S-5')}")
    assert "collected 2, stopped 0, waiting 0" in collected_so.collect()
    line.refresh_from_db()
    assert line.status == "COLLECTED" and line.line.so_line_id == "S-5"


def test_v13_duplicate_line_id_with_different_content_in_one_batch(collected_so):
    """V13 INB-005: both rows stop; identical duplicates are fine (idempotent)."""
    a = SO.replace("S-1", "S-7")
    b = a.replace("1200,1200", "1300,1300")
    assert stopped(collected_so, a, b) == ["INB-005", "INB-005"]
    assert stopped(collected_so, a, a) == ["", ""]


def test_disabled_rule_is_not_checked_and_its_stopped_lines_are_retried(collected_so):
    """Switching V8 off retries the lines it stopped."""
    (codes,) = stopped(collected_so, INV.replace("USD,USD", "EUR,EUR"))
    assert codes == "RPRO-00082"
    call_command("revenue_rule", "RPRO-00082", "--disable", stdout=io.StringIO())
    assert "collected 1" in collected_so.collect()


def test_v12_switched_off_an_invoice_without_its_so_line_still_waits(collected_so):
    """V12 off: no system error; the INV is stopped as waiting and booked once its SO arrives."""
    call_command("revenue_rule", "INB-004", "--disable", stdout=io.StringIO())
    inv = INV.replace("S-1", "S-6").replace("I1-1", "I6-1")
    assert stopped(collected_so, inv) == ["INB-004"]
    collected_so.stage(f"{COLS}\n{SO.replace('S-1', 'S-6')}")
    assert "collected 2" in collected_so.collect()
