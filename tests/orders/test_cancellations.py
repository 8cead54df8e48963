"""Standalone cancellations, C1-C6, and vector OV3 (vectors/orders.md)."""

import datetime as dt
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from djmoney.money import Money

from core.exceptions import BusinessRuleRefused
from orders.models import (
    ContractAction,
    CreditMemo,
    CreditMemoStatus,
    InvoiceLine,
    Order,
    OrderItem,
    OrderKind,
    OrderStatus,
)
from orders.selectors import order_reductions
from orders.services import order_activate
from orders.services.billing import billing_run_execute
from orders.services.cancellations import cancellation_create, cancellation_import
from orders.services.reductions import (
    ReductionLine,
    reduction_order_activate,
    reduction_order_create,
    reduction_order_deactivate,
)
from revenue.models import InboundLine
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory, make_order

pytestmark = pytest.mark.django_db
D = Decimal
TERMINATED = dt.date(2025, 3, 15)


def refused(excinfo, rule):
    rules = [r.rule for r in getattr(excinfo.value, "refusals", [excinfo.value])]
    assert rule in rules, str(excinfo.value)
    return str(excinfo.value)


def subscription(quantity=1, frequency="MONTHLY"):
    """OV3: 2025-01-01…2025-12-31, quantity 1, total 1200.00, monthly, in advance."""
    order = OrderFactory(effective_date=dt.date(2025, 1, 1), end_date=dt.date(2025, 12, 31))
    OrderItemFactory(
        order=order,
        product=ProductFactory(recurring=True),
        quantity=D(quantity),
        unit_price=Money(D("1200.00") / quantity, "USD"),
        billing_frequency=frequency,
    )
    order = order_activate(order=order, user=None)
    return order, order.items.get()


@pytest.fixture
def ov3():
    """OV3, invoiced January to April."""
    order, item = subscription()
    billing_run_execute(run_date=dt.date(2025, 4, 1), trigger="COMMAND", orders=[order])
    assert InvoiceLine.objects.filter(order_item=item).count() == 4
    return order, item


# --- OV3 --------------------------------------------------------------------------------


def test_ov3_c1_c2_c4_c5_cancellation_of_a_monthly_subscription(ov3):
    """OV3: cancellation item fields (C1), terminated date on both (C2), credit memo 151.61
    (C4), RORD for the remaining term (C5), nothing billed after it (C3)."""
    order, original = ov3
    cancellation = cancellation_create(
        original_item=original, terminated_date=TERMINATED, user=None
    )
    assert cancellation.kind == OrderKind.REDUCTION and cancellation.status == OrderStatus.ACTIVATED
    assert cancellation.original_order == order
    item = cancellation.items.get()
    assert item.contract_action == ContractAction.CANCEL
    assert item.quantity == -1
    assert item.revised_order_item == original and item.original_order_item == original
    assert item.billing_frequency == original.billing_frequency == "MONTHLY"
    assert item.billing_type == original.billing_type
    assert item.price_book_entry_id == original.price_book_entry_id
    assert item.unit_price == original.unit_price
    original.refresh_from_db()
    assert item.terminated_date == original.terminated_date == TERMINATED
    assert (item.service_start_date, item.service_end_date) == (
        dt.date(2025, 3, 16),
        dt.date(2025, 12, 31),
    )
    # R6 over the remaining term, full quantity: −1200.00 × 291 / 365
    assert item.total == Money("-956.71", "USD")
    assert original.available_quantity == 0

    memo = CreditMemo.objects.get(source_order=cancellation)
    assert memo.status == CreditMemoStatus.ISSUED
    assert memo.net_total == Money("151.61", "USD")

    rord = InboundLine.objects.get(batch_id=cancellation.revenue_batch_id)
    assert rord.tran_type == "RORD" and rord.ord_qty == 1
    assert rord.ext_sll_prc == D("-956.71")
    assert (rord.start_date, rord.end_date) == (dt.date(2025, 3, 16), dt.date(2025, 12, 31))
    assert InboundLine.objects.filter(batch_id=memo.revenue_batch_id, tran_type="CM-RO").exists()

    billing_run_execute(run_date=dt.date(2025, 8, 1), trigger="COMMAND", orders=[order])
    assert InvoiceLine.objects.filter(order_item=original).count() == 4  # C3
    assert [r.is_cancellation for r in order_reductions(order=order)] == [True]


