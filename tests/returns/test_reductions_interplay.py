"""R7 with T2 and T13: units canceled or being returned cannot also be reduced, and units
a reduction took off a fulfilled order cannot also be returned."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.exceptions import BusinessRuleRefused
from orders.models import OrderItem
from orders.services import order_activate
from orders.services.reductions import ReductionLine, reduction_order_create
from returns.services import SimpleLineInput, simple_cancel_submit
from tests.returns.conftest import rma_for, tv_order

pytestmark = pytest.mark.django_db


def reduce(item, quantity, *, activate=True):
    reduction = reduction_order_create(
        original=item.order,
        lines=[ReductionLine(item_id=item.pk, quantity=Decimal(quantity))],
        user=None,
    )
    return order_activate(order=reduction, user=None) if activate else reduction


def test_r7_units_being_returned_cannot_be_reduced(admin_user):
    """R7 with T2: 3 of 4 on an RMA leave 1 to reduce; a reduction of 2 is refused."""
    order = tv_order()
    item = order.items.get()
    rma_for(item, 3)
    with pytest.raises(BusinessRuleRefused) as refused:
        reduce(item, 2)
    assert refused.value.rule == "R7"
    reduce(item, 1)


def test_r7_canceled_units_cannot_be_reduced_at_activation(admin_user):
    """R7 with T13: a simple cancel of 1 after a Draft reduction of all 4 is refused (the
    draft claims them); a cancel saved before that check (1 canceled) makes the draft's
    activation refused (only 3 can still be reduced)."""
    order = tv_order(fulfil=False, bill=False)
    item = order.items.get()
    draft = reduce(item, 4, activate=False)
    with pytest.raises(BusinessRuleRefused) as refused:
        simple_cancel_submit(
            order=order,
            lines=[SimpleLineInput(order_item=item, quantity=Decimal(1), reason="OTHER")],
            user=None,
        )
    assert refused.value.rule == "T13" and draft.number in refused.value.message
    OrderItem.objects.filter(pk=item.pk).update(canceled_quantity=Decimal(1))
    with pytest.raises(BusinessRuleRefused) as refused:
        order_activate(order=draft, user=None)
    assert refused.value.rule == "R7"
    assert "only 3 of 4" in refused.value.message


def test_t2_reduced_units_of_a_fulfilled_order_are_not_returnable(admin_user):
    """T2 with R7: 4 fulfilled, 2 reduced afterwards: only 2 are still available to return."""
    order = tv_order()
    item = order.items.get()
    reduce(item, 2)
    item = OrderItem.objects.get(pk=item.pk)
    assert item.available_to_return == 2
    with pytest.raises(BusinessRuleRefused) as refused:
        rma_for(item, 3)
    assert refused.value.rule == "T2"


def test_o6_t13_order_list_counts_canceled_units_as_not_due(admin_client):
    """O6 with T13: 3 of 4 fulfilled, the last one canceled: the order is Fulfilled and
    the order list shows 100 % fulfilled."""
    from django.urls import reverse

    from orders.services import order_items_fulfil

    order = tv_order(fulfil=False)
    item = order.items.get()
    order_items_fulfil(order=order, quantities={item.pk: Decimal(3)}, user=None)
    simple_cancel_submit(
        order=order,
        lines=[SimpleLineInput(order_item=item, quantity=Decimal(1), reason="OTHER")],
        user=None,
    )
    order.refresh_from_db()
    assert order.status == "FULFILLED"
    response = admin_client.get(reverse("admin:orders_order_changelist"))
    assert 'title="3 of 3 units"' in response.content.decode()
