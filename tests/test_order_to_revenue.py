"""End to end: an order's life reaches the revenue sub-ledger only as inbound lines
(O9, R9, B5, B6, C5; interchange.md emission table), and, once collected, a balanced
journal."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from djmoney.money import Money

from orders.models import (
    BillingType,
    ChargeType,
    CreditMemo,
    Invoice,
    InvoiceStatus,
    Order,
    OrderStatus,
)
from orders.services import order_activate
from orders.services.billing import billing_run_execute
from orders.services.cancellations import cancellation_create
from orders.services.reductions import ReductionLine, reduction_order_create
from revenue.models import InboundLine, JournalEntry, SoLine
from revenue.selectors import journal_nets
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory, UserFactory

D = Decimal


def cmd(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def ops(db):
    return UserFactory(username="ops", is_staff=True, is_superuser=True)


def subscription_order(*, user, qty="10", unit="120.00"):
    """10 licences × 120.00 for 2026, billed monthly in advance: 100.00 a month each."""
    product = ProductFactory(
        sku="LIC-E2E",
        charge_type=ChargeType.RECURRING,
        default_billing_frequency="MONTHLY",
        default_billing_type=BillingType.ADVANCE,
        default_revenue_method="RATABLE_MONTHLY",
    )
    order = OrderFactory(effective_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31))
    OrderItemFactory(
        order=order,
        product=product,
        quantity=D(qty),
        unit_price=Money(unit, "USD"),
        service_start_date=dt.date(2026, 1, 1),
        service_end_date=dt.date(2026, 12, 31),
    )
    return order_activate(order=order, user=user)


def staged(tran_type: str) -> list[InboundLine]:
    return list(InboundLine.objects.filter(tran_type=tran_type).order_by("pk"))


def assert_balanced():
    per_period: dict[int, Decimal] = defaultdict(Decimal)
    for (period, _account), net in journal_nets().items():
        per_period[period] += net
    assert per_period and all(net == 0 for net in per_period.values()), per_period


def test_order_reduction_billing_credit_memo_reach_revenue_and_balance(ops):
    """O9 → B5 → R9/B6: SO, INV, RORD and CM-RO staged in the business transactions;
    collection books SO and INV lines and the journal balances in every period (S3)."""
    cmd("revenue_period", "open", "202601")
    order = subscription_order(user=ops)
    item = order.items.get()

    (so,) = staged("SO")
    assert (so.so_line_id, so.ext_sll_prc, so.ord_qty) == (f"{order.number}-1", D("1200"), 10)
    assert so.rev_method == "RATABLE_MONTHLY" and so.start_date == dt.date(2026, 1, 1)
    assert order.revenue_batch_id == so.batch_id

    run = billing_run_execute(run_date=dt.date(2026, 3, 1), trigger="COMMAND", user=ops)
    assert (run.invoices_created, run.lines_created) == (1, 3)  # Jan, Feb, Mar in advance
    invoice = Invoice.objects.get(order=order)
    assert invoice.status == InvoiceStatus.POSTED
    assert invoice.net_total == Money("300.00", "USD")
    inv = staged("INV")
    assert [line.ext_sll_prc for line in inv] == [D("100.00")] * 3
    assert {line.so_line_id for line in inv} == {so.so_line_id}

    reduction = reduction_order_create(
        original=order,
        lines=[
            ReductionLine(
                item_id=item.pk,
                quantity=D(4),
                start_date=dt.date(2026, 3, 1),
                end_date=dt.date(2026, 12, 31),
            )
        ],
        user=ops,
    )
    reduction = order_activate(order=reduction, user=ops)
    assert reduction.status == OrderStatus.ACTIVATED
    (rord,) = staged("RORD")
    assert rord.orig_so_line_id == so.so_line_id and rord.ord_qty == 4
    assert rord.ext_sll_prc == reduction.items.get().total.amount < 0
    memo = CreditMemo.objects.get(source_order=reduction)
    assert memo.net_total == Money("40.00", "USD")  # March: 4 of 10 licences × 100.00
    (cm_ro,) = staged("CM-RO")
    assert cm_ro.ext_sll_prc == D("-40.00") and cm_ro.inv_num == memo.number

    out = cmd("revenue_collect")
    assert "collected 6, stopped 0, waiting 0" in out, out  # SO, 3 INV, RORD, CM-RO
    line = SoLine.objects.get(so_line_id=so.so_line_id)
    assert line.ext_sll_prc.amount == D("1200")
    assert line.net_sll_prc == D("1200") + rord.ext_sll_prc  # P3: the RORD reduced it
    assert line.return_flag == "N"
    assert cm_ro.so_line_id == reduction.items.get().so_line_id  # names its RORD (P8)
    assert JournalEntry.objects.filter(line__so_line_id=so.so_line_id).exists()
    assert_balanced()
    assert {line.status for line in staged("RORD") + staged("CM-RO")} == {"COLLECTED"}


def test_cancellation_stages_rord_for_the_remaining_term_and_cm_ro_for_its_credit(ops):
    """C5: the cancellation's RORD covers terminated + 1 … end for the full quantity; its
    credit memo (C4) goes out as CM-RO."""
    order = subscription_order(user=ops, qty="1", unit="1200.00")
    billing_run_execute(run_date=dt.date(2026, 4, 1), trigger="COMMAND", user=ops)
    cancellation = cancellation_create(
        original_item=order.items.get(), terminated_date=dt.date(2026, 3, 15), user=ops
    )
    (rord,) = staged("RORD")
    assert (rord.start_date, rord.end_date) == (dt.date(2026, 3, 16), dt.date(2026, 12, 31))
    assert rord.ord_qty == 1 and rord.ext_sll_prc == cancellation.items.get().total.amount
    memo = CreditMemo.objects.get(source_order=cancellation)
    assert memo.net_total == Money("151.61", "USD")  # 16/31 × 100.00 + April
    assert sum(line.ext_sll_prc for line in staged("CM-RO")) == D("-151.61")


def test_deactivating_an_order_withdraws_its_staged_lines_until_revenue_collects(ops):
    """O5, O9: back to Draft takes the SO lines back; once collected, it is refused."""
    order = subscription_order(user=ops)
    cmd_order = Order.objects.get(pk=order.pk)
    from orders.services import order_deactivate

    order_deactivate(order=cmd_order, user=ops, comment="wrong price")
    withdrawn = [(x.status, x.withdrawn_reason) for x in staged("SO")]  # I4: kept
    assert withdrawn == [("WITHDRAWN", f"{order} deactivated")]
    order = order_activate(order=Order.objects.get(pk=order.pk), user=ops)
    assert [x.status for x in staged("SO")] == ["WITHDRAWN", "NEW"]
    cmd("revenue_period", "open", "202601")
    cmd("revenue_collect")
    assert [x.status for x in staged("SO")] == ["WITHDRAWN", "COLLECTED"]
    from core.exceptions import BusinessRuleRefused

    with pytest.raises(BusinessRuleRefused) as refusal:
        order_deactivate(order=Order.objects.get(pk=order.pk), user=ops, comment="again")
    assert refusal.value.rule == "O5" and "revenue has already collected 1" in str(refusal.value)
    assert [x.status for x in staged("SO")] == ["WITHDRAWN", "COLLECTED"]
