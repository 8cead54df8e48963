"""Carve accounting in the month-end reports and the pre-close checklist (carve.md K9, K10;
close.md M1–M4): the vectors KV2 and KV3 (vectors/carve.md) driven through the commands,
then ``revenue_report`` on both bases against the journal export, and the carve checks on
a correct ledger and on one damaged by hand.

Expected figures come from ``revenue_export journal`` (report_checks), not from the
reports' selectors: on the ASC 606 basis revenue is REVENUE + ADJ_REVENUE and the contract
balance CONTRACT_LIABILITY + ADJ_LIABILITY; the contractual basis reads REVENUE and
CONTRACT_LIABILITY alone, as the reports always did."""

from __future__ import annotations

import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bench import golden
from revenue.models import CarveEntry, RevenueContract, SoLine
from revenue.reports.checks import CARVE_FLAGS, carve_flagged_contract_ids, check_carve
from revenue.services.manual import so_line_hold
from revenue.services.splits import period_add
from tests.revenue.conftest import Ledger
from tests.revenue.report_checks import (
    CARVE_KEYS,
    M1_ROW_KEYS,
    M2_ROW_KEYS,
    M3_ROW_KEYS,
    after,
    assert_fast_totals,
    credit_nets,
    journal_sides,
    report,
    through,
)
from tests.revenue.test_admin_reports import journal_net, page_url, row_of
from tests.revenue.test_carve_vectors import KV2_STEP1, KV2_STEP2, KV3_STEP1, KV3_STEP2
from tests.revenue.test_golden_vectors import VECTORS
from tests.security.test_plain_words import rule_ids_shown

D = Decimal
ASC606_REVENUE = ("REVENUE", "ADJ_REVENUE")
ASC606_LIABILITY = ("CONTRACT_LIABILITY", "ADJ_LIABILITY")
CARVE_CHECKS = ("carve_unbalanced", "carve_booked", "carve_liability")
K10 = (*CARVE_CHECKS, "contract_currencies", "contract_partial_ssp")


# --- the vectors, through the commands --------------------------------------------------


def carve_checks(period: int) -> dict[str, tuple[str, int]]:
    return {
        row.check: (row.severity, row.count)
        for row in check_carve(period=period, started_at=timezone.now())
    }


def assert_k10_clear(period: int) -> None:
    """K10: on a correct ledger every carve check is clear (the first three are the
    invariants after every run)."""
    assert carve_checks(period) == dict.fromkeys(K10, ("ok", 0)), period


def run_kv2(ledger: Ledger) -> Ledger:
    """KV2 (K7, prospective): SSPs by price, closed through 201903, a partial RORD in
    201904 (the open period)."""
    ledger.cmd("revenue_profile", "CREATE_RORD_CONTRA_ENTRY", "N")
    ledger.cmd("revenue_period", "open", "201901")
    ledger.stage(KV2_STEP1)
    ledger.collect()
    assert_k10_clear(201901)
    ledger.cmd("revenue_period", "close", "--through", "201903")
    assert_k10_clear(201904)
    ledger.stage(KV2_STEP2)
    ledger.collect()
    assert_k10_clear(201904)
    return ledger


def run_kv3(ledger: Ledger) -> Ledger:
    """KV3 (K6: a reduction giving back closed revenue is retrospective): closed through
    202603, the RORD returns SO4000-2 in 202604 (the open period)."""
    ledger.cmd("revenue_profile", "CREATE_RORD_CONTRA_ENTRY", "N")
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(KV3_STEP1)
    ledger.collect()
    assert_k10_clear(202601)
    ledger.cmd("revenue_period", "close", "--through", "202603")
    ledger.stage(KV3_STEP2)
    ledger.collect()
    assert_k10_clear(202604)
    return ledger


RUNS = {"kv2": (run_kv2, 201901, 201904), "kv3": (run_kv3, 202601, 202604)}


@pytest.fixture(params=sorted(RUNS))
def carved(request, ledger):
    """(first period, open period) after KV2 or KV3."""
    run, first, open_period = RUNS[request.param]
    run(ledger)
    return first, open_period


@pytest.fixture
def kv3(ledger):
    return run_kv3(ledger)


def by_currency_period(rows, key: str) -> dict[tuple[str, int], Decimal]:
    """Σ rows' ``periods`` of a waterfall per (currency, period)."""
    sums: dict[tuple[str, int], Decimal] = {}
    for row in rows:
        for period, amount in row[key].items():
            index = (row["currency"], int(period))
            sums[index] = sums.get(index, D(0)) + D(amount)
    return sums


