"""Revenue flows through the admin in headless Chromium: a RORD stopped in staging by V6
(RPRO-00353) is reviewed and collected by a real Celery worker whose run the page follows
(I5, I6, I8); the open period is closed from the Periods list (S1, S2, S3)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from revenue.models import CollectionRun, InboundLine, JournalEntry, Period
from revenue.models.choices import LineStatus

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore:No directory at:UserWarning"),
]

RORD = "DEMO-RO-8-1"  # load_demo: ends a month after its SO line, stopped by V6


@pytest.mark.broker
def test_i5_i6_review_a_stopped_rord_and_follow_its_collection_run(
    revenue_data, embedded_worker, logged_in_page, live_server
):
    """I5: *Mark RORD Review Completed and collect now* sets the flag and queues a run (I6)
    that a Celery worker on the configured broker executes; the run's page polls its
    progress to 100 % (I8) and the RORD is Collected, V6 skipped for it."""
    page = logged_in_page
    line = InboundLine.objects.get(tran_type="RORD", so_line_id=RORD)
    assert line.status == LineStatus.ERROR and "RPRO-00353" in line.error_codes
    assert line.rord_review_completed != "Y"

    page.goto(f"{live_server.url}/admin/revenue/inboundline/")
    review_bar = page.locator("#rord-review")
    expect(review_bar).to_contain_text("stopped by RPRO-00353 / RPRO-00356")
    review_bar.get_by_role("link", name="RORDs awaiting review ›").click()
    expect(page.locator("#rord-review.active")).to_be_visible()
    row = page.locator("#result_list tbody tr", has_text=RORD)
    expect(row).to_contain_text("RPRO-00353")
    expect(row.locator(".contra-badge")).to_have_text("Error")

    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "review_and_collect")
    page.get_by_role("button", name="Go").click()
    success = page.locator("ul.messagelist li.success")
    expect(success).to_contain_text(f"RORD Review Completed = Y on #{line.pk}")
    expect(success).to_contain_text("(RPRO-00353 and RPRO-00356 skipped)")
    run = CollectionRun.objects.order_by("-pk").first()
    expect(success).to_contain_text(f"collection run {run.pk} queued")

    success.get_by_role("link", name="Follow its progress ›").click()
    page.wait_for_url(f"**/admin/revenue/collectionrun/{run.pk}/change/")
    status = page.locator(f'[data-run="{run.pk}"][data-field="status"] .contra-badge')
    expect(status).to_have_text("Succeeded", timeout=60_000)
    progress = page.locator(f'[data-run="{run.pk}"][data-field="progress"]')
    expect(progress.locator(".pct")).to_have_text("100%")
    expect(progress.locator(".contra-progress > span")).to_have_attribute(
        "style", re.compile(r"width:\s*100%")
    )
    run.refresh_from_db()
    assert run.status == CollectionRun.Status.SUCCEEDED, run.message
    assert run.task_id, "the run was not executed by the Celery worker"
    assert run.collected >= 1 and run.processed == run.total
    expect(page.locator(f'[data-run="{run.pk}"][data-field="collected"]')).to_have_text(
        str(run.collected)
    )

    line.refresh_from_db()
    assert line.status == LineStatus.COLLECTED and line.rord_review_completed == "Y"
    assert line.run_id == run.pk
    page.goto(f"{live_server.url}/admin/revenue/inboundline/?q={RORD}")
    row = page.locator("#result_list tbody tr", has_text=RORD)
    expect(row.locator(".contra-badge")).to_have_text("Collected")
    page.goto(f"{live_server.url}/admin/revenue/inboundline/?rord_review=awaiting")
    expect(page.locator("#result_list tbody tr", has_text=RORD)).to_have_count(0)


def test_s2_close_the_open_period_from_the_periods_list(revenue_data, logged_in_page, live_server):
    """S2: *Close open period…* asks first, then posts the period's entries, keeps its
    trial balance (balanced, S3), writes its GL transfer file and opens the next month."""
    page = logged_in_page
    assert Period.objects.get(status=Period.Status.OPEN).pk == 202611
    unposted = JournalEntry.objects.filter(period=202611, posted=False).count()
    assert unposted, "load_demo books entries in the open period"

    page.goto(f"{live_server.url}/admin/revenue/period/")
    page.get_by_role("link", name="Close open period 2026-11…").click()
    page.wait_for_url("**/admin/revenue/period/close/")
    expect(page.locator("h1")).to_have_text("Close period 2026-11?")
    expect(page.locator("#content-main")).to_contain_text(f"{unposted} not posted yet")
    expect(page.locator("#content-main")).to_contain_text("GL_202611.csv")
    page.get_by_role("button", name="Close 2026-11").click()

    page.wait_for_url("**/admin/revenue/period/")
    success = page.locator("ul.messagelist li.success")
    expect(success).to_contain_text("2026-11 closed: entries posted, GL transfer file written")
    expect(success).to_contain_text("2026-12 is open")
    expect(page.locator("ul.messagelist li.error")).to_have_count(0)
    closed = page.locator("#result_list tbody tr", has_text="(202611)")
    expect(closed.locator(".contra-badge")).to_have_text("Closed")
    expect(closed).to_contain_text("GL_202611.csv")
    opened = page.locator("#result_list tbody tr", has_text="(202612)")
    expect(opened.locator(".contra-badge")).to_have_text("Open")
    expect(page.get_by_role("link", name="Close open period 2026-12…")).to_be_visible()

    assert Period.objects.get(pk=202611).status == Period.Status.CLOSED
    assert Period.objects.get(status=Period.Status.OPEN).pk == 202612
    assert not JournalEntry.objects.filter(period=202611, posted=False).exists()

    # the trial balance kept at close: every currency balanced, none differs (S3)
    closed.locator("th a").first.click()
    balance = page.locator("#period-balance")
    expect(balance).to_contain_text("posted totals kept at close")
    subtotals = balance.locator("tr.revenue-subtotal")
    expect(subtotals.first).to_be_visible()
    expect(balance.locator("tr.revenue-subtotal.unbalanced")).to_have_count(0)
    expect(balance.locator(".revenue-ok")).to_have_count(subtotals.count())
    expect(balance.locator(".revenue-ok").first).to_have_text("✓ balanced")
    expect(page.locator("button[name=_fsm_transition_to]")).to_have_count(0)  # S1: final

    with page.expect_download() as download:
        page.get_by_role("link", name="GL_202611.csv").click()
    assert download.value.suggested_filename == "GL_202611.csv"