def test_ov3_c1_c6_differing_billing_frequency_is_refused_naming_the_field(ov3, tmp_path):
    order, _item = ov3
    path = tmp_path / "cancel.json"
    path.write_text(json.dumps([record(order, billing_frequency="QUARTERLY")]))
    err = StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("orders_import", str(path), stderr=err)
    assert excinfo.value.returncode == 2
    assert (
        "record 1, billing_frequency: billing frequency QUARTERLY differs from the "
        "original's MONTHLY (ORD-000001-1) [C1]" in err.getvalue()
    )
    assert not Order.objects.filter(kind=OrderKind.REDUCTION).exists()


# --- C1, C2, R7 ---------------------------------------------------------------------------


def test_c1_only_recurring_products_can_be_cancelled():
    order = make_order(lines=[(3, "10.00")], activate=True)
    with pytest.raises(BusinessRuleRefused) as excinfo:
        cancellation_create(
            original_item=order.items.get(), terminated_date=dt.date(2026, 3, 1), user=None
        )
    assert "only recurring products" in refused(excinfo, "C1")


def test_c1_cancellation_quantity_is_minus_the_full_quantity():
    _order, item = subscription(quantity=4)
    cancellation = cancellation_create(original_item=item, terminated_date=TERMINATED, user=None)
    assert cancellation.items.get().quantity == -4


@pytest.mark.parametrize(
    "terminated", [dt.date(2024, 12, 31), dt.date(2025, 12, 31), dt.date(2026, 1, 5)]
)
def test_c2_terminated_date_within_the_service_dates_before_the_end(terminated):
    _order, item = subscription()
    with pytest.raises(BusinessRuleRefused) as excinfo:
        cancellation_create(original_item=item, terminated_date=terminated, user=None)
    assert "must lie within" in refused(excinfo, "C2")
    assert excinfo.value.field == "terminated_date"


def test_c2_an_item_cannot_be_cancelled_twice():
    _order, item = subscription()
    cancellation_create(original_item=item, terminated_date=TERMINATED, user=None)
    item.refresh_from_db()
    with pytest.raises(BusinessRuleRefused) as excinfo:
        cancellation_create(original_item=item, terminated_date=dt.date(2025, 6, 1), user=None)
    assert "already terminated" in refused(excinfo, "C2")


def test_r7_c1_earlier_reductions_block_a_cancellation_and_are_named():
    order, item = subscription(quantity=10)
    ro = reduction_order_create(
        original=order,
        lines=[
            ReductionLine(
                item_id=item.pk,
                quantity=D(2),
                start_date=dt.date(2025, 7, 1),
                end_date=dt.date(2025, 12, 31),
            )
        ],
        user=None,
    )
    with pytest.raises(BusinessRuleRefused) as excinfo:
        cancellation_create(original_item=item, terminated_date=TERMINATED, user=None)
    message = refused(excinfo, "R7")
    assert "only 8 of 10 can still be reduced" in message and f"{ro.number} (2)" in message


def test_r7_nothing_more_can_be_reduced_once_cancelled():
    order, item = subscription(quantity=10)
    cancellation_create(original_item=item, terminated_date=TERMINATED, user=None)
    with pytest.raises(BusinessRuleRefused) as excinfo:
        reduction_order_create(
            original=order,
            lines=[
                ReductionLine(
                    item_id=item.pk,
                    quantity=D(1),
                    start_date=dt.date(2025, 7, 1),
                    end_date=dt.date(2025, 12, 31),
                )
            ],
            user=None,
        )
    assert "only 0 of 10" in refused(excinfo, "R7")


def test_c2_draft_cancellation_sets_terminated_date_only_on_activation_r11_clears_it(ov3):
    _order, original = ov3
    draft = cancellation_create(
        original_item=original, terminated_date=TERMINATED, user=None, activate=False
    )
    assert draft.status == OrderStatus.DRAFT
    assert draft.items.get().terminated_date == TERMINATED
    original.refresh_from_db()
    assert original.terminated_date is None and original.available_quantity == 1
    active = reduction_order_activate(reduction=draft, user=None)
    assert OrderItem.objects.get(pk=original.pk).terminated_date == TERMINATED
    memo = CreditMemo.objects.get(source_order=active)
    reduction_order_deactivate(reduction=active, user=None)
    original.refresh_from_db()
    assert original.terminated_date is None and original.available_quantity == 1
    assert CreditMemo.objects.get(pk=memo.pk).status == CreditMemoStatus.VOID
    staged = InboundLine.objects.filter(batch_id=memo.revenue_batch_id)  # I4: kept, withdrawn
    assert staged.exists() and set(staged.values_list("status", flat=True)) == {"WITHDRAWN"}


def test_r2_cancellation_of_a_draft_order_is_refused():
    order = OrderFactory()
    item = OrderItemFactory(order=order, product=ProductFactory(recurring=True))
    with pytest.raises(BusinessRuleRefused) as excinfo:
        cancellation_create(original_item=item, terminated_date=dt.date(2026, 3, 1), user=None)
    refused(excinfo, "R2")