def nonzero(nets: dict) -> dict:
    return {key: value for key, value in nets.items() if value}


# --- M1 -----------------------------------------------------------------------------------


def test_m1_asc606_revenue_per_period_is_revenue_plus_adj_revenue(carved):
    """M1, K9: seen from the month before the first, each period's revenue on the ASC 606
    basis is the REVENUE + ADJ_REVENUE credits the journal books in it; on the contractual
    basis the REVENUE credits alone (the waterfall as it always was)."""
    first, _ = carved
    sides = journal_sides()
    assert any(side["SOURCE_TYPE"] == "ADJ" for side in sides)
    before = str(period_add(first, -1))
    asc606 = report("waterfall", "--period", before, "--periods", "12")
    contractual = report(
        "waterfall", "--period", before, "--periods", "12", "--basis", "contractual"
    )
    assert (asc606["basis"], contractual["basis"]) == ("asc606", "contractual")
    assert all(set(row) == M1_ROW_KEYS for row in contractual["rows"])
    assert all(set(row) == M1_ROW_KEYS | CARVE_KEYS for row in asc606["rows"])
    assert nonzero(by_currency_period(asc606["rows"], "periods")) == nonzero(
        credit_nets(sides, ASC606_REVENUE)
    )
    assert nonzero(by_currency_period(contractual["rows"], "periods")) == nonzero(
        credit_nets(sides, ("REVENUE",))
    )
    assert nonzero(credit_nets(sides, ("ADJ_REVENUE",)))  # the bases differ by the carve


def test_m1_kv3_april_catch_up_by_hand(kv3):
    """KV3 in 202604: contractual revenue −1000.00 (SO4000-2's closed revenue given back),
    carve −1541.35 (the catch-ups of K4): ASC 606 revenue −2541.35."""
    args = ("waterfall", "--period", "202603", "--periods", "3")
    asc606 = report(*args)["totals"][0]["periods"]
    contractual = report(*args, "--basis", "contractual")["totals"][0]["periods"]
    assert (asc606["202604"], contractual["202604"]) == ("-2541.35", "-1000.00")
    assert (asc606["202605"], contractual["202605"]) == ("276.93", "200.00")  # 200 + 76.93


def test_m1_m3_recognized_is_contractual_plus_carve_per_line_and_contract(carved, ledger):
    """M1 and M3 rows on the ASC 606 basis: recognized = contractual + carve; by SO line
    the carve is the lines export's CARVE_RECOGNIZED (carve booked ≤ O), the contractual
    part its RECOGNIZED; contractual = the contractual basis's recognized."""
    _, open_period = carved
    sides = journal_sides()
    lines = {row["SO_LINE_ID"]: row for row in ledger.export("lines")}
    by_line = report("waterfall", "--by", "line")
    assert {row["group"] for row in by_line["rows"]} == set(lines)
    for row in by_line["rows"]:
        line = lines[row["group"]]
        assert D(row["recognized"]) == D(row["contractual"]) + D(row["carve"])
        assert D(row["carve"]) == D(line["CARVE_RECOGNIZED"] or 0), row["group"]
        assert D(row["contractual"]) == D(line["RECOGNIZED"] or 0), row["group"]
    for kind in ("waterfall", "balances"):
        asc606 = report(kind)
        contractual = report(kind, "--basis", "contractual")
        assert_fast_totals(kind, asc606)
        assert_fast_totals(kind, contractual, basis="contractual")
        for row, plain in zip(asc606["rows"], contractual["rows"], strict=True):
            assert row["contractual"] == plain["recognized"]
            assert D(row["recognized"]) == D(row["contractual"]) + D(row["carve"])
        [total] = asc606["totals"]
        assert D(total["carve"]) == through(
            credit_nets(sides, ("ADJ_REVENUE",)), "USD", open_period
        )
        assert D(total["recognized"]) == through(
            credit_nets(sides, ASC606_REVENUE), "USD", open_period
        )


# --- M2 -----------------------------------------------------------------------------------


