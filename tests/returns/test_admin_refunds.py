"""The refund and returns-and-cancels admin pages (T9): *Mark refunded*, *Mark failed*
(with why) and *Retry* from the RMA page, the refund list's actions and page, and the
read-only list of returns and cancels."""

from __future__ import annotations

from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from djmoney.money import Money

from returns.models import Refund, RefundStatus
from tests.returns.conftest import fee, rma_for, tv_order
from tests.returns.test_admin_rma import page, return_two, rma_url

pytestmark = pytest.mark.django_db
USD = "USD"


@pytest.fixture
def tv1_rma(tv1_item, fee_product):
    """TV1: 3 of 4 expected, a PERCENTAGE 10 fee (8.10); approved."""
    return rma_for(tv1_item, 3, fees=[fee(fee_product, 10, "PERCENTAGE")])


def test_t9_mark_refunded_and_failed_with_a_reason_from_the_rma_page(admin_client, tv1_rma):
    refund = Refund.objects.get(processing=return_two(tv1_rma))
    settle = reverse("admin:returns_refund_settle", args=[refund.pk])
    back = rma_url(tv1_rma) + "#rma-processings"
    response = admin_client.post(settle, {"transition": "fail", "next": back}, follow=True)
    html = response.content.decode()
    assert f"{refund}: say why the refund failed" in html and "T9" not in html
    response = admin_client.post(
        settle, {"transition": "fail", "comment": "card expired", "next": back}
    )
    assert response.url == back
    refund.refresh_from_db()
    assert refund.status == RefundStatus.FAILED and refund.failure_reason == "card expired"
    html = page(admin_client, rma_url(tv1_rma))
    assert "card expired" in html and f'form="refund-{refund.pk}-retry"' in html
    assert 'id="rma-refund">$0.00' in html  # a failed refund is not counted

    admin_client.post(settle, {"transition": "retry"})
    response = admin_client.post(settle, {"transition": "succeed", "next": back}, follow=True)
    assert "enter the gateway reference of the payment" in response.content.decode()
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PENDING  # paid needs the gateway's reference
    response = admin_client.post(
        settle,
        {"transition": "succeed", "gateway_reference": "re_42", "next": "https://evil.example/"},
    )
    assert response.url == reverse("admin:returns_refund_change", args=[refund.pk])
    refund.refresh_from_db()
    tv1_rma.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED and refund.gateway_reference == "re_42"
    assert "re_42" in page(admin_client, rma_url(tv1_rma))
    assert tv1_rma.refund_total == Money("48.60", USD)
    response = admin_client.post(settle, {"transition": "bogus"}, follow=True)
    assert "there is no action 'bogus'" in unescape(response.content.decode())


def test_refund_list_actions_mark_refunded_and_failed_with_a_reason(admin_client, fee_product):
    refunds = []
    for _ in range(3):
        rma = rma_for(tv_order().items.get(), 3, fees=[fee(fee_product, 10, "PERCENTAGE")])
        refunds.append(Refund.objects.get(processing=return_two(rma)))
    url = reverse("admin:returns_refund_changelist")
    html = page(admin_client, url)
    assert all(refund.number in html for refund in refunds) and "$48.60" in html
    pick = "_selected_action"
    admin_client.post(url, {"action": "mark_refunded", pick: [refunds[0].pk]})
    response = admin_client.post(url, {"action": "mark_failed", pick: [r.pk for r in refunds]})
    assert response.status_code == 200 and "Why the refunds failed" in response.content.decode()
    data = {"action": "mark_failed", pick: [r.pk for r in refunds], "apply": "1", "comment": ""}
    assert admin_client.post(url, data).context["form"].errors["comment"]
    data["comment"] = "gateway down"
    response = admin_client.post(url, data, follow=True)
    html = response.content.decode()
    assert "2 refund(s) marked failed." in html
    assert f"{refunds[0]}: fail is not allowed: {refunds[0]} is Refunded" in html
    assert "T9" not in html
    statuses = dict(Refund.objects.values_list("pk", "status"))
    assert statuses == {
        refunds[0].pk: RefundStatus.SUCCEEDED,
        refunds[1].pk: RefundStatus.FAILED,
        refunds[2].pk: RefundStatus.FAILED,
    }
    assert set(Refund.objects.filter(status="FAILED").values_list("failure_reason", flat=True)) == {
        "gateway down"
    }
    assert {
        r.number
        for r in admin_client.get(url, {"status__exact": "FAILED"}).context["cl"].result_list
    } == {refunds[1].number, refunds[2].number}
    memo = refunds[2].credit_memo.number
    assert [r.number for r in admin_client.get(url, {"q": memo}).context["cl"].result_list] == [
        refunds[2].number
    ]


