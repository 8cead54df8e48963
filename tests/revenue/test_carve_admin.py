"""The carve on the admin's revenue contract and SO line pages (carve.md K9), for an
accountant checking a contract: the allocation table with the carve recognized and
deferred, the allocation versions with their triggers, contractual against ASC 606
revenue per period, and a line's carve rows linked to what triggered them.

Data is made as a user makes it: KV2 of vectors/carve.md through the commands."""

from __future__ import annotations

import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.urls import reverse

from revenue.models import CarveEntry, InboundLine, RevenueContract, SoLine
from tests.charts import by_label, chart_spec, points
from tests.revenue.test_carve_vectors import KV2_STEP1, KV2_STEP2
from tests.security.test_plain_words import rule_ids_shown

SSP_HEADER = (
    "TRAN_TYPE,SO_NUM,SO_LINE_ID,SO_DATE,ITEM,ORD_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,"
    "START_DATE,END_DATE,REV_METHOD,SSP_PCT"
)
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def url(name: str, *args) -> str:
    return reverse(f"admin:revenue_{name}", args=args)


@pytest.fixture
def kv2(ledger):
    """KV2: two lines with amount SSPs collected in 201901, three periods closed, then a
    RORD that cuts October to December: a prospective reduction (K7)."""
    ledger.cmd("revenue_profile", "CREATE_RORD_CONTRA_ENTRY", "N")
    ledger.cmd("revenue_period", "open", "201901")
    ledger.stage(KV2_STEP1)
    ledger.collect()
    ledger.cmd("revenue_period", "close", "--through", "201903")
    ledger.stage(KV2_STEP2)
    assert ledger.collect().strip().endswith("collected 1, stopped 0, waiting 0")
    return ledger


def inbound(so_line_id: str) -> InboundLine:
    return InboundLine.objects.get(raw__SO_LINE_ID=so_line_id)


def contract_page(client, so_line_id: str):
    contract = SoLine.objects.get(so_line_id=so_line_id).contract
    response = client.get(url("revenuecontract_change", contract.pk))
    assert response.status_code == 200
    return response


# --- the revenue contract page ---------------------------------------------------------------


def test_contract_page_allocation_table_after_the_rord(admin_client, kv2):
    """KV2 after its RORD: 777.78 / 472.22 allocated, carve −22.22 / +22.22 (Σ 0.00), of
    which −22.22 / 8.34 booked through the open period 2019-04, the rest deferred."""
    response = contract_page(admin_client, "SO2000-1")
    rows = {r["so_line_id"]: r for r in response.context["line_rows"]}
    columns = (
        "net",
        "ext_ssp",
        "allocated",
        "carve",
        "carve_recognized",
        "carve_deferred",
        "treatment",
    )
    assert [rows["SO2000-1"][k] for k in columns] == [
        "800.00",
        "900.00",
        "777.78",
        "-22.22",
        "-22.22",
        "0.00",
        "Prospective",
    ]
    assert [rows["SO2000-2"][k] for k in columns] == [
        "450.00",
        "540.00",
        "472.22",
        "22.22",
        "8.34",
        "13.88",
        "Prospective",
    ]
    assert rows["SO2000-2"]["reduced"] == "-150.00" and rows["SO2000-2"]["esp"] == "600.00"
    (usd,) = response.context["total_rows"]
    assert (usd["net"], usd["allocated"], usd["carve"]) == ("1,250.00", "1,250.00", "0.00")
    assert (usd["carve_recognized"], usd["carve_deferred"]) == ("-13.88", "13.88")
    assert usd["carve_balanced"]

    html = response.content.decode()
    table = html[html.index('<table class="revenue-contract-lines">') :]
    table = table[: table.index("</table>")]
    for head in ("ESP (net sell price)", "Ext SSP", "Allocated", "Carve recognized"):
        assert head in table
    for line in SoLine.objects.filter(so_line_id__in=["SO2000-1", "SO2000-2"]):
        assert f'href="{url("soline_change", line.pk)}"' in table
    assert "✓ Σ carve = 0.00" in table
    assert rule_ids_shown(html) == []


