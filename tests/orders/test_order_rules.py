"""O1-O8: the order lifecycle rules, through the services."""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from djmoney.money import Money
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.exceptions import BusinessRuleRefused
from core.models import AuditEvent
from orders.models import Order, OrderItem, OrderKind, OrderStatus, PriceBookEntry
from orders.services import (
    order_activate,
    order_deactivate,
    order_delete,
    order_fulfil,
    order_item_delete,
    order_item_save,
    order_items_fulfil,
    order_save,
)
from tests.factories import (
    AccountFactory,
    OrderFactory,
    OrderItemFactory,
    PriceBookEntryFactory,
    PriceBookFactory,
    ProductFactory,
    UserFactory,
    make_order,
)

pytestmark = pytest.mark.django_db


def refused(excinfo, rule):
    assert excinfo.value.rule == rule, str(excinfo.value)
    return str(excinfo.value)


def events(order):
    return list(
        AuditEvent.objects.filter(
            content_type=ContentType.objects.get_for_model(Order), object_id=str(order.pk)
        ).order_by("at", "id")
    )


def test_o1_order_is_created_in_draft_with_a_number():
    first, second = OrderFactory(), OrderFactory()
    assert first.status == OrderStatus.DRAFT
    assert first.number.startswith("ORD-") and len(first.number) == 10
    assert int(second.number[4:]) == int(first.number[4:]) + 1
    assert [e.action for e in events(first)] == ["created"]


def test_o1_status_only_changes_through_transitions():
    order = OrderFactory()
    with pytest.raises(AttributeError, match="Direct status modification is not allowed"):
        order.status = OrderStatus.ACTIVATED


def test_o1_transition_from_wrong_state_is_refused():
    order = make_order()
    with pytest.raises(BusinessRuleRefused) as exc:
        order_fulfil(order=order, user=None)
    assert "fulfil is not allowed: " in refused(exc, "O1")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DRAFT


def test_o1_transition_needs_its_permission():
    order = make_order()
    clerk = UserFactory(is_staff=True)
    with pytest.raises(BusinessRuleRefused) as exc:
        order_activate(order=order, user=clerk)
    assert "permission to activate" in refused(exc, "O1")


def test_o2_activate_needs_at_least_one_product():
    order = OrderFactory()
    with pytest.raises(BusinessRuleRefused) as exc:
        order_activate(order=order, user=None)
    assert "at least one order product" in refused(exc, "O2")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DRAFT


def test_o2_activate_needs_a_price_book():
    order = make_order()
    Order.objects.filter(pk=order.pk).update(price_book=None)
    with pytest.raises(BusinessRuleRefused) as exc:
        order_activate(order=order, user=None)
    assert "price book" in refused(exc, "O2")


def test_o2_activate_needs_every_product_priced():
    order = make_order(lines=[("1", "5.00"), ("2", "7.00")])
    second = order.items.get(line_number=2)
    OrderItem.objects.filter(pk=second.pk).update(price_book_entry=None)
    PriceBookEntry.objects.filter(product=second.product).delete()
    with pytest.raises(BusinessRuleRefused) as exc:
        order_activate(order=order, user=None)
    message = refused(exc, "O2")
    assert "line 2" in message and "has no active USD price" in message


def test_o2_activate_changes_only_status_and_activation_stamps():
    user = UserFactory(is_superuser=True)
    order = make_order(lines=[("3", "10.00"), ("2", "4.50")])
    items_before = list(OrderItem.objects.filter(order=order).order_by("pk").values())
    header_before = Order.objects.filter(pk=order.pk).values().get()
    activated = order_activate(order=order, user=user, comment="signed")
    header_after = Order.objects.filter(pk=order.pk).values().get()
    changed = {k for k in header_after if header_after[k] != header_before[k]}
    # O9: the link to the SO lines staged in revenue is the one other change
    assert changed == {
        "status",
        "activated_at",
        "activated_by_id",
        "updated_at",
        "revenue_batch_id",
    }
    assert activated.activated_by == user and activated.activated_at is not None
    items_after = list(OrderItem.objects.filter(order=order).order_by("pk").values())
    # B1: the one product change is when its first period falls due for billing
    assert [i.pop("next_bill_date") for i in items_before] == [None, None]
    assert all(i.pop("next_bill_date") for i in items_after)
    assert items_after == items_before


