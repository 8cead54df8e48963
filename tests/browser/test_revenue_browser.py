"""The revenue admin in headless Chromium: the SO line page with its waterfall chart, the
inbound list, the journal's trial balance and the live progress of collection runs (I8)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from revenue.models import CollectionRun, SoLine
from tests.browser.conftest import output_dir

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
DRAWN = """id => {
  const chart = Chart.getChart(document.querySelector(`canvas[data-chart="${id}"]`));
  const bars = chart.getSortedVisibleDatasetMetas().flatMap(meta => meta.data.filter(
    (el, i) => chart.data.datasets[meta.index].data[i] !== null));
  return {
    labels: chart.data.labels.map(l => Array.isArray(l) ? l.join(" ") : l),
    bars: bars.length,
    zero_height: bars.filter(el => Math.abs(el.base - el.y) < 0.5).length,
    legend: chart.legend.legendItems.map(item => item.text),
  };
}"""


def shot(page, name: str, *, full: bool = True) -> None:
    """A screenshot of a revenue page for review (``<var>/test-output/shots/``)."""
    shots = output_dir() / "shots"
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / f"{name}.png"), full_page=full)


def test_so_line_page_shows_schedule_waterfall_and_history(
    revenue_data, logged_in_page, live_server
):
    page = logged_in_page
    line = SoLine.objects.get(so_line_id="DEMO-SO-1002-2")
    page.goto(f"{live_server.url}/admin/revenue/soline/")
    expect(page.locator("#result_list")).to_contain_text("DEMO-SO-1002-2")
    shot(page, "revenue_solines")

    page.goto(f"{live_server.url}/admin/revenue/soline/{line.pk}/change/")
    expect(page.locator("canvas[data-chart=chart-waterfall]")).to_be_visible()
    drawn = page.evaluate(DRAWN, "chart-waterfall")  # Chart.js (a static file) drew it
    assert drawn["labels"][-1] == "Total" and len(drawn["labels"]) == 14  # 13 periods + total
    assert drawn["bars"] > 13 and drawn["zero_height"] == 0
    assert "Recognized · billed" in drawn["legend"]
    schedule = page.locator("#revenue-schedule table.revenue-schedule tbody tr")
    expect(schedule).to_have_count(13)  # 15 Sep 2026 – 14 Sep 2027, daily
    expect(page.locator("#revenue-schedule tr.open")).to_contain_text("2026-11")
    expect(page.locator("#revenue-transactions")).to_contain_text("INV-1002")
    expect(page.locator("#revenue-journal")).to_contain_text("Contract liability")
    shot(page, "revenue_soline_waterfall")

    page.click("text=Hold")
    page.fill("textarea[name=reason]", "Customer dispute")
    shot(page, "revenue_soline_hold_form")
    page.click("input[type=submit][value=Hold]")
    expect(page.locator("ul.messagelist li.success")).to_contain_text("hold revenue done")
    expect(page.locator(".field-hold_badge .contra-badge")).to_have_text("On hold")
    expect(page.locator(".fieldBox.field-hold_badge")).to_contain_text("since 2026-11")  # S10, K2
    expect(page.locator("#revenue-history")).to_contain_text("Customer dispute")
    expect(page.locator("#revenue-schedule tbody tr.held").first).to_be_visible()
    shot(page, "revenue_soline_held")


def test_runs_list_progress_bars_follow_a_running_run(revenue_data, logged_in_page, live_server):
    """I8: the list polls the progress view while a run is active and updates in place."""
    run = CollectionRun.objects.create(
        trigger=CollectionRun.Trigger.ADMIN,
        status=CollectionRun.Status.RUNNING,
        total=200,
        processed=50,
        collected=40,
        stopped=10,
    )
    page = logged_in_page
    page.goto(f"{live_server.url}/admin/revenue/collectionrun/")
    row_status = page.locator(f'[data-run="{run.pk}"][data-field="status"] .contra-badge')
    expect(row_status).to_have_text("Running")
    expect(page.locator(f'[data-run="{run.pk}"][data-field="progress"] .pct')).to_have_text("25%")
    expect(page.locator(".revenue-runs-bar")).to_contain_text("Schedule: every 5 minutes")
    shot(page, "revenue_runs_running")

    CollectionRun.objects.filter(pk=run.pk).update(processed=150, collected=130)
    expect(page.locator(f'[data-run="{run.pk}"][data-field="progress"] .pct')).to_have_text(
        "75%", timeout=8000
    )
    expect(page.locator(f'[data-run="{run.pk}"][data-field="collected"]')).to_have_text("130")
    CollectionRun.objects.filter(pk=run.pk).update(
        status=CollectionRun.Status.SUCCEEDED, processed=200, collected=180
    )
    expect(row_status).to_have_text("Succeeded", timeout=8000)
    expect(page.locator(f'[data-run="{run.pk}"][data-field="progress"] .pct')).to_have_text("100%")
    shot(page, "revenue_runs")


def test_inbound_journal_and_period_pages(revenue_data, logged_in_page, live_server):
    page = logged_in_page
    page.goto(f"{live_server.url}/admin/revenue/inboundline/")
    # The newest lines first: the month-end demo's stopped CM-RO lines lead the list.
    expect(page.locator("#result_list")).to_contain_text("RPRO-00683")
    expect(page.locator("a", has_text="Upload CSV / JSON")).to_be_visible()
    shot(page, "revenue_inbound")
    page.goto(f"{live_server.url}/admin/revenue/inboundline/?waiting__exact=1")
    expect(page.locator("#result_list .contra-badge.WAITING").first).to_have_text("Waiting")
    for code in ("INB-000", "INB-004"):
        page.goto(f"{live_server.url}/admin/revenue/inboundline/?error_code={code}")
        expect(page.locator("#result_list")).to_contain_text(code)

    page.click("text=Upload CSV / JSON")
    page.set_input_files(
        "input[name=file]",
        files=[{"name": "logo.png", "mimeType": "image/png", "buffer": PNG}],
    )
    page.click("input[type=submit][value='Upload and stage']")
    expect(page.locator(".errorlist")).to_contain_text("logo.png is not a CSV or JSON file")
    shot(page, "revenue_upload_refused")
    csv_text = (
        "TRAN_TYPE,SO_NUM,SO_LINE_ID,SO_DATE,ORD_QTY,EXT_LST_PRC,EXT_SLL_PRC,CURR,F_CUR,"
        "START_DATE,END_DATE\nSO,UP1,UP1-1,2026-11-01,1,100,100,USD,USD,2026-11-01,2027-10-31\n"
    )
    page.set_input_files(
        "input[name=file]",
        files=[{"name": "up.csv", "mimeType": "text/csv", "buffer": csv_text.encode()}],
    )
    page.click("input[type=submit][value='Upload and stage']")
    expect(page.locator("ul.messagelist li")).to_contain_text("Staged 1 lines")
    expect(page.locator("#result_list")).to_contain_text("UP1-1")

    page.goto(f"{live_server.url}/admin/revenue/inboundline/?q=DEMO-SO-1006-1")
    page.locator("#result_list tbody tr th a").first.click()
    expect(page.locator("#inbound-raw")).to_contain_text("7O00")
    expect(page.locator("#inbound-raw tr.problem").first).to_be_visible()
    shot(page, "revenue_inbound_line")

    page.goto(f"{live_server.url}/admin/revenue/journalentry/")
    expect(page.locator("#journal-balance")).to_contain_text("balanced")
    shot(page, "revenue_journal", full=False)

    page.goto(f"{live_server.url}/admin/revenue/period/")
    expect(page.locator("#result_list")).to_contain_text("GL_202609.csv")
    shot(page, "revenue_periods")
    page.goto(f"{live_server.url}/admin/revenue/period/202610/change/")
    expect(page.locator("#period-balance")).to_contain_text("Contract liability")
    shot(page, "revenue_period_closed")

    page.goto(f"{live_server.url}/admin/revenue/period/202611/change/")
    expect(page.locator("#period-balance")).to_contain_text("so far (open period)")
    shot(page, "revenue_period_open")
    page.once("dialog", lambda dialog: dialog.accept())  # "Close period 2026-11?"
    page.click("button[name=_fsm_transition_to][value=close]")
    # M4: the line uploaded above is still NEW: the close is refused, in words
    expect(page.locator("ul.messagelist li.error")).to_contain_text("1 line staged")
    expect(page.locator("ul.messagelist li.error")).to_contain_text("still NEW")
    expect(page.locator(".field-status_badge .contra-badge")).to_have_text("Open")
    page.get_by_role("link", name="close page").click()
    page.wait_for_url("**/admin/revenue/period/close/")
    page.check("input[name=force]")
    page.fill("textarea[name=reason]", "Uploaded by mistake; withdrawn next month")
    page.locator("#period-close-form input[type=submit]").click()
    expect(page.locator("ul.messagelist li.success")).to_contain_text("2026-11 closed")
    expect(page.locator("ul.messagelist li.success")).to_contain_text("forced; reason recorded")
    expect(page.locator("ul.messagelist li.success")).to_contain_text("2026-12 is open")
    page.goto(f"{live_server.url}/admin/revenue/period/202611/change/")
    expect(page.locator(".field-status_badge .contra-badge")).to_have_text("Closed")
    expect(page.locator("#content-main")).to_contain_text("Uploaded by mistake")