def test_m2_closing_reconciles_with_the_carve_movement(carved):
    """M2, K9: on the ASC 606 basis closing = opening + billed − credited − released +
    reversed − contra + other − carve = CONTRACT_LIABILITY + ADJ_LIABILITY through the
    period, the carve being ADJ_LIABILITY's Dr − Cr of the period; every other movement is
    the contractual basis's, whose closing is CONTRACT_LIABILITY alone."""
    first, _ = carved
    sides = journal_sides()
    both = credit_nets(sides, ASC606_LIABILITY)
    cl = credit_nets(sides, ("CONTRACT_LIABILITY",))
    adjustment = credit_nets(sides, ("ADJ_LIABILITY",))
    last = period_add(first, 12)
    span = ("--period", str(first), "--through", str(last))
    asc606 = report("rollforward", *span)
    contractual = report("rollforward", *span, "--basis", "contractual")
    plain = {(r["period"], r["currency"]): r for r in contractual["rows"]}
    assert all(set(row) == M2_ROW_KEYS for row in contractual["rows"])
    previous = None
    for row in asc606["rows"]:
        assert set(row) == M2_ROW_KEYS | {"carve"}
        amounts = {k: D(v) for k, v in row.items() if k not in ("period", "currency")}
        period, currency = int(row["period"]), row["currency"]
        assert amounts["closing"] == (
            amounts["opening"]
            + amounts["billed"]
            - amounts["credited"]
            - amounts["released"]
            + amounts["reversed"]
            - amounts["contra"]
            + amounts["other"]
            - amounts["carve"]
        ), period
        assert amounts["carve"] == -adjustment.get((currency, period), D(0))
        assert amounts["closing"] == through(both, currency, period)
        assert amounts["opening"] == through(both, currency, period_add(period, -1))
        if previous is not None:
            assert amounts["opening"] == previous
        previous = amounts["closing"]
        other = plain.get((row["period"], currency))
        for key in ("billed", "credited", "released", "reversed", "contra", "other"):
            assert amounts[key] == (D(other[key]) if other else D(0)), (period, key)
        if other:
            assert D(other["closing"]) == through(cl, currency, period)
    assert any(D(row["carve"]) for row in asc606["rows"])
    [total] = asc606["totals"]
    assert D(total["carve"]) == -sum(adjustment.values(), D(0))


def test_m2_kv3_rollforward_by_hand(kv3):
    """KV3 with nothing billed: 202601 releases 6600.00 and carves 1462.50 (ADJ_LIABILITY
    Dr), so the ASC 606 balance closes at −8062.50 (a contract asset); 202604 carves
    −1541.35."""
    rows = report("rollforward", "--period", "202601", "--through", "202604")["rows"]
    assert [(r["period"], r["released"], r["carve"], r["closing"]) for r in rows] == [
        ("202601", "6600.00", "1462.50", "-8062.50"),
        ("202602", "600.00", "-37.50", "-8625.00"),
        ("202603", "600.00", "-37.50", "-9187.50"),
        ("202604", "600.00", "-1541.35", "-6646.15"),
    ]
    [plain] = report("rollforward", "--period", "202601", "--basis", "contractual")["rows"]
    assert (plain["released"], plain["closing"]) == ("6600.00", "-6600.00")


# --- M3 -----------------------------------------------------------------------------------


def test_m3_balance_counts_the_adjustment_liability(carved):
    """M3, K9: the ASC 606 contract balance is CONTRACT_LIABILITY + ADJ_LIABILITY through P,
    netted per contract; its RPO is the ASC 606 revenue after P (= M1's deferred). The
    contractual basis reads CONTRACT_LIABILITY and REVENUE alone."""
    _, p = carved
    sides = journal_sides()
    [asc606] = report("balances")["rows"]
    [plain] = report("balances", "--basis", "contractual")["rows"]
    assert set(asc606) == M3_ROW_KEYS | CARVE_KEYS and set(plain) == M3_ROW_KEYS
    assert D(asc606["cl_balance"]) == through(credit_nets(sides, ASC606_LIABILITY), "USD", p)
    assert D(plain["cl_balance"]) == through(credit_nets(sides, ("CONTRACT_LIABILITY",)), "USD", p)
    for row in (asc606, plain):
        balance = D(row["cl_balance"])
        assert (D(row["contract_liability"]), D(row["contract_asset"])) == (
            max(balance, D(0)),
            max(-balance, D(0)),
        )
    assert D(asc606["rpo"]) == after(credit_nets(sides, ASC606_REVENUE), "USD", p)
    assert D(plain["rpo"]) == after(credit_nets(sides, ("REVENUE",)), "USD", p)
    assert asc606["rpo"] == report("waterfall")["totals"][0]["deferred"]
    assert asc606["billed"] == plain["billed"]