def test_o2_product_without_price_book_entry_is_refused_naming_the_field():
    order = OrderFactory()
    product = ProductFactory()  # not in the order's price book
    with pytest.raises(BusinessRuleRefused) as exc:
        order_item_save(item=OrderItem(order=order, product=product, quantity=1), user=None)
    assert exc.value.field == "price_book_entry"
    assert "has no active USD price" in refused(exc, "O2")
    assert not OrderItem.objects.exists()


def test_o2_price_in_another_currency_is_refused():
    order = OrderFactory()
    entry = PriceBookEntryFactory(price_book=order.price_book)
    item = OrderItem(order=order, product=entry.product, quantity=1, unit_price=Money(5, "EUR"))
    with pytest.raises(BusinessRuleRefused) as exc:
        order_item_save(item=item, user=None)
    assert exc.value.field == "unit_price"
    assert "unit price is in EUR but the order is in USD" in refused(exc, "O2")
    assert not OrderItem.objects.exists()


def test_o2_entry_from_another_price_book_is_refused():
    order = OrderFactory()
    foreign = PriceBookEntryFactory(price_book=PriceBookFactory())
    item = OrderItem(order=order, product=foreign.product, quantity=1, price_book_entry=foreign)
    with pytest.raises(BusinessRuleRefused) as exc:
        order_item_save(item=item, user=None)
    assert "not the order's" in str(exc.value)


def test_o2_recurring_product_needs_service_end_date():
    order = OrderFactory(end_date=None)
    product = ProductFactory(recurring=True)
    PriceBookEntryFactory(price_book=order.price_book, product=product)
    with pytest.raises(BusinessRuleRefused) as exc:
        order_item_save(item=OrderItem(order=order, product=product, quantity=1), user=None)
    assert exc.value.field == "service_end_date"


def test_o2_recurring_product_takes_order_dates_and_product_defaults():
    order = OrderFactory(effective_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31))
    product = ProductFactory(recurring=True)
    item = OrderItemFactory(order=order, product=product, quantity=Decimal("100"))
    assert (item.service_start_date, item.service_end_date) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 12, 31),
    )
    assert item.billing_frequency == "MONTHLY" and item.revenue_method == "RATABLE_DAILY"
    assert item.so_line_id == f"{order.number}-1"


def test_o3_only_draft_orders_can_be_deleted():
    draft = make_order()
    active = make_order(activate=True)
    order_delete(order=draft, user=None)
    assert not Order.objects.filter(pk=draft.pk).exists()
    with pytest.raises(BusinessRuleRefused) as exc:
        order_delete(order=active, user=None)
    assert "only Draft orders can be deleted" in refused(exc, "O3")
    assert Order.objects.filter(pk=active.pk).exists()


@pytest.mark.parametrize("field", ["account", "price_book", "currency"])
def test_o3_account_price_book_and_currency_are_fixed_once_activated(field):
    order = make_order(activate=True)
    new_value = {
        "account": AccountFactory(),
        "price_book": PriceBookFactory(),
        "currency": "EUR",
    }[field]
    setattr(order, field, new_value)
    with pytest.raises(BusinessRuleRefused) as exc:
        order_save(order=order, user=None)
    assert exc.value.field == field
    assert "cannot change once the order has been activated" in refused(exc, "O3")


def test_o3_reference_can_still_change_after_activation():
    order = make_order(activate=True)
    order.reference = "PO-991"
    order_save(order=order, user=None)
    assert Order.objects.get(pk=order.pk).reference == "PO-991"
    assert events(order)[-1].data == {"reference": "PO-991"}


def test_o4_products_locked_after_activation():
    order = make_order(activate=True)
    item = order.items.get()
    item.quantity = Decimal("99")
    with pytest.raises(BusinessRuleRefused) as exc:
        order_item_save(item=item, user=None)
    refused(exc, "O4")
    with pytest.raises(BusinessRuleRefused) as exc:
        order_item_delete(item=item, user=None)
    refused(exc, "O4")
    entry = PriceBookEntryFactory(price_book=order.price_book)
    with pytest.raises(BusinessRuleRefused) as exc:
        order_item_save(item=OrderItem(order=order, product=entry.product, quantity=1), user=None)
    refused(exc, "O4")
    assert OrderItem.objects.get(pk=item.pk).quantity == Decimal("3")


