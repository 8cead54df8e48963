"""Issue 18, defect 1: R7 with T12, T13. A draft reduction and a simple cancel or return
never claim more than was sold, and no page or refusal shows a negative availability."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.exceptions import BusinessRuleRefused
from orders.models import OrderItem
from orders.selectors import order_net_quantities
from orders.services import order_activate
from orders.services.reductions import ReductionLine, reduction_order_create
from returns.services import SimpleLineInput, simple_cancel_submit, simple_return_submit
from tests.returns.conftest import rma_for, tv_order

pytestmark = pytest.mark.django_db
D = Decimal


def reduce(item, quantity):
    return reduction_order_create(
        original=item.order,
        lines=[ReductionLine(item_id=item.pk, quantity=D(quantity))],
        user=None,
    )


def simple(item, quantity):
    return [SimpleLineInput(order_item=item, quantity=D(quantity), reason="OTHER")]


def refresh(item) -> OrderItem:
    return OrderItem.objects.get(pk=item.pk)


def messages_of(refused: pytest.ExceptionInfo) -> str:
    return str(refused.value)


def test_t13_simple_cancel_cannot_take_units_a_draft_reduction_claims(admin_user):
    """T13 with R7: 100 sold, a draft reduction of 60: a simple cancel of 45 would make
    105 > 100 and is refused, naming the reduction; a cancel of 40 is fine."""
    order = tv_order(quantity="100", fulfil=False, bill=False)
    item = order.items.get()
    draft = reduce(item, 60)
    with pytest.raises(BusinessRuleRefused) as refused:
        simple_cancel_submit(order=order, lines=simple(item, 45), user=None)
    assert refused.value.rule == "T13"
    text = messages_of(refused)
    assert draft.number in text
    assert "only 40" in text
    assert refresh(item).canceled_quantity == 0
    simple_cancel_submit(order=order, lines=simple(item, 40), user=None)
    assert refresh(item).canceled_quantity == 40
    order_activate(order=draft, user=None)  # 60 + 40 = 100: the draft still fits


def test_t12_simple_return_cannot_take_units_a_draft_reduction_claims(admin_user):
    """T12 with R7: 100 sold and fulfilled, a draft reduction of 60: a simple return of 45
    is refused (45 + 60 > 100)."""
    order = tv_order(quantity="100")
    item = order.items.get()
    draft = reduce(item, 60)
    with pytest.raises(BusinessRuleRefused) as refused:
        simple_return_submit(order=order, lines=simple(item, 45), user=None)
    assert refused.value.rule == "T12"
    assert draft.number in messages_of(refused)
    assert "only 40" in messages_of(refused)
    simple_return_submit(order=order, lines=simple(item, 40), user=None)


def test_r7_refusal_never_shows_a_negative_availability(admin_user):
    """R7: 100 sold and fulfilled, a draft reduction of 60, then an RMA of 45 (T2 counts
    fulfilled units only): 105 are claimed. Reducing 1 more is refused in words with no
    negative figure, and the R12 rows show nothing below 0."""
    order = tv_order(quantity="100")
    item = order.items.get()
    reduce(item, 60)
    rma_for(item, 45)
    with pytest.raises(BusinessRuleRefused) as refused:
        reduce(refresh(item), 1)
    assert refused.value.rule == "R7"
    text = messages_of(refused)
    assert "-5" not in text and "−5" not in text
    assert "only 0 of 100 can still be reduced" in text
    for row in order_net_quantities(order=order):
        assert min(row.sold, row.reduced, row.pending, row.net, row.available) >= 0


def test_r7_legacy_overclaim_shows_zero_not_a_negative_figure(admin_user):
    """R7: data saved before the T13 check (draft 60 and 45 canceled of 100): the next
    reduction and the draft's activation are refused without a negative figure."""
    order = tv_order(quantity="100", fulfil=False, bill=False)
    item = order.items.get()
    draft = reduce(item, 60)
    OrderItem.objects.filter(pk=item.pk).update(canceled_quantity=D(45))
    with pytest.raises(BusinessRuleRefused) as refused:
        reduce(refresh(item), 1)
    assert "-5" not in messages_of(refused)
    assert "only 0 of 100 can still be reduced" in messages_of(refused)
    with pytest.raises(BusinessRuleRefused) as refused:
        order_activate(order=draft, user=None)
    assert refused.value.rule == "R7"
    assert "only 55 of 100 can still be reduced" in messages_of(refused)
