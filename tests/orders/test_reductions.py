"""Reduction orders, R1-R12 (service side) and vectors OV1, OV2 (vectors/orders.md)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from djmoney.money import Money

from core.exceptions import BusinessRuleRefused
from core.models import AuditEvent
from orders.models import (
    CreditMemo,
    CreditMemoStatus,
    Order,
    OrderItem,
    OrderKind,
    OrderStatus,
)
from orders.selectors import order_net_quantities, order_reductions, reduced_quantity
from orders.services import (
    order_activate,
    order_deactivate,
    order_fulfil,
    order_item_save,
    order_transition,
)
from orders.services.reductions import (
    ReductionLine,
    reduction_order_activate,
    reduction_order_create,
    reduction_order_deactivate,
)
from revenue.models import InboundLine
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory, UserFactory, make_order

pytestmark = pytest.mark.django_db
D = Decimal


def refused(excinfo, rule):
    rules = [r.rule for r in getattr(excinfo.value, "refusals", [excinfo.value])]
    assert rule in rules, str(excinfo.value)
    return str(excinfo.value)


@pytest.fixture
def reducer(db):
    """An ops clerk with Create Reduction Orders (R1) but not a superuser."""
    user = UserFactory(is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="orders", codename__in=["create_reduction_order"]
        )
    )
    return user


@pytest.fixture
def ord1():
    """OV1: ORD-1 activated, one one-time product, 30 × 10.00 USD."""
    return make_order(lines=[(30, "10.00")], activate=True)


def item_of(order):
    return order.items.get()


def reduce(order, qty, user=None, **dates):
    item = item_of(order)
    return reduction_order_create(
        original=order,
        lines=[ReductionLine(item_id=item.pk, quantity=D(qty), **dates)],
        user=user,
    )


@pytest.fixture
def ov2():
    """OV2: 100 licences × 1200.00 USD, 2026-01-01…2026-12-31, recurring, ratable daily."""
    order = OrderFactory(effective_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31))
    OrderItemFactory(
        order=order,
        product=ProductFactory(recurring=True),
        quantity=D(100),
        unit_price=Money("1200.00", "USD"),
    )
    return order_activate(order=order, user=None)


# --- OV1 -------------------------------------------------------------------------------


def test_ov1_r5_r7_r8_r10_reductions_never_over_reduce(ord1, reducer):
    """OV1 in full (the race is in test_reduction_concurrency.py)."""
    product = item_of(ord1)
    ro1 = reduce(ord1, 10, user=reducer)
    assert ro1.kind == OrderKind.REDUCTION and ro1.number.startswith("RO-")
    assert ro1.status == OrderStatus.DRAFT
    ro1 = reduction_order_activate(reduction=ro1, user=reducer)
    product.refresh_from_db()
    assert product.available_quantity == 20
    assert ro1.net_total == Money("-100.00", "USD")
    ro1_item = ro1.items.get()
    assert ro1_item.quantity == -10 and ro1_item.total == Money("-100.00", "USD")
    assert ro1_item.available_quantity == 0  # R8

    with pytest.raises(BusinessRuleRefused) as excinfo:
        reduce(ord1, 25, user=reducer)
    assert "only 20 of 30 can still be reduced" in refused(excinfo, "R7")
    assert excinfo.value.field == f"quantity_{product.pk}"

    ro2 = reduction_order_activate(reduction=reduce(ord1, 20, user=reducer), user=reducer)
    product.refresh_from_db()
    assert product.available_quantity == 0
    with pytest.raises(BusinessRuleRefused) as excinfo:
        reduce(ord1, 1)
    assert "only 0 of 30 can still be reduced" in refused(excinfo, "R7")

    # R10: the original cannot be deactivated, its products cannot be edited
    with pytest.raises(BusinessRuleRefused) as excinfo:
        order_deactivate(order=ord1, user=None)
    message = refused(excinfo, "O5")
    assert f"order product {ord1.number}-1 has been reduced by {ro1.number}" in message
    assert ro2.number in message
    product.quantity = D(50)
    with pytest.raises(BusinessRuleRefused) as excinfo:
        order_item_save(item=product, user=None)
    refused(excinfo, "O4")
    assert OrderItem.objects.get(pk=product.pk).quantity == 30


def test_r7_draft_reductions_count_when_a_reduction_is_saved(ord1):
    """R7: the save check counts draft and activated reductions."""
    reduce(ord1, 20)  # still draft
    with pytest.raises(BusinessRuleRefused) as excinfo:
        reduce(ord1, 15)
    assert "only 10 of 30 can still be reduced" in refused(excinfo, "R7")
    assert reduce(ord1, 10).items.get().quantity == -10


def test_r7_activation_rechecks_against_available_quantity(ord1):
    """R7: drafts that together exceed the quantity (made past the save check) cannot both
    be activated; available quantity never goes below 0."""
    first = reduce(ord1, 20)
    second = reduce(ord1, 10)
    OrderItem.objects.filter(order=second).update(quantity=D(-15))
    reduction_order_activate(reduction=first, user=None)
    with pytest.raises(BusinessRuleRefused) as excinfo:
        reduction_order_activate(reduction=second, user=None)
    assert "only 10 of 30 can still be reduced" in refused(excinfo, "R7")
    assert item_of(ord1).available_quantity == 10
    assert Order.objects.get(pk=second.pk).status == OrderStatus.DRAFT


def test_r1_reductions_need_the_create_reduction_order_permission(ord1, ops_user, reducer):
    """R1: create, activate and deactivate are refused without the permission."""
    with pytest.raises(BusinessRuleRefused) as excinfo:
        reduce(ord1, 1, user=ops_user)
    assert "Create Reduction Orders" in refused(excinfo, "R1")
    draft = reduce(ord1, 1, user=reducer)
    with pytest.raises(BusinessRuleRefused) as excinfo:
        reduction_order_activate(reduction=draft, user=ops_user)
    refused(excinfo, "R1")
    active = reduction_order_activate(reduction=draft, user=reducer)
    with pytest.raises(BusinessRuleRefused) as excinfo:
        reduction_order_deactivate(reduction=active, user=ops_user)
    refused(excinfo, "R1")
    boss = UserFactory(is_superuser=True)
    assert reduce(ord1, 1, user=boss).created_by == boss


def test_r2_only_activated_or_fulfilled_standard_orders_can_be_reduced():
    """R2: a draft order is refused; a fulfilled one can be reduced."""
    draft = make_order(lines=[(3, "10.00")])
    with pytest.raises(BusinessRuleRefused) as excinfo:
        reduce(draft, 1)
    assert "only Activated or Fulfilled" in refused(excinfo, "R2")
    fulfilled = order_fulfil(order=make_order(lines=[(3, "10.00")], activate=True), user=None)
    assert reduce(fulfilled, 1).original_order == fulfilled


def test_r8_a_reduction_order_cannot_itself_be_reduced(ord1):
    """R8: reduction items have available quantity 0; a reduction is no original."""
    ro = reduction_order_activate(reduction=reduce(ord1, 5), user=None)
    ro_item = ro.items.get()
    assert ro_item.available_quantity == 0
    with pytest.raises(BusinessRuleRefused) as excinfo:
        reduction_order_create(
            original=ro, lines=[ReductionLine(item_id=ro_item.pk, quantity=D(1))], user=None
        )
    refused(excinfo, "R8")


def test_r3_one_original_per_reduction_and_any_number_of_reductions(ord1):
    """R3: a product of another order is refused; an order can have many reductions."""
    other = make_order(lines=[(5, "1.00")], activate=True)
    with pytest.raises(BusinessRuleRefused) as excinfo:
        reduction_order_create(
            original=ord1,
            lines=[ReductionLine(item_id=item_of(other).pk, quantity=D(1))],
            user=None,
        )
    assert f"is not on {ord1.number}" in refused(excinfo, "R3")
    first, second = reduce(ord1, 1), reduce(ord1, 2)
    assert list(order_reductions(order=ord1)) == [first, second]
    assert {first.original_order_id, second.original_order_id} == {ord1.pk}


def test_r4_r5_reduction_takes_the_originals_header_and_negative_amounts():
    """R4: account, price book, currency of the original; R5: negative quantity and
    total (tax too), pointing at the original product, numbered lines 1..n."""
    order = make_order(lines=[(4, "10.00"), (6, "2.50")], activate=True, currency="EUR")
    a, b = order.items.order_by("line_number")
    OrderItem.objects.filter(pk=b.pk).update(tax_rate=D("20"))
    ro = reduction_order_create(
        original=order,
        lines=[
            ReductionLine(item_id=a.pk, quantity=D(0)),  # skipped
            ReductionLine(item_id=b.pk, quantity=D(3)),
        ],
        user=None,
        effective_date=dt.date(2026, 3, 1),
    )
    assert (ro.account_id, ro.price_book_id, str(ro.currency)) == (
        order.account_id,
        order.price_book_id,
        "EUR",
    )
    item = ro.items.get()
    assert item.line_number == 1 and item.original_order_item_id == b.pk
    assert item.quantity == -3 and item.total == Money("-7.50", "EUR")
    assert item.tax_amount == Money("-1.50", "EUR")
    assert item.price_book_entry_id == b.price_book_entry_id and item.product_id == b.product_id
    ro.refresh_from_db()
    assert ro.gross_total == Money("-9.00", "EUR") and ro.effective_date == dt.date(2026, 3, 1)


def test_r4_a_draft_reduction_keeps_the_originals_header_and_r5_its_items(ord1):
    """R4: account, price book, currency and original cannot change, even in Draft;
    R5: its items come only from the Reduce form (their totals are prorated, R6)."""
    from orders.services import order_save
    from tests.factories import AccountFactory

    ro = reduce(ord1, 5)
    ro.account = AccountFactory()
    with pytest.raises(BusinessRuleRefused) as exc:
        order_save(order=ro, user=None)
    assert exc.value.field == "account" and "cannot change" in refused(exc, "R4")
    ro = Order.objects.get(pk=ro.pk)
    ro.reference = "PO-42"  # what is not inherited can still change
    assert order_save(order=ro, user=None).reference == "PO-42"
    extra = OrderItem(order=ro, product=item_of(ord1).product, quantity=D(-1))
    with pytest.raises(BusinessRuleRefused) as exc:
        order_item_save(item=extra, user=None)
    assert "Reduce form" in refused(exc, "R5")
    assert ro.items.count() == 1


@pytest.mark.parametrize("qty", ["-1", "-0.5"])
def test_r5_quantity_to_reduce_must_be_positive(ord1, qty):
    with pytest.raises(BusinessRuleRefused) as excinfo:
        reduce(ord1, qty)
    assert "positive quantity" in refused(excinfo, "R5")


def test_r5_at_least_one_line_is_needed(ord1):
    with pytest.raises(BusinessRuleRefused) as excinfo:
        reduction_order_create(
            original=ord1, lines=[ReductionLine(item_id=item_of(ord1).pk, quantity=D(0))], user=None
        )
    refused(excinfo, "R5")


# --- OV2, R6 ---------------------------------------------------------------------------


def test_ov2_r6_downgrade_mid_term_amount_and_rord_line(ov2):
    """OV2: −(25 × 1200.00 × 184 / 365) = −15123.29; RORD carries ORD_QTY 25, ESP −15123.29."""
    ro = reduce(ov2, 25, start_date=dt.date(2026, 7, 1), end_date=dt.date(2026, 12, 31))
    item = ro.items.get()
    assert item.total == Money("-15123.29", "USD")
    assert (item.service_start_date, item.service_end_date) == (
        dt.date(2026, 7, 1),
        dt.date(2026, 12, 31),
    )
    assert item.billing_frequency == item_of(ov2).billing_frequency
    ro = reduction_order_activate(reduction=ro, user=None)
    assert ro.revenue_batch_id
    line = InboundLine.objects.get(batch_id=ro.revenue_batch_id)
    assert line.tran_type == "RORD"
    assert line.ord_qty == 25 and line.ext_sll_prc == D("-15123.29")
    assert line.so_line_id == f"{ro.number}-1" and line.orig_so_line_id == f"{ov2.number}-1"
    assert (line.start_date, line.end_date) == (dt.date(2026, 7, 1), dt.date(2026, 12, 31))
    assert item_of(ov2).available_quantity == 75


def test_r6_recurring_reduction_needs_dates_inside_the_service_dates(ov2):
    pk = item_of(ov2).pk
    with pytest.raises(BusinessRuleRefused) as excinfo:
        reduce(ov2, 1)
    fields = {r.field for r in excinfo.value.refusals}
    assert fields == {f"start_date_{pk}", f"end_date_{pk}"}
    refused(excinfo, "R6")
    with pytest.raises(BusinessRuleRefused) as excinfo:
        reduce(ov2, 1, start_date=dt.date(2025, 12, 1), end_date=dt.date(2027, 1, 1))
    assert "outside the product's service dates" in refused(excinfo, "R6")
    assert len(excinfo.value.refusals) == 2
    with pytest.raises(BusinessRuleRefused) as excinfo:
        reduce(ov2, 1, start_date=dt.date(2026, 8, 1), end_date=dt.date(2026, 7, 1))
    assert "before the start date" in refused(excinfo, "R6")


def test_r6_one_time_reduces_in_quantity_only(ord1):
    """R6: one-time products ignore dates; amount −(q × unit price)."""
    ro = reduce(ord1, 3, start_date=dt.date(2026, 5, 1), end_date=dt.date(2026, 5, 2))
    item, original = ro.items.get(), item_of(ord1)
    assert item.total == Money("-30.00", "USD")
    assert item.service_start_date == original.service_start_date


def test_every_problem_is_reported_at_once_and_nothing_is_saved(ov2):
    before = Order.objects.count()
    with pytest.raises(BusinessRuleRefused) as excinfo:
        reduce(ov2, 101, start_date=dt.date(2027, 1, 1), end_date=dt.date(2026, 7, 1))
    assert {r.rule for r in excinfo.value.refusals} == {"R6", "R7"}
    assert Order.objects.count() == before


# --- R9, R11 ---------------------------------------------------------------------------


def test_r9_activation_audits_both_orders_and_stages_one_rord_per_item(ord1, reducer):
    ro = reduction_order_activate(reduction=reduce(ord1, 4, user=reducer), user=reducer)
    assert ro.status == OrderStatus.ACTIVATED and ro.activated_by == reducer
    assert InboundLine.objects.filter(batch_id=ro.revenue_batch_id, tran_type="RORD").count() == 1
    actions = set(
        AuditEvent.objects.filter(object_id=str(ord1.pk)).values_list("action", flat=True)
    )
    assert {"reduction created", "reduction activated"} <= actions
    ro_actions = AuditEvent.objects.filter(object_id=str(ro.pk)).values_list("action", flat=True)
    assert {"created", "activate"} <= set(ro_actions)
    with pytest.raises(BusinessRuleRefused) as excinfo:
        reduction_order_activate(reduction=ro, user=reducer)
    refused(excinfo, "R9")


def test_r9_transitions_dispatch_through_order_transition_and_order_activate(ord1):
    ro = order_activate(order=reduce(ord1, 2), user=None)  # the lead's dispatch (R9)
    assert ro.status == OrderStatus.ACTIVATED
    ro = order_transition(order=ro, name="deactivate", user=None, comment="typo")
    assert ro.status == OrderStatus.DRAFT
    ro = order_transition(order=ro, name="activate", user=None)
    assert ro.status == OrderStatus.ACTIVATED
    with pytest.raises(BusinessRuleRefused):
        order_transition(order=ro, name="fulfil", user=None)


def test_r9_billed_reduction_issues_a_credit_memo_and_r11_voids_it(ord1):
    """R9: the one-time product was invoiced: the reduction credits 5 × 10.00;
    R11: deactivation voids the memo."""
    from orders.services.billing import billing_run_execute

    billing_run_execute(run_date=dt.date(2026, 1, 2), trigger="COMMAND")
    ro = reduction_order_activate(reduction=reduce(ord1, 5), user=None)
    memo = CreditMemo.objects.get(source_order=ro)
    assert memo.status == CreditMemoStatus.ISSUED and memo.order_id == ord1.pk
    assert memo.net_total == Money("50.00", "USD")
    reduction_order_deactivate(reduction=ro, user=None)
    memo.refresh_from_db()
    assert memo.status == CreditMemoStatus.VOID


def test_r11_a_reducer_deactivates_with_its_credit_memo_without_the_void_permission(ord1, reducer):
    """R1, R11: Create Reduction Orders is enough to undo a reduction; its credit memo is
    voided as a consequence, audited under the reducer's name."""
    from orders.services.billing import billing_run_execute

    billing_run_execute(run_date=dt.date(2026, 1, 2), trigger="COMMAND")
    ro = reduction_order_activate(reduction=reduce(ord1, 5), user=reducer)
    memo = CreditMemo.objects.get(source_order=ro)
    assert not reducer.has_perm("orders.void_creditmemo")
    reduction_order_deactivate(reduction=ro, user=reducer, comment="customer changed mind")
    memo.refresh_from_db()
    assert memo.status == CreditMemoStatus.VOID
    void = AuditEvent.objects.get(object_id=str(memo.pk), action="void")
    assert void.actor == reducer
    cm_ro = InboundLine.objects.filter(tran_type="CM-RO")  # I4: withdrawn, kept
    assert [(x.status, x.withdrawn_reason) for x in cm_ro] == [("WITHDRAWN", f"{memo} voided")]


