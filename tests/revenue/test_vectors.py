"""The worked vectors of vectors/revenue.md that the first revenue issue covers, run through
the management commands of interchange.md."""

from decimal import Decimal

from revenue.models import InboundLine
from tests.revenue.conftest import D

RV1_STEP1 = """
TRAN_TYPE,SO_NUM,SO_LINE_ID,SO_DATE,INV_NUM,INV_LINE_ID,INV_DATE,ITEM,ORD_QTY,INV_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,START_DATE,END_DATE,REV_METHOD
SO,SO100,SO100-1,2019-01-01,,,,Hardware,1,,1200,1200,USD,USD,2019-01-01,2019-01-01,IMMEDIATE
SO,SO100,SO100-2,2019-01-01,,,,Maintenance,12,,600,600,USD,USD,2019-01-01,2019-12-31,RATABLE_MONTHLY
SO,SO100,SO100-3,2019-01-01,,,,Support,12,,360,360,USD,USD,2019-01-01,2019-12-31,RATABLE_MONTHLY
INV,SO100,SO100-1,,INV100,INV100-1,2019-01-01,Hardware,1,1,1200,1200,USD,USD,2019-01-01,2019-01-01,
INV,SO100,SO100-2,,INV100,INV100-2,2019-01-01,Maintenance,12,12,600,600,USD,USD,2019-01-01,2019-12-31,
INV,SO100,SO100-3,,INV100,INV100-3,2019-01-01,Support,12,12,360,360,USD,USD,2019-01-01,2019-12-31,
"""


def test_rv1_step1_three_line_contract_schedules_and_nets(ledger):
    """RV1 step 1 (S4, S5, S6, S9): schedules 1200 / 12×50 / 12×30 and the period nets."""
    assert ledger.cmd("revenue_period", "open", "201901").strip() == "open period 201901"
    assert "staged 6 lines" in ledger.stage(RV1_STEP1)
    assert ledger.collect().strip().endswith("collected 6, stopped 0, waiting 0")

    schedule = ledger.schedule()
    assert schedule[("SO100-1", 201901, "INV")] == D(1200)
    for month in range(1, 13):
        assert schedule[("SO100-2", 201900 + month, "INV")] == D(50)
        assert schedule[("SO100-3", 201900 + month, "INV")] == D(30)
    assert len(schedule) == 25  # billed in full: no SO-source amount left

    nets = ledger.nets()
    assert nets[(201901, "AR")] == D(2160)
    assert nets[(201901, "CONTRACT_LIABILITY")] == D(-880)
    assert nets[(201901, "REVENUE")] == D(-1280)
    for month in range(2, 13):
        assert nets[(201900 + month, "CONTRACT_LIABILITY")] == D(80)
        assert nets[(201900 + month, "REVENUE")] == D(-80)
    assert len(nets) == 3 + 2 * 11


def test_rv2_cumulative_rounding_on_a_daily_ratable_line(ledger):
    """RV2 (S6, S7): 1000.00 EUR daily over 90 days → 188.89, 311.11, 344.44, 155.56."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(
        "TRAN_TYPE,SO_NUM,SO_LINE_ID,SO_DATE,ORD_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,"
        "START_DATE,END_DATE,REV_METHOD\n"
        "SO,R2,R2-1,2026-01-15,1,1000.00,1000.00,EUR,EUR,2026-01-15,2026-04-14,RATABLE_DAILY"
    )
    ledger.collect()
    rows = ledger.export("schedule")
    assert [(r["PERIOD"], r["SOURCE"], r["AMOUNT"]) for r in rows] == [
        ("202601", "SO", "188.89"),
        ("202602", "SO", "311.11"),
        ("202603", "SO", "344.44"),
        ("202604", "SO", "155.56"),
    ]
    assert sum(Decimal(r["AMOUNT"]) for r in rows) == Decimal("1000.00")


RV3_ROW = (
    "TRAN_TYPE,SO_NUM,SO_LINE_ID,SO_DATE,ORD_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,"
    "START_DATE,END_DATE,REV_METHOD\n"
    "SO,X,X-1,2026-01-10,1,{esp},{esp},USD,USD,2026-01-10,2026-01-10,IMMEDIATE"
)


def test_rv3_so_update_is_idempotent_and_books_only_the_difference(ledger):
    """RV3 (S11): the same SO again books nothing; 180 then 150 book +80 and −30."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(RV3_ROW.format(esp="100.00"))
    ledger.collect()
    assert ledger.nets() == {(202601, "CONTRACT_LIABILITY"): D(100), (202601, "REVENUE"): D(-100)}
    journal_rows = len(ledger.export("journal"))

    ledger.stage(RV3_ROW.format(esp="100.00"))
    assert "collected 1" in ledger.collect()
    assert len(ledger.export("journal")) == journal_rows

    ledger.stage(RV3_ROW.format(esp="180"))
    ledger.collect()
    assert ledger.nets() == {(202601, "CONTRACT_LIABILITY"): D(180), (202601, "REVENUE"): D(-180)}

    ledger.stage(RV3_ROW.format(esp="150"))
    ledger.collect()
    assert ledger.nets() == {(202601, "CONTRACT_LIABILITY"): D(150), (202601, "REVENUE"): D(-150)}
    line = ledger.export("lines")[0]
    assert (line["SO_LINE_ID"], line["EXT_SLL_PRC"], line["RECOGNIZED"]) == (
        "X-1",
        "150.00",
        "150.00",
    )