def test_contract_page_lists_its_allocation_versions_newest_first(admin_client, kv2):
    """Collected in 201901 (nothing closed yet): retrospective, triggered by the SO line;
    the RORD in 201904 after 201903 closed: prospective, triggered by the RORD."""
    response = contract_page(admin_client, "SO2000-1")
    versions = response.context["versions"]
    assert [(v["treatment"], v["closed_period"], v["open_period"]) for v in versions] == [
        ("Prospective", "2019-03", "2019-04"),
        ("Retrospective (cumulative catch-up)", "none closed yet", "2019-01"),
    ]
    rord = inbound("SO2001-1")
    assert f'href="{url("inboundline_change", rord.pk)}"' in versions[0]["trigger"]
    assert f"SO2001-1#{rord.pk}" in versions[0]["trigger"]
    html = response.content.decode()
    panel = html[html.index('id="revenue-allocation-versions"') :]
    panel = panel[: panel.index("</table>")]
    assert panel.index("Prospective") < panel.index("Retrospective (cumulative catch-up)")
    assert f'href="{url("inboundline_change", rord.pk)}"' in panel
    assert "now prospective" in panel


def test_contract_page_charts_contractual_against_asc_606_revenue(admin_client, kv2):
    """Per period, from the journal: contractual = revenue credited; ASC 606 adds the
    adjustment revenue (the carve): 201901 850.00 − 20.37, April to September 50.00 plus
    2.78 / 2.77, October to December reversed by the RORD, both at 0.00."""
    html = contract_page(admin_client, "SO2000-1").content.decode()
    spec = chart_spec(html, "chart-basis-USD")
    assert spec["type"] == "bar" and spec["labels"][0] == ["Jan", "2019"]
    assert len(spec["labels"]) == 12 and spec["labels"][-1] == "Dec"
    contractual = points(spec, "Contractual revenue")
    asc606 = points(spec, "ASC 606 revenue")
    assert contractual["Jan 2019"] == "850.00" and asc606["Jan 2019"] == "829.63"
    expected = ["51.85", "51.86", "52.78", "52.77", "52.78", "52.78", "52.77", "52.78"]
    assert [asc606[m] for m in MONTHS[1:9]] == expected
    assert {contractual[m] for m in MONTHS[1:9]} == {"50.00"}
    assert [contractual[m] for m in MONTHS[9:]] == ["0.00"] * 3
    assert [asc606[m] for m in MONTHS[9:]] == ["0.00"] * 3
    assert spec["highlight"] == {"index": 3, "label": "open"}  # 2019-04
    assert spec["notes"][0][0] == "Carve -20.37" and spec["notes"][3][0] == "Carve +2.78"
    # the same figures for screen readers, in a table the page hides
    figure = html[html.index('id="chart-basis-USD-figure"') :]
    figure = figure[: figure.index("</figure>")]
    hidden = re.search(r'<div class="visually-hidden"><table>(.*?)</table></div>', figure, re.S)
    assert hidden and "<caption>USD: contractual and ASC 606 revenue per period</caption>" in (
        hidden.group(1)
    )
    assert '<th scope="row">Jan 2019</th><td>850.00</td><td>829.63</td>' in hidden.group(1)


# --- the SO line page ------------------------------------------------------------------------


def test_so_line_page_carve_rows_link_to_their_trigger(admin_client, kv2):
    """SO2000-2: the rows of the collection in 201901 (triggered by the SO line), then the
    differences the RORD booked from 201904 on, each linked to the RORD's page; posted =
    before the open period 2019-04."""
    line = SoLine.objects.get(so_line_id="SO2000-2")
    response = admin_client.get(url("soline_change", line.pk))
    assert response.status_code == 200
    carve = response.context["carve"]
    rows = carve["rows"]
    entries = list(CarveEntry.objects.filter(line=line).order_by("period", "id"))
    assert len(rows) == len(entries) > 12
    assert carve["total"] == "22.22"
    rord, so = inbound("SO2001-1"), inbound("SO2000-2")
    by_rord = [r for r in rows if f"SO2001-1#{rord.pk}" in r["trigger"]]
    assert by_rord and all(
        f'href="{url("inboundline_change", rord.pk)}"' in r["trigger"] for r in by_rord
    )
    assert {r["period"] for r in by_rord} >= {"2019-04", "2019-10", "2019-12"}
    first = [r for r in rows if r["period"] == "2019-01"]
    assert [(r["entry_type"], r["amount"], r["posted"]) for r in first] == [
        ("Release", "1.85", "Y")
    ]
    assert f'href="{url("inboundline_change", so.pk)}"' in first[0]["trigger"]
    assert {r["posted"] for r in rows if r["period"] < "2019-04"} == {"Y"}
    assert {r["posted"] for r in rows if r["period"] >= "2019-04"} == {"N"}

    html = response.content.decode()
    panel = html[html.index('<table class="revenue-carve-table">') :]
    panel = panel[: panel.index("</table>")]
    assert f'href="{url("inboundline_change", rord.pk)}"' in panel
    # its figures: carve, recognized through the open period, deferred, the treatment
    figures = {
        f.label: f.value for group in response.context["figure_groups"] for f in group.figures
    }
    assert ">22.22<" in figures["Carve"]
    assert ">8.34<" in figures["Carve recognized"] and ">13.88<" in figures["Carve deferred"]
    assert figures["Treatment"] == "Prospective"
    spec = chart_spec(html, "chart-basis")
    assert points(spec, "ASC 606 revenue")["Apr"] == "52.78"
    assert points(spec, "Contractual revenue")["Jan 2019"] == "50.00"
    assert rule_ids_shown(html) == []