def test_r11_deactivation_restores_available_quantity_and_withdraws_rord_lines(ord1):
    ro = reduction_order_activate(reduction=reduce(ord1, 10), user=None)
    batch = ro.revenue_batch_id
    assert InboundLine.objects.filter(batch_id=batch).exists()
    ro = reduction_order_deactivate(reduction=ro, user=None, comment="entered twice")
    assert ro.status == OrderStatus.DRAFT and ro.revenue_batch_id is None
    assert item_of(ord1).available_quantity == 30
    rord = InboundLine.objects.get(batch_id=batch)  # I4: kept, withdrawn, with the reason
    assert (rord.tran_type, rord.status) == ("RORD", "WITHDRAWN")
    assert rord.withdrawn_reason == f"{ro} deactivated" and rord.withdrawn_at is not None
    event = AuditEvent.objects.filter(object_id=str(ro.pk), action="deactivate").get()
    assert event.comment == "entered twice"


def test_r11_deactivation_refused_once_revenue_collected_a_rord_line(ord1):
    ro = reduction_order_activate(reduction=reduce(ord1, 10), user=None)
    InboundLine.objects.filter(batch_id=ro.revenue_batch_id).update(status="COLLECTED")
    with pytest.raises(BusinessRuleRefused) as excinfo:
        reduction_order_deactivate(reduction=ro, user=None)
    message = refused(excinfo, "R11")
    assert "collected" in message and ro.number in message
    assert Order.objects.get(pk=ro.pk).status == OrderStatus.ACTIVATED
    assert item_of(ord1).available_quantity == 20