def test_o4_products_can_change_while_draft_and_totals_follow():
    order = make_order(lines=[("3", "10.00")])
    item = order.items.get()
    item.quantity = Decimal("5")
    order_item_save(item=item, user=None)
    order.refresh_from_db()
    assert order.net_total == Money("50.00", "USD")
    order_item_delete(item=item, user=None)
    order.refresh_from_db()
    assert order.net_total == Money("0.00", "USD") and not order.items.exists()


def test_o5_deactivate_refused_when_order_has_a_reduction_order():
    order = make_order(activate=True)
    reduction = order_save(
        order=Order(
            kind=OrderKind.REDUCTION,
            original_order=order,
            account=order.account,
            price_book=order.price_book,
            currency=order.currency,
        ),
        user=None,
    )
    with pytest.raises(BusinessRuleRefused) as exc:
        order_deactivate(order=order, user=None, comment="customer asked")
    message = refused(exc, "O5")
    assert f"reduction order(s) {reduction.number}" in message
    assert reduction.number.startswith("RO-")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.ACTIVATED


def test_o5_deactivate_returns_a_plain_activated_order_to_draft():
    order = make_order(activate=True)
    order_deactivate(order=order, user=None, comment="wrong price book")
    order.refresh_from_db()
    assert order.status == OrderStatus.DRAFT
    assert order.activated_at is None and order.activated_by is None
    last = events(order)[-1]
    assert (last.action, last.from_state, last.to_state, last.comment) == (
        "deactivate",
        "ACTIVATED",
        "DRAFT",
        "wrong price book",
    )


def test_o6_fulfil_sets_fulfilled_to_quantity_minus_reduced():
    order = make_order(lines=[("30", "10.00"), ("4", "1.00")], activate=True)
    first = order.items.get(line_number=1)
    OrderItem.objects.filter(pk=first.pk).update(available_quantity=Decimal("20"))  # 10 reduced
    order_fulfil(order=order, user=None)
    fulfilled = dict(order.items.values_list("line_number", "fulfilled_quantity"))
    assert fulfilled == {1: Decimal("20"), 2: Decimal("4")}
    assert Order.objects.get(pk=order.pk).status == OrderStatus.FULFILLED


def test_o6_partial_fulfilment_then_fulfilled_when_complete():
    order = make_order(lines=[("10", "5.00"), ("2", "1.00")], activate=True)
    first, second = order.items.order_by("line_number")
    order_items_fulfil(order=order, quantities={first.pk: Decimal("4")}, user=None)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.ACTIVATED
    with pytest.raises(BusinessRuleRefused) as exc:
        order_items_fulfil(order=order, quantities={first.pk: Decimal("7")}, user=None)
    assert "6.00 of 10.00 are still open" in refused(exc, "O6")
    order_items_fulfil(
        order=order, quantities={first.pk: Decimal("6"), second.pk: Decimal("2")}, user=None
    )
    order.refresh_from_db()
    assert order.status == OrderStatus.FULFILLED
    assert [e.action for e in events(order)][-3:] == [
        "fulfilled in part",
        "fulfilled in part",
        "fulfil",
    ]


@pytest.mark.parametrize("quantity", [Decimal("0"), Decimal("-2")])
def test_o7_quantity_must_be_positive_on_standard_orders(quantity):
    order = OrderFactory()
    entry = PriceBookEntryFactory(price_book=order.price_book)
    item = OrderItem(order=order, product=entry.product, quantity=quantity)
    with pytest.raises(BusinessRuleRefused) as exc:
        order_item_save(item=item, user=None)
    assert exc.value.field == "quantity"
    assert "quantity must be greater than 0" in refused(exc, "O7")
    assert not OrderItem.objects.exists()


