"""The carve vectors of vectors/carve.md (KV1, KV1-R, KV2, KV2-R, KV3), run through the
public commands: revenue_period, revenue_import, revenue_collect, revenue_profile and
revenue_export (journal nets, the carve export and the lines export)."""

from collections import defaultdict
from decimal import Decimal

import pytest

from tests.revenue.conftest import D

KV1_STEP1 = """
TRAN_TYPE,SO_NUM,SO_LINE_ID,SO_DATE,ITEM,ORD_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,START_DATE,END_DATE,REV_METHOD,SSP_PCT
SO,SO3001,SO3001-1,2019-01-01,Support,1,3600,1200,USD,USD,2019-01-01,2019-01-31,IMMEDIATE,72
SO,SO3001,SO3001-2,2019-01-01,Support,1,3600,2400,USD,USD,2019-02-01,2019-02-28,IMMEDIATE,72
SO,SO3001,SO3001-3,2019-01-01,Support,1,3600,3600,USD,USD,2019-03-01,2019-03-31,IMMEDIATE,72
"""
KV1_STEP2 = """
TRAN_TYPE,SO_NUM,SO_LINE_ID,ORIG_SO_LINE_ID,SO_DATE,ITEM,ORD_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,START_DATE,END_DATE
RORD,SO3002,SO3002-1,SO3001-3,2019-03-01,Support,1,-3600,-3600,USD,USD,2019-03-01,2019-03-31
"""
KV2_STEP1 = """
TRAN_TYPE,SO_NUM,SO_LINE_ID,SO_DATE,ITEM,ORD_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,START_DATE,END_DATE,REV_METHOD,SSP_PRICE
SO,SO2000,SO2000-1,2019-01-01,Hardware,1,1000,800,USD,USD,2019-01-01,2019-01-01,IMMEDIATE,900
SO,SO2000,SO2000-2,2019-01-01,Maintenance,1,720,600,USD,USD,2019-01-01,2019-12-31,RATABLE_MONTHLY,60
"""
KV2_STEP2 = """
TRAN_TYPE,SO_NUM,SO_LINE_ID,ORIG_SO_LINE_ID,SO_DATE,ITEM,ORD_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,START_DATE,END_DATE
RORD,SO2001,SO2001-1,SO2000-2,2019-04-10,Maintenance,1,-180,-150,USD,USD,2019-10-01,2019-12-31
"""
KV3_STEP1 = """
TRAN_TYPE,SO_NUM,SO_LINE_ID,SO_DATE,ITEM,ORD_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,START_DATE,END_DATE,REV_METHOD,SSP_PCT
SO,SO4000,SO4000-1,2026-01-01,License,1,10000,6000,USD,USD,2026-01-01,2026-01-01,IMMEDIATE,80
SO,SO4000,SO4000-2,2026-01-01,Support,1,4800,4800,USD,USD,2026-01-01,2026-12-31,RATABLE_MONTHLY,50
SO,SO4000,SO4000-3,2026-01-01,Training,1,2400,1200,USD,USD,2026-01-01,2026-06-30,RATABLE_MONTHLY,100
"""
KV3_STEP2 = """
TRAN_TYPE,SO_NUM,SO_LINE_ID,ORIG_SO_LINE_ID,SO_DATE,ITEM,ORD_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,START_DATE,END_DATE
RORD,SO4001,SO4001-1,SO4000-2,2026-04-15,Support,1,-4800,-4800,USD,USD,2026-01-01,2026-12-31
"""
ADJ = ("ADJ_LIABILITY", "ADJ_REVENUE")


@pytest.fixture(autouse=True)
def _no_contra(ledger):
    ledger.cmd("revenue_profile", "CREATE_RORD_CONTRA_ENTRY", "N")


def carve_rows(ledger) -> dict[tuple[str, int], Decimal]:
    """The carve export's AMOUNT summed per line and period, nets of zero left out."""
    sums: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
    for row in ledger.export("carve"):
        sums[(row["SO_LINE_ID"], int(row["PERIOD"]))] += Decimal(row["AMOUNT"])
    return {key: value for key, value in sums.items() if value}