def test_line_without_ssp_shows_no_carve(admin_client, ledger):
    ledger.cmd("revenue_period", "open", "201901")
    ledger.stage(KV2_STEP1.replace(",900\n", ",\n").replace(",60\n", ",\n"))
    ledger.collect()
    line = SoLine.objects.get(so_line_id="SO2000-2")
    response = admin_client.get(url("soline_change", line.pk))
    assert response.context["carve"]["rows"] == []
    assert "out of the allocation pool" in response.content.decode()
    page = contract_page(admin_client, "SO2000-2")
    assert page.context["versions"] == []
    (usd,) = page.context["total_rows"]
    assert usd["carve_recognized"] == "" and usd["carve_balanced"]


# --- reads that do not grow with the contract --------------------------------------------


def ssp_lines(so_num: str, count: int) -> str:
    rows = [
        f"SO,{so_num},{so_num}-{i},2019-01-01,Item {i},1,1200,{1000 + 10 * i},USD,USD,"
        f"2019-01-01,2019-12-31,RATABLE_MONTHLY,{90 + i}"
        for i in range(1, count + 1)
    ]
    return SSP_HEADER + "\n" + "\n".join(rows)


def test_contract_and_line_pages_read_a_bounded_number_of_queries(
    admin_client, ledger, django_assert_max_num_queries
):
    """A contract of 2 lines and one of 12 (each line with 12 carve rows, a year of
    journal): the same number of queries for each page."""
    ledger.cmd("revenue_period", "open", "201901")
    ledger.stage(ssp_lines("SMALL", 2))
    ledger.stage(ssp_lines("LARGE", 12))
    assert ledger.collect().strip().endswith("collected 14, stopped 0, waiting 0")
    ledger.cmd("revenue_period", "close", "--through", "201903")
    ContentType.objects.get_for_models(RevenueContract, SoLine)  # cached: the history's
    counts = {}
    for so_num in ("SMALL", "LARGE"):
        contract = RevenueContract.objects.get(rc_key=so_num)
        line = SoLine.objects.get(so_line_id=f"{so_num}-2")
        assert CarveEntry.objects.filter(line=line).count() == 12
        with django_assert_max_num_queries(10) as contract_queries:
            response = admin_client.get(url("revenuecontract_change", contract.pk))
        assert response.status_code == 200
        assert len(response.context["line_rows"]) == (2 if so_num == "SMALL" else 12)
        with django_assert_max_num_queries(14) as line_queries:
            response = admin_client.get(url("soline_change", line.pk))
        assert len(response.context["carve"]["rows"]) == 12
        counts[so_num] = (len(contract_queries), len(line_queries))
    assert counts["SMALL"] == counts["LARGE"]


# --- the demo ----------------------------------------------------------------------------------


def test_demo_contracts_carry_a_carve_and_a_prospective_version(admin_client, db):
    call_command("load_demo", verbosity=0)
    prospective = RevenueContract.objects.get(carve_versions__treatment="PROSPECTIVE")
    response = admin_client.get(url("revenuecontract_change", prospective.pk))
    html = response.content.decode()
    assert [v["treatment"] for v in response.context["versions"]][0] == "Prospective"
    assert all(t["carve_balanced"] and t["carve"] for t in response.context["total_rows"])
    assert any(r["carve"] not in ("", "0.00") for r in response.context["line_rows"])
    (currency,) = {r["currency"] for r in response.context["line_rows"]}
    spec = chart_spec(html, f"chart-basis-{currency}")
    assert (
        by_label(spec)["ASC 606 revenue"]["data"] != by_label(spec)["Contractual revenue"]["data"]
    )
    assert rule_ids_shown(html) == []