def test_m3_kv3_by_hand(kv3):
    """KV3 at 202604: recognized 6646.15 = 6800.00 contractual − 153.85 carve; nothing
    billed, so a contract asset of 6646.15 (6800.00 contractual); RPO 553.85 (SO4000-3's
    May and June at its allocated price)."""
    [row] = report("balances")["rows"]
    assert [row[k] for k in ("recognized", "contractual", "carve", "contract_asset", "rpo")] == [
        "6646.15",
        "6800.00",
        "-153.85",
        "6646.15",
        "553.85",
    ]
    [plain] = report("balances", "--basis", "contractual")["rows"]
    assert (plain["recognized"], plain["contract_asset"], plain["rpo"]) == (
        "6800.00",
        "6800.00",
        "400.00",
    )


# --- outputs, admin pages, API ------------------------------------------------------------


def test_outputs_say_the_basis(kv3, tmp_path, admin_client):
    """The basis in every output: JSON's ``basis``, the table's title, the XLSX Parameters
    sheet, the admin download's file name; an unknown --basis exits 2 naming the option."""
    out = io.StringIO()
    call_command("revenue_report", "balances", stdout=out)
    assert (
        out.getvalue().splitlines()[0] == "Contract balances and RPO — period 202604, ASC 606 basis"
    )
    out = io.StringIO()
    call_command("revenue_report", "rollforward", "--basis", "contractual", stdout=out)
    assert out.getvalue().splitlines()[0].endswith("period 202604, contractual basis")
    target = tmp_path / "waterfall.xlsx"
    call_command(
        "revenue_report", "waterfall", "--basis", "contractual", "--format", "xlsx",
        "--output", str(target), stdout=io.StringIO(),
    )  # fmt: skip
    with zipfile.ZipFile(target) as book:
        strings = "".join(book.read(name).decode() for name in book.namelist())
    assert "<t>basis</t>" in strings and "<t>contractual</t>" in strings
    checklist = json.loads(Ledger(tmp_path).cmd("revenue_report", "checklist", "--format", "json"))
    assert "basis" not in checklist  # M4 has no basis
    response = admin_client.get(
        reverse("admin:report_download", args=["waterfall"]), {"format": "csv"}
    )
    assert 'filename="waterfall-202604-asc606.csv"' in response["Content-Disposition"]
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as refused:
        call_command("revenue_report", "waterfall", "--basis", "ifrs", stdout=io.StringIO())
    assert refused.value.returncode == 2
    assert str(refused.value) == "--basis ifrs: give asc606 or contractual"


def test_admin_report_pages_link_the_carve_to_its_entries(kv3, admin_client):
    """The admin pages (basis ASC 606 by default): recognized's contractual and carve parts
    link to the REVENUE / ADJ_REVENUE entries they sum, the roll-forward's carve to the
    ADJ_LIABILITY entries (Dr − Cr), its releases to the CONTRACT_LIABILITY entries."""
    page = admin_client.get(page_url("waterfall"))
    assert page.context["form"]["basis"].value() == "asc606"
    so = row_of(page, "SO4000", "USD")
    for label, accounts in (
        ("Recognized ≤ 202604", ASC606_REVENUE),
        ("Contractual ≤ 202604", ("REVENUE",)),
        ("Carve ≤ 202604", ("ADJ_REVENUE",)),
    ):
        figure = D(so[label].text.replace(",", ""))
        assert journal_net(admin_client, so[label].url, accounts) == figure, label
    page = admin_client.get(page_url("rollforward"), {"period": "202604"})
    april = row_of(page, "2026-04", "USD")
    assert -journal_net(admin_client, april["Carve"].url, ("ADJ_LIABILITY",)) == D("-1541.35")
    released = journal_net(admin_client, april["Released"].url, ASC606_LIABILITY)
    assert -released == D(april["Released"].text.replace(",", "")) == D(600)
    contractual = admin_client.get(
        page_url("rollforward"), {"period": "202604", "basis": "contractual"}
    )
    assert "Carve" not in [cell.text for cell in contractual.context["rows"].head]