RV4_SO = (
    "TRAN_TYPE,SO_NUM,SO_LINE_ID,SO_DATE,ORD_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,"
    "START_DATE,END_DATE,REV_METHOD\n"
    "SO,Y,Y-1,2026-01-01,12,1200.00,1200.00,USD,USD,2026-01-01,2026-12-31,RATABLE_MONTHLY"
)
RV4_RORD = (
    "TRAN_TYPE,SO_NUM,SO_LINE_ID,ORIG_SO_LINE_ID,SO_DATE,ORD_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,"
    "F_CUR,START_DATE,END_DATE\n"
    "RORD,Y2,Y2-1,Y-1,2026-10-01,12,-300,{esp},USD,USD,2026-10-01,2027-01-31"
)


def test_rv4_stopped_in_staging_reviewed_then_collected(ledger):
    """RV4 (V6, I5, V3): RPRO-00353 stops the RORD until reviewed; a positive ESP is
    stopped with RPRO-00058 whatever the review flag says."""
    ledger.cmd("revenue_period", "open", "202601")
    assert "RPRO-00353 enabled [V6]" in ledger.cmd("revenue_rule", "RPRO-00353", "--enable")
    ledger.stage(RV4_SO)
    ledger.collect()

    ledger.stage(RV4_RORD.format(esp="-300"))
    assert ledger.collect().strip().endswith("collected 0, stopped 1, waiting 0")
    rord = InboundLine.objects.get(tran_type="RORD")
    staged = {row["ID"]: row for row in ledger.export("staging")}[str(rord.pk)]
    assert (staged["STATUS"], staged["ERROR_CODES"]) == ("ERROR", "RPRO-00353")

    raw = rord.raw
    assert "= Y on 1 line" in ledger.cmd("revenue_review", str(rord.pk))
    assert ledger.collect().strip().endswith("collected 1, stopped 0, waiting 0")
    rord.refresh_from_db()
    assert (rord.status, rord.error_codes, rord.rord_review_completed) == ("COLLECTED", "", "Y")
    assert rord.raw == raw  # nothing else about the line changed
    # P3: the 300 comes off the future months its dates cover (Oct–Dec; January 2027 is
    # outside the line, so its share comes off the latest of them)
    schedule = ledger.schedule()
    assert [schedule.get(("Y-1", 202600 + m, "SO"), 0) for m in range(1, 13)] == [100] * 9 + [0] * 3
    line = ledger.export("lines")[0]
    assert (line["EXT_SLL_PRC"], line["DEFERRED"]) == ("900.00", "800.00")

    ledger.stage(RV4_RORD.format(esp="300").replace("RORD,Y2,Y2-1", "RORD,Y3,Y3-1"))
    ledger.collect()
    positive = InboundLine.objects.get(so_line_id="Y3-1")
    assert positive.error_codes == "RPRO-00058;RPRO-00353"
    ledger.cmd("revenue_review", str(positive.pk))
    ledger.collect()
    positive.refresh_from_db()
    assert (positive.status, positive.error_codes) == ("ERROR", "RPRO-00058")


