"""*Return items…* on the RMA page (T6–T10, T9): documents and their amounts, refusals on
their line, garbage input, stale pages; *Ensure refund* later."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from djmoney.money import Money

from returns.models import (
    LineStatus,
    Refund,
    RefundStatus,
    ReturnProcessing,
)
from returns.services import ReturnQuantities, return_items_process
from tests.orders.test_admin import messages_of
from tests.returns.conftest import fee, rma_for, tv_order
from tests.returns.rma_admin_helpers import (
    documents_count,
    page,
    product_line,
    return_two,
    rma_url,
)

pytestmark = pytest.mark.django_db
USD = "USD"


# --- Return items… (T6–T10) ---------------------------------------------------------------
def test_tv1_return_items_form_creates_documents_and_shows_their_amounts(admin_client, tv1_rma):
    line = product_line(tv1_rma)
    html = page(admin_client, rma_url(tv1_rma, "return_items"))
    assert f'name="returned_{line.pk}"' in html and f'name="to_cancel_{line.pk}"' in html
    assert f'name="rejected_{line.pk}"' in html and "$8.10" in html  # its fee, grouped
    assert 'name="ensure_refund"' in html and "checked" in html

    data = {f"returned_{line.pk}": "2", f"to_cancel_{line.pk}": "0", "ensure_refund": "on"}
    response = admin_client.post(rma_url(tv1_rma, "return_items"), data, follow=True)
    html = response.content.decode()
    assert response.redirect_chain[-1][0].startswith(rma_url(tv1_rma))
    success = re.search(r'<li class="success">(.*?)</li>', html).group(1)
    assert "$54.00" in success and "$5.40" in success and "$48.60" in success
    processing = ReturnProcessing.objects.get(return_order=tv1_rma)
    assert processing.credit_memo.gross_total == Money("54.00", USD)
    assert Refund.objects.get(processing=processing).amount == Money("48.60", USD)


def test_t6_over_quantity_is_refused_on_its_line_and_keeps_the_input(admin_client, tv1_rma):
    """T6: returned 2 + to cancel 2 > 3 expected: the line is named, nothing is created."""
    line = product_line(tv1_rma)
    before = documents_count()
    data = {f"returned_{line.pk}": "2", f"to_cancel_{line.pk}": "2", "comment": "two boxes"}
    response = admin_client.post(rma_url(tv1_rma, "return_items"), data)
    assert response.status_code == 200
    errors = response.context["form"].errors[f"returned_{line.pk}"]
    assert errors[0].startswith(f"line {line}:") and "3 expected" in errors[0]
    html = response.content.decode()
    assert 'value="2"' in html and "two boxes" in html and "nothing was processed" in html
    assert documents_count() == before
    line.refresh_from_db()
    assert line.status == LineStatus.OPEN


def test_tv3_fees_exceeding_the_credit_are_refused_and_nothing_is_created(
    admin_client, fee_product
):
    """TV3 (T9): 1 unit (credit memo 27.00) with a 30.00 fee: refused, nothing created."""
    rma = rma_for(tv_order().items.get(), 1, fees=[fee(fee_product, "30.00")])
    line = product_line(rma)
    before = documents_count()
    data = {f"returned_{line.pk}": "1", "ensure_refund": "on"}
    response = admin_client.post(rma_url(rma, "return_items"), data)
    assert response.status_code == 200
    (error,) = response.context["form"].non_field_errors()
    assert error.startswith("the fees ($30.00)") and "$27.00" in error
    assert "Nothing was created" in error
    assert documents_count() == before
    assert rma.lines.filter(status=LineStatus.OPEN).count() == 2


@pytest.mark.parametrize(
    "values, field",
    [
        ({"returned": "abc"}, "returned"),
        ({"returned": "1", "to_cancel": "-1"}, "to_cancel"),
        ({"returned": "1e999"}, "returned"),
        ({"returned": "1", "rejected": "0.00001"}, "rejected"),
        ({"returned": "0", "to_cancel": "1"}, "returned"),  # T6: returned must be > 0
    ],
)
def test_t6_garbage_quantities_are_form_errors_never_500(admin_client, tv1_rma, values, field):
    line = product_line(tv1_rma)
    before = documents_count()
    data = {f"{kind}_{line.pk}": value for kind, value in values.items()}
    response = admin_client.post(rma_url(tv1_rma, "return_items"), data)
    assert response.status_code == 200
    assert response.context["form"].errors.get(f"{field}_{line.pk}")
    assert documents_count() == before


def test_t6_lines_of_another_rma_empty_forms_and_stale_pages_are_refused(
    admin_client, tv1_rma, fee_product
):
    line = product_line(tv1_rma)
    other = rma_for(tv_order().items.get(), 1)
    other_line = product_line(other)
    url = rma_url(tv1_rma, "return_items")
    before = documents_count()

    response = admin_client.post(url, {f"returned_{other_line.pk}": "1"})
    (error,) = response.context["form"].non_field_errors()
    assert error == f"line {other_line.pk} is not on this return order"  # T6
    response = admin_client.post(url, {f"returned_{line.pk}": "", "comment": "nothing"})
    assert response.context["form"].non_field_errors()[0].startswith("enter a quantity returned")
    response = admin_client.post(url, {"returned_99999999999999999": "1"})  # not an id
    assert response.status_code == 200
    assert documents_count() == before

    # someone returns the line while this page is open: the stale post names it
    return_items_process(
        return_order=tv1_rma,
        quantities={line.pk: ReturnQuantities(returned=Decimal(3))},
        user=None,
    )
    before = documents_count()
    response = admin_client.post(url, {f"returned_{line.pk}": "2"})
    assert response.status_code == 200
    (error,) = response.context["form"].errors[f"returned_{line.pk}"]
    assert error == f"line {line} is Processed: it is read-only"
    assert "since this page was shown" in response.content.decode()
    assert documents_count() == before


def test_t6_return_items_only_on_approved_rmas(admin_client, tv1_item):
    rma = rma_for(tv1_item, 1, approve=False)
    response = admin_client.get(rma_url(rma, "return_items"), follow=True)
    assert messages_of(response) == [  # T6, in words
        f"{rma} is Submitted: items are returned only on an Approved return order."
    ]
    line = product_line(rma)
    response = admin_client.post(rma_url(rma, "return_items"), {f"returned_{line.pk}": "1"})
    error = response.context["form"].non_field_errors()[0]
    assert error.startswith(f"{rma} is Submitted: items are returned only on an Approved")
    assert admin_client.get("/admin/returns/returnorder/abc/return-items/").status_code == 404


def test_t9_ensure_refund_later_from_the_processings_panel(admin_client, tv1_rma):
    processing = return_two(tv1_rma, ensure_refund=False)
    html = page(admin_client, rma_url(tv1_rma))
    assert f'form="ensure-refund-{processing.pk}"' in html and "not ensured yet" in html
    response = admin_client.post(rma_url(tv1_rma, "ensure_refund", processing.pk), follow=True)
    refund = Refund.objects.get(processing=processing)
    assert refund.amount == Money("48.60", USD) and refund.status == RefundStatus.PENDING
    assert f"refund {refund} of $48.60 ensured (Pending)" in response.content.decode()
    other = rma_for(tv_order().items.get(), 1)
    response = admin_client.post(rma_url(other, "ensure_refund", processing.pk), follow=True)
    assert f"Processing id {processing.pk} is not one of {other}" in response.content.decode()