def lines(ledger) -> dict[str, dict]:
    return {row["SO_LINE_ID"]: row for row in ledger.export("lines")}


def adj_nets(ledger) -> dict[int, Decimal]:
    """ADJ_LIABILITY net per period; ADJ_REVENUE must be its opposite."""
    nets = ledger.nets()
    out = {}
    for (period, account), value in nets.items():
        if account == "ADJ_LIABILITY":
            out[period] = value
            assert nets.get((period, "ADJ_REVENUE")) == -value, period
    assert {p for (p, a) in nets if a == "ADJ_REVENUE"} == set(out)
    return out


def kv1_step1(ledger):
    ledger.cmd("revenue_period", "open", "201901")
    ledger.stage(KV1_STEP1)
    assert ledger.collect().strip().endswith("collected 3, stopped 0, waiting 0")


def test_kv1_step1_three_immediate_lines_carve_follows_release(ledger):
    """KV1 step 1 (K2, K3, K9): carves +1200 / 0 / −1200 released with their lines."""
    kv1_step1(ledger)
    got = lines(ledger)
    assert [got[f"SO3001-{i}"]["ALLOCATED"] for i in (1, 2, 3)] == ["2400.00"] * 3
    assert [got[f"SO3001-{i}"]["CARVE"] for i in (1, 2, 3)] == ["1200.00", "0.00", "-1200.00"]
    assert [got[f"SO3001-{i}"]["CARVE_RECOGNIZED"] for i in (1, 2, 3)] == [
        "1200.00",
        "0.00",
        "0.00",
    ]
    assert [got[f"SO3001-{i}"]["CARVE_DEFERRED"] for i in (1, 2, 3)] == [
        "0.00",
        "0.00",
        "-1200.00",
    ]
    assert {got[f"SO3001-{i}"]["TREATMENT"] for i in (1, 2, 3)} == {"RETROSPECTIVE"}
    assert carve_rows(ledger) == {("SO3001-1", 201901): D(1200), ("SO3001-3", 201903): D(-1200)}
    nets = ledger.nets()
    assert nets[(201901, "CONTRACT_LIABILITY")] == D(1200)
    assert nets[(201901, "REVENUE")] == D(-1200)
    assert nets[(201902, "REVENUE")] == D(-2400)
    assert nets[(201903, "REVENUE")] == D(-3600)
    assert adj_nets(ledger) == {201901: D(1200), 201903: D(-1200)}
    journal = [r for r in ledger.export("journal") if r["SOURCE_TYPE"] == "ADJ"]
    assert {r["ENTRY_TYPE"] for r in journal} == {"RELEASE"}
    assert {r["ACCOUNT"] for r in journal} == set(ADJ)


def test_kv1_step2_prospective_full_reduction_puts_residual_on_reduced_line(ledger):
    """KV1 step 2 (K7, default PROSPECTIVE): Σ s = 0, X = −1200, all residual on SO3001-3,
    already booked: no new carve rows."""
    kv1_step1(ledger)
    ledger.cmd("revenue_period", "close", "--through", "201902")
    ledger.stage(KV1_STEP2)
    assert ledger.collect().strip().endswith("collected 1, stopped 0, waiting 0")
    assert carve_rows(ledger) == {("SO3001-1", 201901): D(1200), ("SO3001-3", 201903): D(-1200)}
    assert len(ledger.export("carve")) == 2
    nets = ledger.nets()
    assert nets.get((201903, "CONTRACT_LIABILITY"), D(0)) == 0
    assert nets.get((201903, "REVENUE"), D(0)) == 0
    assert adj_nets(ledger) == {201901: D(1200), 201903: D(-1200)}
    got = lines(ledger)
    one, two, three = got["SO3001-1"], got["SO3001-2"], got["SO3001-3"]
    assert (one["ALLOCATED"], one["CARVE"], one["CARVE_RECOGNIZED"], one["CARVE_DEFERRED"]) == (
        "2400.00",
        "1200.00",
        "1200.00",
        "0.00",
    )
    assert one["TREATMENT"] == "PROSPECTIVE"
    assert (two["ALLOCATED"], two["CARVE"]) == ("2400.00", "0.00")
    assert (three["RETURN_FLAG"], three["EXT_SLL_PRC"]) == ("Y", "0.00")
    assert (three["CARVE"], three["CARVE_RECOGNIZED"]) == ("-1200.00", "-1200.00")