# --- R12 selectors ---------------------------------------------------------------------


def test_r12_net_quantities_and_reductions_with_totals(django_assert_num_queries):
    order = make_order(lines=[(30, "10.00"), (5, "1.00")], activate=True)
    a, b = order.items.order_by("line_number")
    reduction_order_activate(reduction=reduce_item(order, a, 10), user=None)
    reduction_order_activate(reduction=reduce_item(order, a, 5), user=None)
    reduce_item(order, a, 3)  # draft
    reduce_item(order, b, 1)  # draft
    with django_assert_num_queries(1):
        rows = order_net_quantities(order=order)
        [(r.sold, r.reduced, r.pending, r.net, r.available) for r in rows]
    assert [(r.sold, r.reduced, r.pending, r.net, r.available) for r in rows] == [
        (30, 15, 3, 15, 15),
        (5, 0, 1, 5, 5),
    ]
    with django_assert_num_queries(1):
        reductions = list(order_reductions(order=order))
    assert [reduced_quantity(r) for r in reductions] == [10, 5, 3, 1]
    assert [r.net_total for r in reductions][0] == Money("-100.00", "USD")
    assert [r.item_count for r in reductions] == [1, 1, 1, 1]
    assert not any(r.is_cancellation for r in reductions)


def reduce_item(order, item, qty):
    return reduction_order_create(
        original=order, lines=[ReductionLine(item_id=item.pk, quantity=D(qty))], user=None
    )