def test_r1_cancellation_needs_the_permission(ops_user):
    _order, item = subscription()
    with pytest.raises(BusinessRuleRefused) as excinfo:
        cancellation_create(original_item=item, terminated_date=TERMINATED, user=ops_user)
    refused(excinfo, "R1")


# --- C6 import ----------------------------------------------------------------------------


def record(order, **overrides):
    item = order.items.get()
    data = {
        "original_order": order.number,
        "line_number": 1,
        "contract_action": "CANCEL",
        "quantity": str(-item.quantity),
        "terminated_date": "2025-03-15",
        "billing_frequency": item.billing_frequency,
        "price_book_entry": item.price_book_entry_id,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_c6_import_creates_activated_cancellations_and_prints_them(tmp_path):
    first, _ = subscription()
    second, item2 = subscription()
    path = tmp_path / "cancel.json"
    path.write_text(
        json.dumps(
            {
                "cancellations": [
                    record(first),
                    record(
                        second,
                        original_order=None,
                        line_number=None,
                        revised_order_item=item2.so_line_id,
                        unit_price="1200.00",
                        activate=False,
                    ),
                ]
            }
        )
    )
    out = StringIO()
    call_command("orders_import", str(path), stdout=out)
    created = list(Order.objects.filter(kind=OrderKind.REDUCTION).order_by("id"))
    assert out.getvalue().strip().splitlines()[-1] == (
        f"imported 2 cancellation(s): {created[0].number}, {created[1].number}"
    )
    assert [c.status for c in created] == [OrderStatus.ACTIVATED, OrderStatus.DRAFT]
    assert created[1].items.get().revised_order_item == item2


def test_c6_import_reports_every_problem_and_creates_nothing():
    order, item = subscription()
    other, _ = subscription()
    records = [
        record(order, contract_action="NEW", quantity="-2"),
        {"line_number": 1, "terminated_date": "15/03/2025"},
        record(other, price_book_entry=999999, unit_price="1.00", terminated_date="2026-01-01"),
        record(order, original_order="ORD-999999"),
        record(order, line_number=7),
        "not a record",
        record(other),
    ]
    with pytest.raises(BusinessRuleRefused) as excinfo:
        cancellation_import(records=records, user=None)
    found = {(r.field, r.rule) for r in excinfo.value.refusals}
    assert {
        ("[1].contract_action", "C1"),
        ("[1].quantity", "C1"),
        ("[2].original_order", "C6"),
        ("[2].contract_action", "C6"),
        ("[2].quantity", "C6"),
        ("[2].terminated_date", "C6"),
        ("[2].billing_frequency", "C6"),
        ("[3].price_book_entry", "C1"),
        ("[3].unit_price", "C1"),
        ("[3].terminated_date", "C2"),
        ("[4].original_order", "C6"),
        ("[5].line_number", "C6"),
        ("[6].record", "C6"),
        ("[7].revised_order_item", "C1"),  # same product as record 3
    } <= found
    assert not Order.objects.filter(kind=OrderKind.REDUCTION).exists()
    assert OrderItem.objects.get(pk=item.pk).terminated_date is None


def test_c6_command_prints_each_problem_on_its_own_line(tmp_path):
    order, _ = subscription()
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([record(order), record(order, quantity="-3", contract_action="X")]))
    err = StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("orders_import", str(path), stderr=err)
    assert excinfo.value.returncode == 2 and "nothing imported" in str(excinfo.value)
    lines = err.getvalue().strip().splitlines()
    assert lines[0].startswith("record 2, ") and len(lines) == 3
    assert any(line.startswith("record 2, quantity: ") and line.endswith(" [C1]") for line in lines)


def test_c6_command_reads_csv(tmp_path):
    order, _ = subscription()
    path = tmp_path / "cancel.csv"
    path.write_text(
        "original_order,line_number,contract_action,quantity,terminated_date,billing_frequency\n"
        f"{order.number},1,CANCEL,-1,2025-03-15,MONTHLY\n"
    )
    out = StringIO()
    call_command("orders_import", str(path), stdout=out)
    assert "imported 1 cancellation(s): RO-" in out.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such file"), ("[{", "cannot be read"), ('{"x": 1}', "cannot be read")],
)
def test_c6_command_unreadable_file_exits_2_with_one_line(tmp_path, content, message):
    path = tmp_path / "in.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(CommandError) as excinfo:
        call_command("orders_import", str(path))
    assert excinfo.value.returncode == 2 and message in str(excinfo.value)