def test_api_report_takes_the_basis(kv3, admin_user):
    """HTTP API ``reports/<kind>/``: ``basis`` as the command's --basis; a bad one is a 400
    that names the field, for every kind."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=admin_user).key}")
    url = reverse("v1:report", args=["balances"])
    plain = api.get(url, {"basis": "contractual"})
    assert plain.status_code == 200
    assert json.loads(plain.content)["rows"][0]["recognized"] == "6800.00"
    asc606 = json.loads(api.get(url).content)
    assert (asc606["basis"], asc606["rows"][0]["carve"]) == ("asc606", "-153.85")
    for kind in ("balances", "checklist"):
        bad = api.get(reverse("v1:report", args=[kind]), {"basis": "ifrs"})
        assert bad.status_code == 400
        assert list(bad.json()["errors"]) == ["basis"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda function: function.__name__[5:])
def test_golden_reports_are_the_contractual_basis(vector, ledger, monkeypatch):
    """The recorded reports of the golden vectors (no SSP, no carve) are exactly what the
    contractual basis gives: M1–M3 of ``--basis contractual`` are the recorded ASC 606
    figures without the carve columns, which are all 0.00."""
    name = vector.__name__[5:]
    monkeypatch.setattr(
        golden,
        "REPORTS",
        {
            kind: [*args, "--basis", "contractual"]
            for kind, args in golden.REPORTS.items()
            if kind != "checklist"
        },
    )
    vector(ledger)
    recorded = golden.vector_read(name).get("reports")
    if recorded is None:
        pytest.skip("no period open after this vector: no reports recorded")
    found = golden.ledger_whole()["reports"]
    for kind in ("waterfall", "rollforward", "balances"):
        # recorded on the ASC 606 basis: without an SSP its figures are the contractual
        # ones, beside the carve columns (all 0.00) that basis adds
        assert found[kind] == _without_carve(recorded[kind]), kind


def _without_carve(value):
    if isinstance(value, dict):
        return {k: _without_carve(v) for k, v in value.items() if k not in ("contractual", "carve")}
    if isinstance(value, list):
        return [_without_carve(v) for v in value]
    return value


# --- K10 in the checklist -------------------------------------------------------------------


def test_k10_booked_carve_must_be_the_lines_carve(ledger, admin_client):
    """K10 on KV2 (lines still releasing): a line's CARVE changed by hand, or one of its
    carve entries deleted, makes Σ carve booked ≠ CARVE; the adjustment liability is not
    checked while a line has revenue to release. A line on hold is not checked."""
    run_kv2(ledger)
    contract = RevenueContract.objects.get(rc_key="SO2000")
    SoLine.objects.filter(so_line_id="SO2000-2").update(carve=D("22.23"))  # booked: 22.22
    checks = check_carve(period=201904, started_at=timezone.now())
    rows = {row.check: row for row in checks}
    assert (rows["carve_booked"].severity, rows["carve_booked"].count) == ("warning", 1)
    assert rows["carve_booked"].detail.endswith("check the carve entries of SO2000")
    assert carve_checks(201904)["carve_unbalanced"] == ("warning", 1)
    assert carve_checks(201904)["carve_liability"] == ("ok", 0)
    listed = admin_client.get(rows["carve_booked"].url).context["cl"].queryset
    assert set(listed.values_list("contract_id", flat=True)) == {contract.pk}
    assert carve_flagged_contract_ids("booked") == {contract.pk}
    SoLine.objects.filter(so_line_id="SO2000-2").update(carve=D("22.22"))
    assert_k10_clear(201904)

    CarveEntry.objects.filter(line__so_line_id="SO2000-1").delete()  # its −22.22
    assert carve_checks(201904)["carve_booked"] == ("warning", 1)
    assert carve_checks(201904)["carve_liability"] == ("ok", 0)  # SO2000-2 still releases
    assert carve_checks(201904)["carve_unbalanced"] == ("ok", 0)

    # a hold rebuilds the contract's carve (K4): SO2000-1's difference is booked again
    so_line_hold(line=SoLine.objects.get(so_line_id="SO2000-2"), actor=None, reason="disputed")
    assert_k10_clear(201904)
    SoLine.objects.filter(so_line_id="SO2000-2").update(carve=D("22.23"))
    assert carve_checks(201904)["carve_booked"] == ("ok", 0)  # a held line is not checked
    assert carve_checks(201904)["carve_unbalanced"] == ("warning", 1)


def test_k10_a_fully_released_contract_keeps_no_adjustment_liability(kv3):
    """K5, K10 on KV3 closed through 202606: every line has released everything and the
    adjustment liability nets to 0; a carve entry deleted leaves one (and a line whose
    booked carve is not its CARVE)."""
    kv3.cmd("revenue_period", "close", "--through", "202606")
    assert_k10_clear(202607)
    contract = RevenueContract.objects.get(rc_key="SO4000")
    CarveEntry.objects.filter(line__so_line_id="SO4000-3", period=202606).delete()
    checks = {row.check: row for row in check_carve(period=202607, started_at=timezone.now())}
    assert (checks["carve_liability"].severity, checks["carve_liability"].count) == ("warning", 1)
    assert checks["carve_liability"].detail.endswith("check the carve entries of SO4000")
    assert checks["carve_booked"].count == 1 and checks["carve_unbalanced"].count == 0
    assert carve_flagged_contract_ids("liability") == {contract.pk}
    assert carve_flagged_contract_ids() == {contract.pk}
    assert carve_flagged_contract_ids("currencies") == set()
    with pytest.raises(ValueError):
        carve_flagged_contract_ids("nonsense")


def test_k10_carve_check_is_two_queries_at_most(kv3):
    """M4 at volume: the carve checks are one query, one more to name what they flag."""
    started = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        check_carve(period=202604, started_at=started)
    assert len(queries) == 1
    SoLine.objects.filter(so_line_id="SO4000-1").update(carve=D(0))
    CarveEntry.objects.filter(line__so_line_id="SO4000-3").delete()
    with CaptureQueriesContext(connection) as queries:
        rows = check_carve(period=202604, started_at=started)
    assert len(queries) == 2
    assert {row.check for row in rows if row.count} == {"carve_unbalanced", "carve_booked"}


# --- the contract list's carve warning filter ----------------------------------------------

HEADER = (
    "TRAN_TYPE,SO_NUM,SO_LINE_ID,SO_DATE,ITEM,ORD_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,"
    "START_DATE,END_DATE,REV_METHOD,SSP_PCT"
)


def contracts_csv(count: int, start: int) -> str:
    """``count`` contracts of two lines with an SSP each (a carve of ±200.00)."""
    rows = [HEADER]
    for number in range(start, start + count):
        rows.append(
            f"SO,W{number},W{number}-1,2026-01-01,License,1,1000,600,USD,USD,"
            "2026-01-01,2026-01-01,IMMEDIATE,80"
        )
        rows.append(
            f"SO,W{number},W{number}-2,2026-01-01,Support,1,1000,1000,USD,USD,"
            "2026-01-01,2026-12-31,RATABLE_MONTHLY,80"
        )
    return "\n".join(rows)


def test_contract_list_filters_on_each_carve_warning(ledger, admin_client):
    """The contract list's "Carve warning" filter: one choice per carve check in plain
    words, listing exactly the contracts that check flags, with the same number of
    queries for 2 flagged contracts as for 12; an unknown choice is the list's error."""
    ledger.cmd("revenue_period", "open", "202601")
    changelist = reverse("admin:revenue_revenuecontract_changelist")
    counts = []
    for count, start in ((2, 100), (10, 200)):
        ledger.stage(contracts_csv(count + 1, start))  # W{start + count} stays correct
        ledger.collect()
        damaged = [f"W{n}-1" for n in range(start, start + count)]
        SoLine.objects.filter(so_line_id__in=damaged).update(carve=D("1.00"))
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(changelist, {"carve_warning": "booked"})
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    flagged = {c.rc_key for c in response.context["cl"].result_list}
    assert flagged == {f"W{n}" for n in (*range(100, 102), *range(200, 210))}
    for flag in CARVE_FLAGS:
        response = admin_client.get(changelist, {"carve_warning": flag})
        wanted = carve_flagged_contract_ids(flag)
        assert {c.pk for c in response.context["cl"].result_list} == wanted, flag
    assert (
        not admin_client.get(changelist, {"carve_warning": "currencies"}).context["cl"].result_list
    )
    page = admin_client.get(changelist).content.decode()
    assert "By carve warning" in page and "Booked carve differs from a line" in page
    assert rule_ids_shown(page) == []
    assert "e=1" in admin_client.get(changelist, {"carve_warning": "K10"})["Location"]


def test_contract_list_filter_query_bound(ledger, admin_client, django_assert_max_num_queries):
    """The filtered list costs the list's own queries and one for the carve flags (the open
    period read inside it)."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.stage(contracts_csv(3, 300))
    ledger.collect()
    SoLine.objects.filter(so_line_id__endswith="-2").update(carve=None)  # Σ CARVE ≠ 0
    changelist = reverse("admin:revenue_revenuecontract_changelist")
    with CaptureQueriesContext(connection) as plain:
        admin_client.get(changelist)
    with django_assert_max_num_queries(len(plain) + 1):
        response = admin_client.get(changelist, {"carve_warning": "unbalanced"})
    assert response.status_code == 200 and len(response.context["cl"].result_list) == 3
