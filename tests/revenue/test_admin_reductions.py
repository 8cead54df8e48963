"""The reduction screens of the revenue admin (P1–P9, A1–A4, I5/I6).

Data comes in the way a user brings it: RV1 (vectors/revenue.md) through the management
commands, with profile CREATE_RORD_CONTRA_ENTRY = Y and SSP inputs on the three lines.
"""

from __future__ import annotations

from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from revenue.models import CollectionRun, ContraEntry, InboundLine, SoLine
from revenue.services.collection import collection_run_execute
from tests.charts import by_label, chart_spec, points
from tests.factories import UserFactory
from tests.revenue.test_vectors import RV1_STEP1, RV1_STEP2, RV1_STEP3, RV4_RORD, RV4_SO

SSP = {"SO100-1": ("100", ""), "SO100-2": ("120", ""), "SO100-3": ("", "2.5")}
RORD2 = """
TRAN_TYPE,SO_NUM,SO_LINE_ID,ORIG_SO_LINE_ID,SO_DATE,ITEM,ORD_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,START_DATE,END_DATE
RORD,SO102,SO102-1,SO100-2,2019-12-01,Maintenance,12,-50,-50,USD,USD,2019-12-01,2019-12-31
"""
CM_R_FULL = """
TRAN_TYPE,SO_NUM,SO_LINE_ID,INV_NUM,INV_LINE_ID,INV_DATE,ITEM,ORD_QTY,INV_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,START_DATE,END_DATE
CM-R,SO100,SO100-1,CMR100,CMR100-1,2019-11-10,Hardware,1,1,-1200,-1200,USD,USD,2019-01-01,2019-01-01
"""
D = Decimal


def with_ssp(text: str) -> str:
    """RV1 step 1 with SSP_PCT / SSP_PRICE: 100 % and 120 % of list, 2.50 a unit-month."""
    header, *rows = text.strip().splitlines()
    out = [header + ",SSP_PCT,SSP_PRICE"]
    for row in rows:
        kind, _, line = row.split(",")[:3]
        pct, price = SSP[line] if kind == "SO" else ("", "")
        out.append(f"{row},{pct},{price}")
    return "\n".join(out)


@pytest.fixture
def rv1(ledger):
    """RV1 steps 1–2, profile Y: open 201911, RORD SO101-1 (−100 on SO100-2) collected.
    The screens show A3's full re-share (K6, REDUCTION_TREATMENT RETROSPECTIVE); under the
    default PROSPECTIVE, K7 would keep the delivered lines' carve (test_carve_vectors)."""
    ledger.cmd("revenue_period", "open", "201901")
    ledger.cmd("revenue_profile", "CREATE_RORD_CONTRA_ENTRY", "Y")
    ledger.cmd("revenue_profile", "REDUCTION_TREATMENT", "RETROSPECTIVE")
    ledger.stage(with_ssp(RV1_STEP1))
    ledger.collect()
    ledger.cmd("revenue_period", "close", "--through", "201910")
    ledger.stage(RV1_STEP2)
    assert ledger.collect().strip().endswith("collected 1, stopped 0, waiting 0")
    return ledger


def url(name: str, *args) -> str:
    return reverse(f"admin:revenue_{name}", args=args)


def line_page(client, so_line_id: str):
    line = SoLine.objects.get(so_line_id=so_line_id)
    response = client.get(url("soline_change", line.pk))
    assert response.status_code == 200
    return response


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"]) if response.context else ""


def by_period(reductions) -> dict:
    return {row.period: row for row in reductions.rows}


# --- SO line page: original, reversals per reduction, net (P1–P4) -------------------------