def test_o7_unit_price_must_not_be_negative():
    order = OrderFactory()
    entry = PriceBookEntryFactory(price_book=order.price_book)
    item = OrderItem(order=order, product=entry.product, quantity=1, unit_price=Money(-1, "USD"))
    with pytest.raises(BusinessRuleRefused) as exc:
        order_item_save(item=item, user=None)
    assert exc.value.field == "unit_price"
    refused(exc, "O7")


def test_o7_zero_unit_price_is_allowed():
    item = OrderItemFactory(unit_price=Money("0.00", "USD"), quantity=Decimal("2"))
    assert item.total == Money("0.00", "USD")


def test_o8_every_transition_writes_an_audit_event():
    user = UserFactory(is_superuser=True, username="dana")
    order = make_order()
    order_activate(order=order, user=user, comment="signed contract")
    order_deactivate(order=order, user=user, comment="typo in dates")
    order_activate(order=order, user=user)
    order_fulfil(order=order, user=user)
    transitions = [
        (e.action, e.from_state, e.to_state, e.actor_label, e.comment)
        for e in events(order)
        if e.to_state and e.from_state
    ]
    assert transitions == [
        ("activate", "DRAFT", "ACTIVATED", "dana", "signed contract"),
        ("deactivate", "ACTIVATED", "DRAFT", "dana", "typo in dates"),
        ("activate", "DRAFT", "ACTIVATED", "dana", ""),
        ("fulfil", "ACTIVATED", "FULFILLED", "dana", ""),
    ]
    assert all(e.actor == user for e in events(order)[-4:])


def test_totals_net_tax_gross_are_derived_and_rounded_per_product():
    order = OrderFactory()
    entry = PriceBookEntryFactory(price_book=order.price_book, list_price=Money("19.99", "USD"))
    order_item_save(
        item=OrderItem(order=order, product=entry.product, quantity=3, tax_rate=Decimal("8.25")),
        user=None,
    )
    item = order.items.get()
    assert item.unit_price == Money("19.99", "USD") and item.list_price == Money("19.99", "USD")
    assert item.total == Money("59.97", "USD")
    assert item.tax_amount == Money("4.95", "USD")  # 4.947525 -> 4.95
    order.refresh_from_db()
    assert (order.net_total, order.tax_total, order.gross_total) == (
        Money("59.97", "USD"),
        Money("4.95", "USD"),
        Money("64.92", "USD"),
    )


def test_bad_tax_rate_is_refused_naming_the_field():
    order = OrderFactory()
    entry = PriceBookEntryFactory(price_book=order.price_book)
    item = OrderItem(order=order, product=entry.product, quantity=1, tax_rate=Decimal("150"))
    with pytest.raises(BusinessRuleRefused) as exc:
        order_item_save(item=item, user=None)
    assert exc.value.field == "tax_rate"


def test_changing_currency_of_a_priced_draft_is_refused():
    order = make_order()
    order.currency = "EUR"
    with pytest.raises(BusinessRuleRefused) as exc:
        order_save(order=order, user=None)
    assert exc.value.field == "currency"
    assert Order.objects.get(pk=order.pk).currency == "USD"


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(
        st.tuples(
            st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999"), places=2),
            st.decimals(min_value=Decimal("0"), max_value=Decimal("9999.99"), places=2),
            st.decimals(min_value=Decimal("0"), max_value=Decimal("30"), places=4),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_totals_always_equal_the_sum_of_rounded_products(lines):
    """Totals: net = Σ round(qty × price), tax = Σ round(net_i × rate), gross = net + tax."""
    order = OrderFactory()
    for qty, price, rate in lines:
        OrderItemFactory(order=order, quantity=qty, unit_price=Money(price, "USD"), tax_rate=rate)
    order.refresh_from_db()
    cent = Decimal("0.01")
    nets = [(q * p).quantize(cent, rounding=ROUND_HALF_UP) for q, p, _ in lines]
    taxes = [
        (n * r / 100).quantize(cent, rounding=ROUND_HALF_UP)
        for n, (_, _, r) in zip(nets, lines, strict=True)
    ]
    assert order.net_total.amount == sum(nets)
    assert order.tax_total.amount == sum(taxes)
    assert order.gross_total.amount == sum(nets) + sum(taxes)
