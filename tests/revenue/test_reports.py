"""Month-end reports on the worked vector RV1 (close.md M1–M3, vectors/revenue.md), with
every figure computed by hand, and the command's interface (interchange.md)."""

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command

from revenue.services.settings import profile_set
from tests.revenue.report_checks import (
    CARVE_KEYS,
    M1_ROW_KEYS,
    M2_ROW_KEYS,
    M3_ROW_KEYS,
    assert_fast_totals,
    report,
)
from tests.revenue.test_vectors import RV1_STEP1

RV1_RORD = (
    "TRAN_TYPE,SO_NUM,SO_LINE_ID,ORIG_SO_LINE_ID,SO_DATE,ITEM,ORD_QTY,EXT_LST_PRC,EXT_SLL_PRC,"
    "CURR,F_CUR,START_DATE,END_DATE\n"
    "RORD,SO101,SO101-1,SO100-2,2019-11-01,Maintenance,12,-100,-100,USD,USD,2019-11-01,2019-12-31"
)
RV1_CMRO = (
    "TRAN_TYPE,SO_NUM,SO_LINE_ID,ORIG_SO_LINE_ID,INV_NUM,INV_LINE_ID,INV_DATE,ITEM,INV_QTY,"
    "EXT_SLL_PRC,CURR,F_CUR\n"
    "CM-RO,SO101,SO101-1,SO100-2,INV101,INV101-1,2019-11-15,Maintenance,12,-100,USD,USD"
)


@pytest.fixture
def rv1(ledger):
    ledger.cmd("revenue_period", "open", "201901")
    ledger.stage(RV1_STEP1)
    ledger.collect()
    return ledger


@pytest.fixture
def rv1_reduced(rv1):
    """RV1 steps 2 and 3 with contra Y: closed through 201910, RORD −100, CM-RO −100."""
    rv1.cmd("revenue_period", "close", "--through", "201910")
    profile_set(name="CREATE_RORD_CONTRA_ENTRY", value="Y", actor=None)
    rv1.stage(RV1_RORD)
    rv1.collect()
    return rv1


def test_m1_waterfall_rv1_step1(rv1):
    """M1: SO100 recognizes 1280 in 201901 (hardware + the first months), then 80 a month."""
    data = report("waterfall")
    assert data["report"] == "waterfall" and data["period"] == "201901"
    assert set(data) == {"report", "period", "basis", "rows", "totals"}
    assert data["basis"] == "asc606"  # the default (carve.md K9)
    [row] = data["rows"]
    assert set(row) == M1_ROW_KEYS | CARVE_KEYS
    assert row["group"] == "SO100" and row["currency"] == "USD"
    assert row["recognized"] == "1280.00"
    assert (row["contractual"], row["carve"]) == ("1280.00", "0.00")  # no SSP: no carve
    assert row["periods"] == {f"2019{m:02d}": "80.00" for m in range(2, 13)} | {"202001": "0.00"}
    assert (row["later"], row["deferred"], row["total"]) == ("0.00", "880.00", "2160.00")
    assert data["totals"] == [{k: v for k, v in row.items() if k != "group"}]
    assert_fast_totals("waterfall", data)


def test_m1_waterfall_periods_option_moves_the_rest_to_later(rv1):
    """M1 --periods N: the next N periods, then every period after them in `later`."""
    [row] = report("waterfall", "--periods", "3")["rows"]
    assert list(row["periods"]) == ["201902", "201903", "201904"]
    assert row["later"] == "640.00" and row["deferred"] == "880.00"


def test_m1_waterfall_by_line_and_item(rv1):
    """M1 --by line / item: one row per SO_LINE_ID / ITEM."""
    rows = {r["group"]: r for r in report("waterfall", "--by", "line")["rows"]}
    assert {k: v["total"] for k, v in rows.items()} == {
        "SO100-1": "1200.00",
        "SO100-2": "600.00",
        "SO100-3": "360.00",
    }
    assert rows["SO100-2"]["recognized"] == "50.00"
    items = {r["group"] for r in report("waterfall", "--by", "item")["rows"]}
    assert items == {"Hardware", "Maintenance", "Support"}