def test_p3_so_line_page_shows_the_rord_column_booked_nov_and_scheduled_dec(admin_client, rv1):
    """P3 deferred first: December's 50 is a *scheduled* reversal (201912 > open 201911,
    posted when December closes); the other 50 is *booked* in the open period 201911."""
    response = line_page(admin_client, "SO100-2")
    reductions = response.context["reductions"]
    assert [r.label for r in reductions.reductions] == ["RORD SO101-1"]
    rows = by_period(reductions)
    assert len(rows) == 12 and all(row.original == 50 for row in rows.values())
    nov, dec = rows[201911].cells[0], rows[201912].cells[0]
    assert (nov.amount, nov.state) == (D(-50), "booked")
    assert (dec.amount, dec.state) == (D(-50), "scheduled")
    assert rows[201910].cells == [None]
    assert (rows[201911].net, rows[201912].net) == (0, 0)
    assert (reductions.original, reductions.net) == (600, 500)
    assert (reductions.booked, reductions.scheduled) == (-50, -50)

    html = response.content.decode()
    assert 'id="revenue-reductions"' in html and "RORD SO101-1" in html
    spec = chart_spec(html, "chart-reductions")
    assert spec["highlight"] == {"index": 10, "label": "open"}  # 2019-11
    assert points(spec, "RORD SO101-1 booked") == {"Nov": ["50.00", "0.00"]}
    assert points(spec, "RORD SO101-1 scheduled") == {"Dec": ["50.00", "0.00"]}
    assert by_label(spec)["RORD SO101-1 scheduled"]["pattern"] == "hatch"
    assert points(spec, "Net") == {"Nov": "0.00", "Dec": "0.00"}
    assert len(points(spec, "Original · closed / open")) == 11
    assert points(spec, "Original · future") == {"Dec": "50.00"}
    rord = InboundLine.objects.get(tran_type="RORD", so_line_id="SO101-1")
    assert spec["links"][2][10] == url("inboundline_change", rord.pk)  # the reversal's line
    assert spec["links"][0][0] == "#reduction-2019-01" and 'id="reduction-2019-01"' in html
    table = response.context["reduction_table"]
    dec_row = next(r for r in table["rows"] if r["label"] == "2019-12")
    assert dec_row["cells"] == [{"text": "-50.00", "state": "scheduled"}]
    assert dec_row["state"] == "future"


def test_so_line_header_panel_figures(admin_client, rv1):
    """P1–P5, S10, A2–A3, P7: SO ESP 600, Σ RORD −100, net 500, recognized 500, deferred
    0, Ext SSP 120 % × net ELP 500 = 600, contra outstanding 600 − 500 = 100."""
    response = line_page(admin_client, "SO100-2")
    groups = {
        g.title: {f.label: f.value for f in g.figures} for g in response.context["figure_groups"]
    }
    assert ">600.00<" in groups["Sell price"]["SO ESP"]
    assert ">-100.00<" in groups["Sell price"]["Σ RORD"]
    assert ">500.00<" in groups["Sell price"]["Net sell price"]
    assert ">500.00<" in groups["Revenue"]["Recognized"]
    assert ">0.00<" in groups["Revenue"]["Deferred"]
    assert ">N<" in groups["Revenue"]["Return flag"]
    assert groups["Allocation"]["SSP input"] == "SSP_PCT 120 %"
    assert ">600.00<" in groups["Allocation"]["Ext SSP"]
    assert ">572.23<" in groups["Allocation"]["Allocated"]
    assert ">72.23<" in groups["Allocation"]["Carve"]
    assert ">600.00<" in groups["Contra AR"]["Net billed"]
    assert ">100.00<" in groups["Contra AR"]["Contra outstanding"]


def test_p2_returned_line_shows_recognized_deferred_and_allocatable_empty(admin_client, rv1):
    """P2/P5: a CM-R for the whole quantity sets the return flag; recognized, deferred
    and allocatable show empty (as in the lines export); A3 leaves the line out."""
    rv1.stage(CM_R_FULL)
    rv1.collect()
    response = line_page(admin_client, "SO100-1")
    figures = {f.label: f for g in response.context["figure_groups"] for f in g.figures}
    for label in ("Recognized", "Deferred", "Allocatable"):
        assert figures[label].value == "—"
        assert figures[label].hint == "Shown empty on a returned line"  # P2, in words
    assert ">Y<" in figures["Return flag"].value
    assert ">-1,200.00<" in figures["Σ CM-R"].value and ">0.00<" in figures["Net sell price"].value
    reductions = response.context["reductions"]
    assert [r.label for r in reductions.reductions] == ["CM-R CMR100-1"]
    assert by_period(reductions)[201911].cells[0].state == "booked"  # P2: recognized, open


# --- contra AR (P7, P8) ------------------------------------------------------------------