RV1_STEP2 = """
TRAN_TYPE,SO_NUM,SO_LINE_ID,ORIG_SO_LINE_ID,SO_DATE,ITEM,ORD_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,START_DATE,END_DATE
RORD,SO101,SO101-1,SO100-2,2019-11-01,Maintenance,12,-100,-100,USD,USD,2019-11-01,2019-12-31
"""
RV1_STEP3 = """
TRAN_TYPE,SO_NUM,SO_LINE_ID,ORIG_SO_LINE_ID,INV_NUM,INV_LINE_ID,INV_DATE,ITEM,INV_QTY,EXT_SLL_PRC,CURR,F_CUR
CM-RO,SO101,SO101-1,SO100-2,INV101,INV101-1,2019-11-15,Maintenance,12,-100,USD,USD
"""


def _rv1_through_step2(ledger, profile):
    ledger.cmd("revenue_period", "open", "201901")
    ledger.cmd("revenue_profile", "CREATE_RORD_CONTRA_ENTRY", profile)
    ledger.stage(RV1_STEP1)
    ledger.collect()
    ledger.cmd("revenue_period", "close", "--through", "201910")
    assert ledger.cmd("revenue_period", "show").strip().endswith("201911")
    ledger.stage(RV1_STEP2)
    assert ledger.collect().strip().endswith("collected 1, stopped 0, waiting 0")


def _nov_dec(ledger):
    nets = ledger.nets(period_from=201911)
    return {key: value for key, value in nets.items() if key[0] in (201911, 201912)}


def test_rv1_profile_n_reduction_then_cm_ro(ledger):
    """RV1 steps 2–3, profile N (P3 deferred first, P7 no contra, P9, S4)."""
    _rv1_through_step2(ledger, "N")
    assert _nov_dec(ledger) == {
        (201911, "CONTRACT_LIABILITY"): D(30),
        (201911, "REVENUE"): D(-30),
        (201912, "CONTRACT_LIABILITY"): D(30),
        (201912, "REVENUE"): D(-30),
    }
    line = {row["SO_LINE_ID"]: row for row in ledger.export("lines")}["SO100-2"]
    assert (line["EXT_SLL_PRC"], line["RECOGNIZED"], line["DEFERRED"], line["RETURN_FLAG"]) == (
        "500.00",
        "500.00",
        "0.00",
        "N",
    )
    schedule = ledger.schedule()
    ledger.stage(RV1_STEP3)
    assert ledger.collect().strip().endswith("collected 1, stopped 0, waiting 0")
    assert _nov_dec(ledger) == {
        (201911, "CONTRACT_LIABILITY"): D(130),
        (201911, "AR"): D(-100),
        (201911, "REVENUE"): D(-30),
        (201912, "CONTRACT_LIABILITY"): D(30),
        (201912, "REVENUE"): D(-30),
    }
    assert ledger.schedule() == schedule  # P9


def test_rv1_profile_y_contra_then_cm_ro_removes_it(ledger):
    """RV1 steps 2–3, profile Y (P7 contra 600 − 500, P8 unposted contra removed)."""
    _rv1_through_step2(ledger, "Y")
    assert _nov_dec(ledger) == {
        (201911, "CONTRACT_LIABILITY"): D(130),
        (201911, "CONTRA_AR"): D(-100),
        (201911, "REVENUE"): D(-30),
        (201912, "CONTRACT_LIABILITY"): D(30),
        (201912, "REVENUE"): D(-30),
    }
    schedule = ledger.schedule()
    ledger.stage(RV1_STEP3)
    ledger.collect()
    assert _nov_dec(ledger) == {
        (201911, "CONTRACT_LIABILITY"): D(130),
        (201911, "AR"): D(-100),
        (201911, "REVENUE"): D(-30),
        (201912, "CONTRACT_LIABILITY"): D(30),
        (201912, "REVENUE"): D(-30),
    }
    assert ledger.schedule() == schedule  # P9