def test_kv1r_retrospective_reshares_the_remaining_pool(ledger):
    """KV1-R (K6 under REDUCTION_TREATMENT RETROSPECTIVE): 1800 / 1800, catch-ups −600 and
    −600, SO3001-3's −1200 taken back."""
    ledger.cmd("revenue_profile", "REDUCTION_TREATMENT", "RETROSPECTIVE")
    kv1_step1(ledger)
    ledger.cmd("revenue_period", "close", "--through", "201902")
    ledger.stage(KV1_STEP2)
    ledger.collect()
    assert adj_nets(ledger) == {201901: D(1200), 201903: D(-1200)}
    assert carve_rows(ledger) == {
        ("SO3001-1", 201901): D(1200),
        ("SO3001-1", 201903): D(-600),
        ("SO3001-2", 201903): D(-600),
    }
    kinds = {
        (r["SO_LINE_ID"], r["ENTRY_TYPE"])
        for r in ledger.export("carve")
        if r["PERIOD"] == "201903" and r["SO_LINE_ID"] != "SO3001-3"
    }
    assert kinds == {("SO3001-1", "CATCH_UP"), ("SO3001-2", "CATCH_UP")}
    got = lines(ledger)
    assert (got["SO3001-1"]["ALLOCATED"], got["SO3001-1"]["CARVE"]) == ("1800.00", "600.00")
    assert got["SO3001-1"]["CARVE_RECOGNIZED"] == "600.00"
    assert (got["SO3001-2"]["ALLOCATED"], got["SO3001-2"]["CARVE"]) == ("1800.00", "-600.00")
    assert got["SO3001-2"]["CARVE_RECOGNIZED"] == "-600.00"
    three = got["SO3001-3"]
    assert three["RETURN_FLAG"] == "Y"
    assert [three[k] for k in ("ALLOCATED", "CARVE", "CARVE_RECOGNIZED", "TREATMENT")] == [""] * 4


def kv2_step1(ledger):
    ledger.cmd("revenue_period", "open", "201901")
    ledger.stage(KV2_STEP1)
    ledger.collect()


KV2_STEP1_CARVE = {("SO2000-1", 201901): D("-22.22")} | {
    ("SO2000-2", 201900 + m): D("1.86") if m in (3, 9) else D("1.85") for m in range(1, 13)
}


def test_kv2_step1_amount_ssp_and_a_ratable_carve(ledger):
    """KV2 step 1 (A2, A3, K2): 777.78 / 622.22, SO2000-2's 22.22 cumulated over 12 months."""
    kv2_step1(ledger)
    got = lines(ledger)
    assert (got["SO2000-1"]["EXT_SSP"], got["SO2000-2"]["EXT_SSP"]) == ("900.00", "720.00")
    assert (got["SO2000-1"]["ALLOCATED"], got["SO2000-2"]["ALLOCATED"]) == ("777.78", "622.22")
    assert carve_rows(ledger) == KV2_STEP1_CARVE
    nets = adj_nets(ledger)
    assert nets[201901] == D("-20.37")
    assert nets[201903] == nets[201909] == D("1.86")
    assert all(nets[201900 + m] == D("1.85") for m in (2, 4, 5, 6, 7, 8, 10, 11, 12))