def test_p7_p8_contra_not_posted_then_removed_by_the_cm_ro(admin_client, rv1):
    """P7: the RORD books contra 100 in 201911, not posted (201911 is open). P8: the CM-RO
    in the same period removes it; P9: the reductions table stays as it was."""
    before = line_page(admin_client, "SO100-2")
    (contra,) = before.context["contra_rows"]
    assert (contra["period"], contra["kind"], contra["amount"]) == ("2019-11", "Contra", "100.00")
    assert (contra["outstanding"], contra["state"]) == ("100.00", "not posted")
    assert "RORD SO101-1" in contra["booked_by"] and contra["removed_by"] == ""
    schedule = [(r.period, r.original, r.net) for r in before.context["reductions"].rows]

    rv1.stage(RV1_STEP3)
    rv1.collect()
    after = line_page(admin_client, "SO100-2")
    (contra,) = after.context["contra_rows"]
    assert (contra["removed"], contra["outstanding"]) == ("100.00", "0.00")
    assert contra["state"] == "not posted · removed"
    assert "CM-RO INV101-1" in contra["removed_by"]
    assert after.context["contra_outstanding"] == "0.00"
    assert [(r.period, r.original, r.net) for r in after.context["reductions"].rows] == schedule


def test_p8_after_close_a_second_rord_and_cm_ro_reverse_the_posted_contra(admin_client, rv1):
    """Close 201911: its contra is posted and December's reversal becomes booked (open).
    A second RORD (−50) adds a column and a contra of 50, not posted; the CM-RO of the
    first RORD (−100) removes that unposted 50 first, then answers 50 of the posted 100
    with a contra reversal in 201912, linked both ways (P8)."""
    rv1.cmd("revenue_period", "close")
    rv1.stage(RORD2)
    rv1.collect()
    rv1.stage(RV1_STEP3)
    rv1.collect()
    response = line_page(admin_client, "SO100-2")
    reductions = response.context["reductions"]
    assert [r.label for r in reductions.reductions] == ["RORD SO101-1", "RORD SO102-1"]
    dec = by_period(reductions)[201912]
    assert [(c.amount, c.state) for c in dec.cells] == [(D(-50), "booked"), (D(-50), "booked")]
    assert dec.net == -50 and reductions.net == 450

    rows = {(r["period"], r["kind"]): r for r in response.context["contra_rows"]}
    first, second = rows[("2019-11", "Contra")], rows[("2019-12", "Contra")]
    reversal = rows[("2019-12", "Contra reversal")]
    assert (first["state"], first["reversed"], first["outstanding"]) == ("posted", "50.00", "50.00")
    assert (second["state"], second["outstanding"]) == ("not posted · removed", "0.00")
    # a reversal takes its amount off: one minus sign (not "−" before the amount)
    assert (reversal["amount"], reversal["state"]) == ("-50.00", "not posted")
    assert "CM-RO INV101-1" in reversal["booked_by"]
    html = response.content.decode()
    assert '<span class="revenue-negative">-50.00</span>' in html and "−50.00" not in html
    assert f'reverses <a href="#contra-{first["pk"]}">#{first["pk"]} (2019-11 contra)</a>' in html
    assert f'reversed by <a href="#contra-{reversal["pk"]}">' in html
    assert ContraEntry.objects.get(pk=reversal["pk"]).reverses_id == first["pk"]
    notes = chart_spec(html, "chart-reductions")["notes"]  # the chart's contra, by period
    assert notes[-2] == ["Contra +100.00 (CL Dr / Contra AR Cr), posted"]
    assert notes[-1] == [
        "Contra +50.00: removed by a CM-RO before it was posted",
        "Contra reversal -50.00 (Contra AR Dr / CL Cr), not posted",
    ]


def test_so_line_page_query_count_does_not_grow_with_reductions(admin_client, rv1):
    """One more reduction column and contra entry: the same number of queries."""
    line = SoLine.objects.get(so_line_id="SO100-2")
    counts = []
    for step in (None, RORD2):
        if step:
            rv1.cmd("revenue_period", "close")
            rv1.stage(step)
            rv1.collect()
        with CaptureQueriesContext(connection) as queries:
            admin_client.get(url("soline_change", line.pk))
        counts.append(len(queries))
    assert counts[0] == counts[1]


# --- revenue contract page and lists (A1–A4) ---------------------------------------------