def test_refund_page_buttons_go_through_the_service(admin_client, tv1_rma):
    refund = Refund.objects.get(processing=return_two(tv1_rma))
    url = reverse("admin:returns_refund_change", args=[refund.pk])
    html = page(admin_client, url)
    assert 'value="succeed"' in html and 'value="fail"' in html and 'value="retry"' not in html
    assert tv1_rma.number in html and refund.credit_memo.number in html
    response = admin_client.post(url, {"_fsm_transition_to": "succeed"})
    confirm = reverse("admin:returns_refund_transition", args=[refund.pk, "succeed"])
    assert response["Location"] == confirm  # money paid: asked first, saying how much
    assert f"records {refund.amount.amount:,.2f} USD as paid back" in page(admin_client, confirm)
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PENDING
    response = admin_client.post(confirm, {"comment": ""})
    assert response.status_code == 200  # the gateway reference is asked for
    assert response.context["transition_form"].errors["gateway_reference"]
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PENDING
    response = admin_client.post(
        confirm, {"comment": "", "gateway_reference": "re_3PxYz"}, follow=True
    )
    refund.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED and refund.gateway_reference == "re_3PxYz"
    html = response.content.decode()
    assert f"{refund}: marked refunded." in html and 'id="refund-history"' in html
    assert "re_3PxYz" in html
    found = admin_client.get(reverse("admin:returns_refund_changelist"), {"q": "re_3PxYz"})
    assert [r.pk for r in found.context["cl"].result_list] == [refund.pk]


def test_lists_of_refunds_and_processings_run_constant_queries(admin_client, fee_product):
    urls = [
        reverse("admin:returns_refund_changelist"),
        reverse("admin:returns_returnprocessing_changelist"),
    ]

    def make(n):
        for _ in range(n):
            rma = rma_for(tv_order().items.get(), 3, fees=[fee(fee_product, 10, "PERCENTAGE")])
            return_two(rma)

    make(2)
    for url in urls:
        admin_client.get(url)
    few = []
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url).status_code == 200
        few.append(len(queries))
    make(8)
    for url, count in zip(urls, few, strict=True):
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.get(url)
        assert response.context["cl"].result_count == 10
        assert len(queries) == count, [q["sql"] for q in queries.captured_queries]


def test_processings_list_and_page_are_read_only(admin_client, tv1_rma):
    processing = return_two(tv1_rma)
    url = reverse("admin:returns_returnprocessing_changelist")
    html = page(admin_client, url)
    assert processing.number in html and "RMA return" in html and tv1_rma.number in html
    assert "$54.00" in html and "$5.40" in html and "Pending" in html and "addlink" not in html
    assert admin_client.get(url, {"kind__exact": "SIMPLE_CANCEL"}).context["cl"].result_count == 0
    found = admin_client.get(url, {"q": tv1_rma.order.number}).context["cl"].result_count
    assert found == 1
    html = page(
        admin_client, reverse("admin:returns_returnprocessing_change", args=[processing.pk])
    )
    assert 'id="processing-lines"' in html and 'name="_save"' not in html