def test_kv2_step2_prospective_partial_reduction_spreads_the_rest(ledger):
    """KV2 step 2 (K7): X = 316.66 placed on SO2000-2, C = 22.22 spread April–September."""
    kv2_step1(ledger)
    ledger.cmd("revenue_period", "close", "--through", "201903")
    ledger.stage(KV2_STEP2)
    ledger.collect()
    expected = {("SO2000-1", 201901): D("-22.22")}
    expected |= {("SO2000-2", 201901): D("1.85"), ("SO2000-2", 201902): D("1.85")}
    expected[("SO2000-2", 201903)] = D("1.86")
    for month, amount in zip(
        range(4, 10), ("2.78", "2.77", "2.78", "2.78", "2.77", "2.78"), strict=True
    ):
        expected[("SO2000-2", 201900 + month)] = D(amount)
    assert carve_rows(ledger) == expected
    nets = ledger.nets()
    for month in (10, 11, 12):
        assert not any(nets.get((201900 + month, a)) for a in ("CONTRACT_LIABILITY", "REVENUE"))
    got = lines(ledger)
    one, two = got["SO2000-1"], got["SO2000-2"]
    assert [one[k] for k in ("EXT_SSP", "ALLOCATED", "CARVE", "CARVE_RECOGNIZED")] == [
        "900.00",
        "777.78",
        "-22.22",
        "-22.22",
    ]
    assert one["CARVE_DEFERRED"] == "0.00"
    assert [
        two[k]
        for k in (
            "EXT_SLL_PRC",
            "RECOGNIZED",
            "DEFERRED",
            "EXT_SSP",
            "ALLOCATED",
            "CARVE",
            "CARVE_RECOGNIZED",
            "CARVE_DEFERRED",
            "TREATMENT",
        )
    ] == [
        "450.00",
        "200.00",
        "250.00",
        "540.00",
        "472.22",
        "22.22",
        "8.34",
        "13.88",
        "PROSPECTIVE",
    ]


def test_kv2r_retrospective_partial_reduction_catches_up(ledger):
    """KV2-R (K6, K4): 781.25 / 468.75, deltas with CATCH_UP and RELEASE parts in 201904."""
    ledger.cmd("revenue_profile", "REDUCTION_TREATMENT", "RETROSPECTIVE")
    kv2_step1(ledger)
    ledger.cmd("revenue_period", "close", "--through", "201903")
    ledger.stage(KV2_STEP2)
    ledger.collect()
    april = [
        (r["SO_LINE_ID"], r["ENTRY_TYPE"], r["AMOUNT"])
        for r in ledger.export("carve")
        if r["PERIOD"] == "201904"
    ]
    assert sorted(april) == sorted(
        [
            ("SO2000-1", "CATCH_UP", "3.47"),
            ("SO2000-2", "RELEASE", "1.85"),
            ("SO2000-2", "CATCH_UP", "0.69"),
            ("SO2000-2", "RELEASE", "0.23"),
        ]
    )
    rows = carve_rows(ledger)
    assert rows[("SO2000-1", 201904)] == D("3.47")
    for month, amount in zip(
        range(4, 10), ("2.77", "2.09", "2.08", "2.08", "2.09", "2.08"), strict=True
    ):
        assert rows[("SO2000-2", 201900 + month)] == D(amount), month
    assert not any(rows.get(("SO2000-2", 201900 + m)) for m in (10, 11, 12))
    nets = adj_nets(ledger)
    assert nets[201904] == D("6.24")
    assert nets[201905] == nets[201908] == D("2.09")
    assert nets[201906] == nets[201907] == nets[201909] == D("2.08")
    assert not any(nets.get(201900 + m) for m in (10, 11, 12))
    got = lines(ledger)
    assert [got["SO2000-1"][k] for k in ("ALLOCATED", "CARVE", "CARVE_RECOGNIZED")] == [
        "781.25",
        "-18.75",
        "-18.75",
    ]
    two = got["SO2000-2"]
    assert [two[k] for k in ("ALLOCATED", "CARVE", "CARVE_RECOGNIZED", "CARVE_DEFERRED")] == [
        "468.75",
        "18.75",
        "8.33",
        "10.42",
    ]
    assert two["TREATMENT"] == "RETROSPECTIVE"