def test_a3_contract_page_lines_totals_and_chart(admin_client, rv1):
    """A2: Ext SSP 1200 (100 %), 600 (120 % of net ELP 500), 360 (2.50 × 12 × 12);
    A3: Σ net ESP 2060 spread by Ext SSP with cumulative rounding: 1144.44 (2060 × 1200 /
    2160), 1716.67 − 1144.44 = 572.23, 2060 − 1716.67 = 343.33; the carves add up to 0."""
    contract = SoLine.objects.get(so_line_id="SO100-2").contract
    response = admin_client.get(url("revenuecontract_change", contract.pk))
    assert response.status_code == 200
    rows = {r["so_line_id"]: r for r in response.context["line_rows"]}
    assert [
        (rows[k]["net"], rows[k]["ext_ssp"], rows[k]["allocated"], rows[k]["carve"])
        for k in ("SO100-1", "SO100-2", "SO100-3")
    ] == [
        ("1,200.00", "1,200.00", "1,144.44", "-55.56"),
        ("500.00", "600.00", "572.23", "72.23"),
        ("360.00", "360.00", "343.33", "-16.67"),
    ]
    assert (rows["SO100-2"]["ssp_pct"], rows["SO100-3"]["ssp_price"]) == ("120", "2.5")
    assert rows["SO100-2"]["reduced"] == "-100.00"
    (usd,) = response.context["total_rows"]
    assert (usd["net"], usd["allocated"], usd["carve"], usd["balanced"]) == (
        "2,060.00",
        "2,060.00",
        "0.00",
        True,
    )
    html = response.content.decode()
    spec = chart_spec(html, "chart-allocation-USD")
    assert spec["labels"] == [
        ["SO100-1", "Hardware"],
        ["SO100-2", "Maintenance"],
        ["SO100-3", "Support"],
    ]
    assert by_label(spec)["Net ESP"]["data"] == ["1200.00", "500.00", "360.00"]
    allocated = by_label(spec)["Allocated"]  # A3
    assert allocated["data"] == ["1144.44", "572.23", "343.33"]
    assert [p["text"] for p in allocated["point_labels"]] == [
        "carve -55.56",
        "carve +72.23",
        "carve -16.67",
    ]
    for line in SoLine.objects.filter(contract=contract):
        assert f'href="{url("soline_change", line.pk)}"' in html


def test_a3_contract_page_after_a_return_leaves_the_line_out(admin_client, rv1):
    rv1.stage(CM_R_FULL)
    rv1.collect()
    contract = SoLine.objects.get(so_line_id="SO100-1").contract
    response = admin_client.get(url("revenuecontract_change", contract.pk))
    rows = {r["so_line_id"]: r for r in response.context["line_rows"]}
    assert rows["SO100-1"]["returned"] and rows["SO100-1"]["allocated"] == ""
    (usd,) = response.context["total_rows"]
    assert usd["balanced"] and usd["outside"] == 1 and usd["pool_net"] == "860.00"
    spec = chart_spec(response.content.decode(), "chart-allocation-USD")
    assert by_label(spec)["Allocated"]["data"] == [None, "537.50", "322.50"]  # 860 × 600 / 960
    assert by_label(spec)["Net ESP"]["point_labels"][0] == {  # P2, in words
        "text": "returned: outside the pool",
        "tone": "quiet",
    }


def test_lists_show_net_esp_return_flag_allocation_and_contract_sums(admin_client, rv1):
    lines = admin_client.get(url("soline_changelist"))
    html = lines.content.decode()
    assert "Net ESP" in html and "Allocated · carve" in html
    assert 'title="ESP 600.00 reduced by -100.00"' in html
    assert "carve +72.23" in html and "carve -55.56" in html
    contracts = admin_client.get(url("revenuecontract_changelist"))
    (contract,) = contracts.context["cl"].result_list
    (usd,) = contract._sums
    assert (usd.lines, usd.net, usd.carve, usd.allocated) == (3, 2060, 0, 2060)
    assert "2,060.00" in contracts.content.decode()


HEADER = (
    "TRAN_TYPE,SO_NUM,SO_LINE_ID,SO_DATE,ORD_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,"
    "START_DATE,END_DATE,REV_METHOD,SSP_PCT"
)


def contracts_csv(count: int, start: int) -> str:
    """``count`` contracts of three lines (two in USD, one in EUR), with SSP: allocated and
    carved."""
    rows = []
    for i in range(start, start + count):
        rows += [
            f"SO,C{i},C{i}-1,2026-01-01,1,100,90,USD,USD,2026-01-01,2026-12-31,RATABLE_MONTHLY,100",
            f"SO,C{i},C{i}-2,2026-01-01,1,50,50,EUR,EUR,2026-01-01,2026-01-01,IMMEDIATE,80",
            f"SO,C{i},C{i}-3,2026-01-01,1,60,60,USD,USD,2026-01-01,2026-01-01,IMMEDIATE,100",
        ]
    return HEADER + "\n" + "\n".join(rows)