def test_m3_balances_rv1_step1(rv1):
    """M3: billed 2160 ahead of 1280 recognized → a contract liability of 880, RPO 880."""
    data = report("balances")
    [row] = data["rows"]
    assert set(row) == M3_ROW_KEYS | CARVE_KEYS
    assert (row.pop("contractual"), row.pop("carve")) == ("1280.00", "0.00")
    [contractual] = report("balances", "--basis", "contractual")["rows"]
    assert contractual == row
    assert row == {
        "group": "SO100",
        "currency": "USD",
        "billed": "2160.00",
        "recognized": "1280.00",
        "cl_balance": "880.00",
        "contract_liability": "880.00",
        "contract_asset": "0.00",
        "rpo": "880.00",
        "rpo_12": "880.00",
        "rpo_24": "0.00",
        "rpo_later": "0.00",
    }


def test_m2_rollforward_rv1_step1(rv1):
    """M2: 201901 opens at 0, bills 2160, releases 1280, closes at 880."""
    data = report("rollforward", "--period", "201901", "--through", "201903")
    rows = data["rows"]
    assert [set(r) for r in rows] == [M2_ROW_KEYS | {"carve"}] * 3
    assert {r["carve"] for r in rows} == {"0.00"}
    first, second, third = rows
    assert (first["opening"], first["billed"], first["released"], first["closing"]) == (
        "0.00",
        "2160.00",
        "1280.00",
        "880.00",
    )
    assert (second["opening"], second["released"], second["closing"]) == (
        "880.00",
        "80.00",
        "800.00",
    )
    assert third["opening"] == second["closing"] and third["closing"] == "720.00"
    [total] = data["totals"]
    assert (total["opening"], total["billed"], total["released"], total["closing"]) == (
        "0.00",
        "2160.00",
        "1440.00",
        "720.00",
    )


def test_m2_rollforward_rord_with_contra_then_cmro(rv1_reduced, ledger):
    """M2 on RV1 steps 2–3 (P3, P7, P8): 201911 opens at 160 (880 − 9 × 80); the RORD
    reverses 50 of November's release and books contra 100; the CM-RO credits 100 and
    removes the unposted contra."""
    [nov] = report("rollforward")["rows"]
    assert nov["period"] == "201911"
    assert (nov["opening"], nov["released"], nov["reversed"], nov["contra"]) == (
        "160.00",
        "80.00",
        "50.00",
        "100.00",
    )
    assert nov["closing"] == "30.00"
    [nov, dec] = report("rollforward", "--through", "201912")["rows"]
    assert (dec["opening"], dec["released"], dec["reversed"], dec["closing"]) == (
        "30.00",
        "80.00",
        "50.00",
        "0.00",
    )
    ledger.stage(RV1_CMRO)
    ledger.collect()
    [nov] = report("rollforward")["rows"]
    assert (nov["credited"], nov["contra"], nov["closing"]) == ("100.00", "0.00", "30.00")


def test_m3_balances_after_reduction_and_credit(rv1_reduced, ledger):
    """M3 on RV1 step 3: billed 2160 − 100, recognized 1280 + 9 × 80 + (80 − 50), RPO 30."""
    ledger.stage(RV1_CMRO)
    ledger.collect()
    data = report("balances")
    assert_fast_totals("balances", data)
    [row] = data["rows"]
    assert (row["billed"], row["recognized"], row["cl_balance"]) == ("2060.00", "2030.00", "30.00")
    assert (row["contract_liability"], row["rpo"], row["rpo_12"]) == ("30.00", "30.00", "30.00")


