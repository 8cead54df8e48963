"""The admin home page as a work queue (core.work_queue): what needs someone today, each
count a link to the filtered list that shows exactly those; internals under
"Administration"."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import work_queue
from orders.models import OrderStatus
from revenue.models import InboundBatch, InboundLine
from revenue.models.choices import LineStatus
from revenue.services.inbound import inbound_stage
from revenue.services.periods import period_open
from tests.factories import make_order

pytestmark = pytest.mark.django_db

HOME = "/admin/"


def queue_of(response) -> dict[str, tuple[str, str]]:
    """label → (count, link) of every work-queue item on the page."""
    html = response.content.decode()
    section = html[html.index('id="work-queue"') : html.index("</section>")]
    items = re.findall(
        r'<a href="([^"]+)">\s*(?:<span class="contra-queue-count">(\d+)</span>)?\s*'
        r'<span class="contra-queue-label">([^<]+)</span>',
        section,
    )
    return {label.strip(): (count, url.replace("&amp;", "&")) for url, count, label in items}


def listed(client, url: str) -> int:
    """How many rows the filtered list shows (its result count)."""
    response = client.get(url)
    assert response.status_code == 200, url
    return len(re.findall(r'<tr[^>]*>\s*<td class="action-checkbox">', response.content.decode()))


def test_home_counts_draft_orders_and_links_to_exactly_them(admin_client):
    drafts = [make_order(), make_order()]
    make_order(activate=True)
    queue = queue_of(admin_client.get(HOME))
    count, url = queue["Draft orders"]
    assert count == "2"
    assert f"status__exact={OrderStatus.DRAFT}" in url
    assert listed(admin_client, url) == len(drafts)


def test_home_counts_lines_stopped_by_reason_and_rords_awaiting_review(admin_client):
    period_open(period=202601, actor=None)
    bad = {"TRAN_TYPE": "SO", "SO_LINE_ID": "A-1", "EXT_SLL_PRC": "abc", "CURR": "USD"}
    inbound_stage(rows=[bad, {**bad, "SO_LINE_ID": "A-2"}], source=InboundBatch.SourceKind.SERVICE)
    stopped = InboundLine.objects.filter(status=LineStatus.ERROR)
    assert stopped.count() == 2
    queue = queue_of(admin_client.get(HOME))
    (label,) = [label for label in queue if label.startswith("Stopped: ")]
    count, url = queue[label]
    assert count == "2" and "error_code=" in url
    assert listed(admin_client, url) == 2
    assert queue["RORDs awaiting review"][0] == "0"
    assert "Open period: 2026-01" in queue


def test_home_shows_only_what_the_user_may_open(client, ops_user):
    client.force_login(ops_user)  # orders permissions only
    queue = queue_of(client.get(HOME))
    assert "Draft orders" in queue
    assert not any(
        label.startswith(("RMAs", "Refunds", "Stopped", "Open period")) for label in queue
    )


def test_home_puts_internals_under_administration(admin_client):
    html = admin_client.get(HOME).content.decode()
    assert 'id="administration"' in html or ">Administration<" in html
    for internal in ("Django Celery Beat", "Celery Results", "Authentication and Authorization"):
        assert internal not in html
    # their models are still one click away, under Administration
    assert reverse("admin:auth_user_changelist") in html
    assert reverse("admin:django_celery_beat_periodictask_changelist") in html


def test_home_query_count_does_not_grow_with_the_data(admin_client):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(HOME).status_code == 200
        return len(captured)

    period_open(period=202601, actor=None)
    make_order()
    few = queries()
    for _ in range(5):
        make_order()
    assert queries() == few


def test_home_opens_when_one_provider_fails(admin_client, monkeypatch):
    def broken(request):
        raise RuntimeError("count failed")

    monkeypatch.setitem(work_queue._PROVIDERS, "broken", (0, broken))
    response = admin_client.get(HOME)
    assert response.status_code == 200
    assert "Draft orders" in queue_of(response)