def lines_csv(count: int, start: int) -> str:
    """``count`` SO lines, two to a contract, one of them reduced by a RORD (P3)."""
    rows = [
        f"SO,L{i // 2},L{i},2026-01-01,12,120,120,USD,USD,2026-01-01,2026-12-31,"
        f"RATABLE_MONTHLY,{100 + i % 2 * 20}"
        for i in range(start, start + count)
    ]
    rord = (
        "TRAN_TYPE,SO_NUM,SO_LINE_ID,ORIG_SO_LINE_ID,SO_DATE,ORD_QTY,EXT_LST_PRC,EXT_SLL_PRC,"
        "CURR,F_CUR,START_DATE,END_DATE\n"
        f"RORD,R{start},R{start}-1,L{start},2026-06-01,12,-60,-60,USD,USD,2026-07-01,2026-12-31"
    )
    return HEADER + "\n" + "\n".join(rows), rord


def test_so_line_list_query_count_does_not_grow(admin_client, ledger):
    """No N+1 in the SO line list (net ESP, return flag, allocated · carve): the same
    number of queries for 2 lines as for 20."""
    ledger.cmd("revenue_period", "open", "202601")
    counts = []
    for count, start in ((2, 100), (18, 200)):
        lines, rord = lines_csv(count, start)
        ledger.stage(lines)
        ledger.collect()
        ledger.stage(rord)
        ledger.collect()
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(url("soline_changelist"))
        assert response.status_code == 200
        counts.append(len(queries))
    assert response.context["cl"].result_count == 20
    assert counts[0] == counts[1]
    reduced = next(x for x in response.context["cl"].result_list if x.so_line_id == "L100")
    assert (reduced.net_sll_prc, reduced._net_esp) == (60, 60)
    assert reduced.allocated is not None


def test_contract_list_query_count_does_not_grow(admin_client, ledger):
    """No N+1 in the contract list (lines, Σ net ESP, Σ allocated, Σ carve per currency):
    the same number of queries for 2 contracts as for 20."""
    ledger.cmd("revenue_period", "open", "202601")
    counts = []
    for count, start in ((2, 100), (18, 200)):
        ledger.stage(contracts_csv(count, start))
        ledger.collect()
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(url("revenuecontract_changelist"))
        assert response.status_code == 200
        counts.append(len(queries))
    assert response.context["cl"].result_count == 20
    assert counts[0] == counts[1]
    contract = next(c for c in response.context["cl"].result_list if c.rc_key == "C100")
    sums = {t.currency: t for t in contract._sums}
    assert (sums["USD"].lines, sums["USD"].net, sums["EUR"].net) == (2, 150, 50)
    assert sums["USD"].carve == 0  # A3: the carves of a currency's pool add up to 0


# --- inbound: RORDs stopped by V6 / V7, review and collect now (I5, I6) -------------------


@pytest.fixture
def stopped(ledger):
    """RV4: V6 on; the RORD Y2-1 ends after its SO line and is stopped (RPRO-00353)."""
    ledger.cmd("revenue_period", "open", "202601")
    ledger.cmd("revenue_rule", "RPRO-00353", "--enable")
    ledger.stage(RV4_SO)
    ledger.collect()
    ledger.stage(RV4_RORD.format(esp="-300"))
    ledger.collect()
    rord = InboundLine.objects.get(tran_type="RORD")
    assert (rord.status, rord.error_codes) == ("ERROR", "RPRO-00353")
    return rord


def test_i5_quick_link_and_filter_rords_awaiting_review(admin_client, stopped):
    listing = admin_client.get(url("inboundline_changelist"))
    html = listing.content.decode()
    assert listing.context["review"] == {"total": 1, "unmarked": 1}
    assert (  # V6 / V7 by the codes an accountant looks up
        '<span class="count">1</span> RORD line stopped by RPRO-00353 / RPRO-00356 awaits review'
    ) in html
    assert f'href="{url("inboundline_changelist")}?rord_review=awaiting"' in html
    awaiting = admin_client.get(url("inboundline_changelist"), {"rord_review": "awaiting"})
    assert [x.pk for x in awaiting.context["cl"].result_list] == [stopped.pk]
    assert "Mark RORD Review Completed and collect now" in awaiting.content.decode()
    marked = admin_client.get(url("inboundline_changelist"), {"rord_review": "marked"})
    assert marked.context["cl"].result_count == 0