def test_m3_contract_asset_when_revenue_runs_ahead_of_billing(ledger):
    """M3: an unbilled immediate line is a contract asset (−CL), billed ahead a liability;
    two contracts are never netted against each other."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(
        "TRAN_TYPE,SO_NUM,SO_LINE_ID,SO_DATE,INV_NUM,INV_LINE_ID,INV_DATE,ITEM,ORD_QTY,INV_QTY,"
        "EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,START_DATE,END_DATE,REV_METHOD,CUSTOMER\n"
        "SO,A,A-1,2026-01-05,,,,HW,1,,500,500,USD,USD,2026-01-05,2026-01-05,IMMEDIATE,ACME\n"
        "SO,B,B-1,2026-01-05,,,,SVC,12,,1200,1200,USD,USD,2026-01-01,2026-12-31,RATABLE_MONTHLY,ACME\n"
        "INV,B,B-1,,IB,IB-1,2026-01-05,SVC,12,12,1200,1200,USD,USD,2026-01-01,2026-12-31,,ACME\n"
    )
    ledger.collect()
    data = report("balances")
    rows = {r["group"]: r for r in data["rows"]}
    assert (rows["A"]["contract_asset"], rows["A"]["contract_liability"]) == ("500.00", "0.00")
    # M6: the page's totals, from the ledger totals, net per contract too
    assert_fast_totals("balances", data)
    assert data["totals"][0]["contract_asset"] == "500.00"
    assert rows["A"]["cl_balance"] == "-500.00" and rows["A"]["billed"] == "0.00"
    assert (rows["B"]["contract_liability"], rows["B"]["rpo"]) == ("1100.00", "1100.00")
    [customer] = report("balances", "--by", "customer")["rows"]
    assert customer["group"] == "ACME"
    # the customer's row adds its contracts' net figures: both sides show
    assert (customer["contract_liability"], customer["contract_asset"]) == ("1100.00", "500.00")
    assert customer["cl_balance"] == "600.00"


def test_m3_m6_a_contract_split_across_customers_is_netted_per_customer(ledger, monkeypatch):
    """M3 --by customer nets each contract inside each customer: one contract (SO C) with a
    line of ACME billed ahead (liability 1100) and a line of BETA unbilled (asset 500) shows
    both sides; by contract the same contract nets to one liability of 600. The page's
    totals (M6: ledger totals, with the split contract read from the journal) are the
    report's, for every grouping."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(
        "TRAN_TYPE,SO_NUM,SO_LINE_ID,SO_DATE,INV_NUM,INV_LINE_ID,INV_DATE,ITEM,ORD_QTY,INV_QTY,"
        "EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,START_DATE,END_DATE,REV_METHOD,CUSTOMER\n"
        "SO,C,C-1,2026-01-05,,,,SVC,12,,1200,1200,USD,USD,2026-01-01,2026-12-31,RATABLE_MONTHLY,ACME\n"
        "SO,C,C-2,2026-01-05,,,,HW,1,,500,500,USD,USD,2026-01-05,2026-01-05,IMMEDIATE,BETA\n"
        "INV,C,C-1,,IC,IC-1,2026-01-05,SVC,12,12,1200,1200,USD,USD,2026-01-01,2026-12-31,,ACME\n"
        "SO,D,D-1,2026-01-05,,,,HW,1,,70,70,USD,USD,2026-01-05,2026-01-05,IMMEDIATE,ACME\n"
    )
    ledger.collect()
    [by_contract, _d] = report("balances")["rows"]
    assert (by_contract["contract_liability"], by_contract["contract_asset"]) == ("600.00", "0.00")
    data = report("balances", "--by", "customer")
    rows = {r["group"]: r for r in data["rows"]}
    assert (rows["ACME"]["contract_liability"], rows["ACME"]["contract_asset"]) == (
        "1100.00",
        "70.00",
    )
    assert (rows["BETA"]["contract_liability"], rows["BETA"]["contract_asset"]) == (
        "0.00",
        "500.00",
    )
    assert (data["totals"][0]["contract_liability"], data["totals"][0]["contract_asset"]) == (
        "1100.00",
        "570.00",
    )
    groupings = ("contract", "customer", "item", "line")
    reports = {by: report("balances", "--by", by) for by in groupings}

    def no_rows(*args, **kwargs):
        raise AssertionError("the totals were added up from the rows")

    monkeypatch.setattr("revenue.reports.report_build", no_rows)
    for by in groupings:
        assert_fast_totals("balances", reports[by], by=by)


def test_reports_filter_by_currency_and_basis(rv1):
    """--currency keeps one currency; with no carve booked --basis contractual has the
    figures of asc606, without its carve columns (contractual and carve, all 0.00)."""
    assert report("waterfall", "--currency", "EUR")["rows"] == []
    assert report("waterfall", "--currency", "usd")["totals"][0]["total"] == "2160.00"
    for kind in ("waterfall", "balances", "rollforward"):
        contractual = report(kind, "--basis", "contractual")
        asc606 = report(kind, "--basis", "asc606")
        assert (contractual.pop("basis"), asc606.pop("basis")) == ("contractual", "asc606")
        for part in ("rows", "totals"):
            pairs = zip(contractual[part], asc606[part], strict=True)
            assert [{k: r[k] for k in c} for c, r in pairs] == contractual[part]
            assert {r.get("carve", "0.00") for r in asc606[part]} == {"0.00"}
            assert all("carve" not in r for r in contractual[part])