def test_kv3_full_reduction_giving_back_closed_revenue_is_retrospective(ledger):
    """KV3 (K6 whatever the profile, K4): 5538.46 / 1661.54 and the catch-ups of 202604."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(KV3_STEP1)
    ledger.collect()
    rows = carve_rows(ledger)
    assert rows[("SO4000-1", 202601)] == D(1500)
    assert all(rows[("SO4000-2", 202600 + m)] == D("-212.50") for m in range(1, 13))
    assert all(rows[("SO4000-3", 202600 + m)] == D(175) for m in range(1, 7))
    nets = adj_nets(ledger)
    assert nets[202601] == D("1462.50")
    assert all(nets[202600 + m] == D("-37.50") for m in range(2, 7))
    assert all(nets[202600 + m] == D("-212.50") for m in range(7, 13))

    ledger.cmd("revenue_period", "close", "--through", "202603")
    ledger.stage(KV3_STEP2)
    ledger.collect()
    rows = carve_rows(ledger)
    expected = {("SO4000-1", 202601): D(1500), ("SO4000-1", 202604): D("-1961.54")}
    expected |= {("SO4000-2", 202600 + m): D("-212.50") for m in (1, 2, 3)}
    expected[("SO4000-2", 202604)] = D("637.50")
    expected |= {("SO4000-3", 202600 + m): D(175) for m in (1, 2, 3)}
    expected |= {
        ("SO4000-3", 202604): D("-217.31"),
        ("SO4000-3", 202605): D("76.93"),
        ("SO4000-3", 202606): D("76.92"),
    }
    assert rows == expected
    nets = ledger.nets()
    assert nets[(202604, "CONTRACT_LIABILITY")] == D(-1000)
    assert nets[(202604, "REVENUE")] == D(1000)
    adj = adj_nets(ledger)
    assert adj[202604] == D("-1541.35")
    assert adj[202605] == D("76.93")
    assert adj[202606] == D("76.92")
    assert not any(adj.get(202600 + m) for m in range(7, 13))
    assert sum(adj.values()) == 0
    got = lines(ledger)
    one, two, three = got["SO4000-1"], got["SO4000-2"], got["SO4000-3"]
    assert [one[k] for k in ("ALLOCATED", "CARVE", "CARVE_RECOGNIZED", "CARVE_DEFERRED")] == [
        "5538.46",
        "-461.54",
        "-461.54",
        "0.00",
    ]
    assert one["TREATMENT"] == "RETROSPECTIVE"
    assert (two["RETURN_FLAG"], two["EXT_SLL_PRC"]) == ("Y", "0.00")
    assert all(
        two[k] == ""
        for k in ("ALLOCATABLE", "RECOGNIZED", "DEFERRED", "EXT_SSP", "ALLOCATED", "CARVE")
    )
    assert [
        three[k] for k in ("RECOGNIZED", "DEFERRED", "ALLOCATED", "CARVE", "CARVE_RECOGNIZED")
    ] == ["800.00", "400.00", "1661.54", "461.54", "307.69"]
    assert three["CARVE_DEFERRED"] == "153.85"
    april = {
        (r["SO_LINE_ID"], r["ENTRY_TYPE"]): r["AMOUNT"]
        for r in ledger.export("carve")
        if r["PERIOD"] == "202604"
    }
    assert april[("SO4000-1", "CATCH_UP")] == "-1961.54"
    assert april[("SO4000-2", "CATCH_UP")] == "637.50"
    assert april[("SO4000-3", "CATCH_UP")] == "-294.23"


def test_k7_reduction_treatment_profile_refuses_an_unknown_value(ledger):
    """K7: REDUCTION_TREATMENT is PROSPECTIVE (the default) or RETROSPECTIVE; anything else
    exits 2 naming the allowed values and changes nothing."""
    from django.core.management.base import CommandError

    from revenue.services.settings import profile_get

    with pytest.raises(CommandError) as refused:
        ledger.cmd("revenue_profile", "REDUCTION_TREATMENT", "SIDEWAYS")
    assert refused.value.returncode == 2
    assert "PROSPECTIVE, RETROSPECTIVE" in str(refused.value)
    assert profile_get("REDUCTION_TREATMENT") == "PROSPECTIVE"
    ledger.cmd("revenue_profile", "REDUCTION_TREATMENT", "retrospective")
    assert profile_get("REDUCTION_TREATMENT") == "RETROSPECTIVE"