def test_i5_i6_review_and_collect_now_marks_then_queues_a_run(
    admin_client, stopped, django_capture_on_commit_callbacks
):
    """The flag goes through inbound_review_set (audited), then collection_request queues
    a run for Celery after commit; the message names the line and links the run."""
    with (
        mock.patch("revenue.tasks.collect_inbound_task.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = admin_client.post(
            url("inboundline_changelist") + "?rord_review=awaiting",
            {"action": "review_and_collect", "_selected_action": [stopped.pk]},
            follow=True,
        )
    assert response.status_code == 200
    stopped.refresh_from_db()
    assert (stopped.rord_review_completed, stopped.retry) == ("Y", True)
    run = CollectionRun.objects.order_by("-pk").first()
    assert run.trigger == CollectionRun.Trigger.ADMIN and run.status == CollectionRun.Status.QUEUED
    delay.assert_called_once_with(run_id=run.pk)
    text = messages_of(response)
    assert f"RORD Review Completed = Y on #{stopped.pk} RORD Y2-1" in text
    assert f"collection run {run.pk} queued" in text
    assert f'<a href="{url("collectionrun_change", run.pk)}">Follow its progress' in (
        response.content.decode()
    )

    collection_run_execute(run_id=run.pk)  # what the worker does
    stopped.refresh_from_db()
    assert stopped.status == "COLLECTED"


def test_i5_review_and_collect_refuses_other_lines_by_name(
    admin_client, stopped, django_capture_on_commit_callbacks
):
    """An SO line and a collected line in the selection are refused with I5 messages; the
    stopped RORD is still reviewed and collected. Nothing answers 500."""
    so = InboundLine.objects.get(tran_type="SO")
    with (
        mock.patch("revenue.tasks.collect_inbound_task.delay"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = admin_client.post(
            url("inboundline_changelist"),
            {"action": "review_and_collect", "_selected_action": [so.pk, stopped.pk]},
            follow=True,
        )
    assert response.status_code == 200
    text = messages_of(response)
    assert f"#{so.pk} is a SO line, not RORD" in text and "is already collected" in text
    assert "queued" in text
    stopped.refresh_from_db()
    assert stopped.rord_review_completed == "Y"

    only_refused = admin_client.post(
        url("inboundline_changelist"),
        {"action": "review_and_collect", "_selected_action": [so.pk]},
        follow=True,
    )
    assert "1 line(s) refused: " in messages_of(only_refused)
    assert "I5" not in messages_of(only_refused)
    assert CollectionRun.objects.filter(trigger=CollectionRun.Trigger.ADMIN).count() == 1


def _staff(client, *codenames):
    user = UserFactory(is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="revenue", codename__in=codenames)
    )
    client.force_login(user)
    return user


def test_i5_review_and_collect_needs_the_review_permission(client, stopped):
    """Without review_inboundline the action is not offered and a forged POST changes
    nothing (no flag, no run, no 500)."""
    _staff(client, "view_inboundline", "change_inboundline", "collect_now")
    listing = client.get(url("inboundline_changelist"))
    assert "review_and_collect" not in listing.content.decode()
    response = client.post(
        url("inboundline_changelist"),
        {"action": "review_and_collect", "_selected_action": [stopped.pk]},
        follow=True,
    )
    assert response.status_code == 200
    stopped.refresh_from_db()
    assert stopped.rord_review_completed == "N"
    assert not CollectionRun.objects.filter(trigger=CollectionRun.Trigger.ADMIN).exists()


def test_i5_review_without_collect_permission_leaves_it_to_the_schedule(client, stopped):
    _staff(client, "view_inboundline", "change_inboundline", "review_inboundline")
    response = client.post(
        url("inboundline_changelist"),
        {"action": "review_and_collect", "_selected_action": [stopped.pk]},
        follow=True,
    )
    stopped.refresh_from_db()
    assert stopped.rord_review_completed == "Y"
    assert "the next scheduled collection collects them" in messages_of(response)
    assert not CollectionRun.objects.filter(trigger=CollectionRun.Trigger.ADMIN).exists()