def test_reports_csv_columns_and_formula_escape(ledger):
    """CSV: the JSON keys in upper case, M1's periods one column per YYYYMM then LATER; a
    text cell that starts like a formula gets a leading quote, amounts stay numbers. The
    contractual basis has the columns it always had; ASC 606 (the default) adds recognized's
    CONTRACTUAL and CARVE parts beside it."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(
        "TRAN_TYPE,SO_NUM,SO_LINE_ID,SO_DATE,ORD_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,"
        "START_DATE,END_DATE,REV_METHOD,RC_KEY\n"
        "SO,S,S-1,2026-01-01,1,300,300,USD,USD,2026-01-01,2026-03-31,RATABLE_MONTHLY,=HYPERLINK(1)"
    )
    ledger.collect()
    out = io.StringIO()
    call_command(
        "revenue_report",
        "waterfall",
        "--periods",
        "2",
        "--basis",
        "contractual",
        "--format",
        "csv",
        stdout=out,
    )
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == [
        "GROUP",
        "CURRENCY",
        "RECOGNIZED",
        "202602",
        "202603",
        "LATER",
        "DEFERRED",
        "TOTAL",
    ]
    assert rows[1] == [
        "'=HYPERLINK(1)",
        "USD",
        "100.00",
        "100.00",
        "100.00",
        "0.00",
        "200.00",
        "300.00",
    ]
    out = io.StringIO()
    call_command("revenue_report", "waterfall", "--periods", "2", "--format", "csv", stdout=out)
    asc606 = list(csv.reader(io.StringIO(out.getvalue())))
    assert asc606[0][2:5] == ["RECOGNIZED", "CONTRACTUAL", "CARVE"]
    assert asc606[1][2:5] == ["100.00", "100.00", "0.00"]
    assert [r[:3] + r[5:] for r in asc606] == rows


def test_report_jpy_amounts_have_no_decimals(ledger):
    """close.md: amounts in the currency's minor unit (0 decimals for JPY)."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(
        "TRAN_TYPE,SO_NUM,SO_LINE_ID,SO_DATE,ORD_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,"
        "START_DATE,END_DATE,REV_METHOD\n"
        "SO,J,J-1,2026-01-01,1,120000,120000,JPY,JPY,2026-01-01,2026-12-31,RATABLE_MONTHLY"
    )
    ledger.collect()
    [row] = report("waterfall")["rows"]
    assert (row["recognized"], row["deferred"], row["total"]) == ("10000", "110000", "120000")


def test_report_command_refusals_exit_2(rv1, tmp_path):
    """interchange.md: bad arguments exit 2 with a message; XLSX needs --output."""
    for args, words in [
        (["waterfall", "--format", "xlsx"], "--output"),
        (["waterfall", "--period", "2019-13"], "not a period"),
        (["waterfall", "--periods", "0"], "--periods"),
        (["waterfall", "--currency", "US"], "ISO 4217"),
        (["balances", "--basis", "ifrs"], "--basis ifrs: give asc606 or contractual"),
        (["rollforward", "--period", "201905", "--through", "201901"], "before"),
        (["waterfall", "--output", str(tmp_path / "nope" / "x.csv")], "folder"),
    ]:
        with pytest.raises(CommandError) as refused:
            call_command("revenue_report", *args, stdout=io.StringIO())
        assert refused.value.returncode == 2 and words in str(refused.value), args


def test_report_xlsx_file(rv1, tmp_path):
    """XLSX: a workbook with the report, its totals and a Parameters sheet."""
    import zipfile

    target = tmp_path / "waterfall.xlsx"
    call_command(
        "revenue_report",
        "waterfall",
        "--format",
        "xlsx",
        "--output",
        str(target),
        stdout=io.StringIO(),
    )
    with zipfile.ZipFile(target) as book:
        names = book.namelist()
        workbook = book.read("xl/workbook.xml").decode()
        strings = (
            book.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in names else ""
        )
    assert "Parameters" in workbook and "Totals" in workbook
    assert "SO100" in strings or "SO100" in "".join(
        zipfile.ZipFile(target).read(n).decode() for n in names if n.startswith("xl/worksheets/")
    )


def test_report_json_stdout_is_data_alone(rv1):
    """interchange.md: with --format json or csv to stdout, stdout holds the data alone and
    the one-line summary goes to stderr (so `| jq` works); a table ends with the summary."""
    for fmt in ("json", "csv"):
        out, err = io.StringIO(), io.StringIO()
        call_command("revenue_report", "balances", "--format", fmt, stdout=out, stderr=err)
        assert err.getvalue() == "balances 201901: 1 rows\n"
        assert "rows" not in out.getvalue().splitlines()[-1]
        if fmt == "json":
            assert json.loads(out.getvalue())["rows"][0]["cl_balance"] == "880.00"
    out = io.StringIO()
    call_command("revenue_report", "balances", stdout=out)
    assert out.getvalue().splitlines()[-1] == "balances 201901: 1 rows"
    assert "Contract balances and RPO" in out.getvalue() and "880.00" in out.getvalue()
