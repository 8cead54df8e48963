"""End to end (T14 with P5): an RMA from creation to refund reaches the revenue
sub-ledger only as inbound lines; once collected, the returned product's SO line is
reduced by its CM-R, the fee is an SO line recognized at once, and the journal balances
in every period and currency."""

from __future__ import annotations

import io
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from djmoney.money import Money

from returns.models import Refund, RefundStatus, ReturnStatus
from returns.services import refund_transition, return_line_cancel, return_order_transition
from revenue.models import InboundLine, JournalEntry, SoLine
from revenue.selectors import journal_nets, so_lines_with_amounts
from tests.factories import ProductFactory
from tests.returns.conftest import fee, open_line, process, rma_for, tv_order

pytestmark = pytest.mark.django_db
D = Decimal


def cmd(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def this_period() -> int:
    today = timezone.localdate()
    return today.year * 100 + today.month


def previous_period(period: int) -> int:
    year, month = divmod(period, 100)
    return (year - 1) * 100 + 12 if month == 1 else period - 1


@pytest.fixture
def collected_order(db):
    """TV1's order (effective 2026-01-01, billed, fulfilled) with its SO and INV lines
    collected in 202601, then the ledger moved on to this month's period: what the return
    does is booked in the open period."""
    cmd("revenue_period", "open", "202601")
    order = tv_order()
    assert "collected 2, stopped 0, waiting 0" in cmd("revenue_collect")
    if this_period() > 202601:
        cmd("revenue_period", "close", "--through", str(previous_period(this_period())))
    return order


def assert_balanced():
    """S3: per period the accounts net to zero (journal_nets), and per period and
    currency debits equal credits."""
    per_period: dict[int, Decimal] = defaultdict(Decimal)
    for (period, _account), net in journal_nets().items():
        per_period[period] += net
    assert per_period and all(net == 0 for net in per_period.values()), per_period
    sides: dict[tuple[int, str], list[Decimal]] = defaultdict(lambda: [D(0), D(0)])
    for period, currency, amount in JournalEntry.objects.values_list(
        "period", "amount_currency", "amount"
    ):
        sides[(period, currency)][0] += amount  # debit side
        sides[(period, currency)][1] += amount  # credit side of the same pair
    assert all(dr == cr > 0 for dr, cr in sides.values()), sides
    assert {currency for _period, currency in sides} == {"USD"}


def percentage_fee():
    """TV1's fee: PERCENTAGE 10 on a restocking fee product."""
    return fee(ProductFactory(name="Restocking fee", is_fee=True), 10, "PERCENTAGE")


def test_t14_p5_rma_to_refund_to_revenue(collected_order):
    """T14, P5 (TV1): 2 of 4 returned with a 5.40 fee: the CM-R takes 50.00 off the SO
    line's net sell price (returned qty 2, return flag N); the fee's SO line (5.00 net)
    and INV are collected and recognized at once; the refund of 48.60 is paid; the RMA is
    closed once its split line is canceled; the journal balances."""
    item = collected_order.items.get()
    rma = rma_for(item, 3, fees=[percentage_fee()])
    processing = process(rma, open_line(rma), 2)
    refund = Refund.objects.get(processing=processing)
    assert refund.amount == Money("48.60", "USD")
    refund_transition(refund=refund, name="succeed", user=None, gateway_reference="GW-42")
    return_line_cancel(line=open_line(rma), user=None)
    rma = return_order_transition(return_order=rma, name="close", user=None)
    assert rma.status == ReturnStatus.CLOSED
    assert Refund.objects.get(pk=refund.pk).status == RefundStatus.SUCCEEDED

    assert "collected 3, stopped 0, waiting 0" in cmd("revenue_collect")  # CM-R, SO, INV
    assert set(InboundLine.objects.values_list("status", flat=True)) == {"COLLECTED"}

    line = SoLine.objects.get(so_line_id=item.so_line_id)
    assert line.ext_sll_prc.amount == D("100.00")
    assert line.net_sll_prc == D("50.00")  # P5: 100.00 − the CM-R's 50.00
    assert line.cmr_sll_prc == D("-50.00") and line.returned_qty == 2
    assert line.return_flag == "N"

    fee_line_id = processing.fee_change_order.items.get().so_line_id
    fee_so = so_lines_with_amounts(SoLine.objects.filter(so_line_id=fee_line_id)).get()
    assert fee_so.rev_method == "IMMEDIATE" and fee_so.ext_sll_prc.amount == D("5.00")
    assert fee_so.recognized_amount == D("5.00") and fee_so.deferred_amount == 0
    assert fee_so.so_num == processing.fee_change_order.number
    assert JournalEntry.objects.filter(line__so_line_id=fee_line_id).exists()
    assert JournalEntry.objects.filter(line=line, period=this_period()).exists()
    assert_balanced()


def test_p5_full_return_of_all_units_sets_the_return_flag(collected_order):
    """P5: all 4 units come back (2, then the other 2 on the split line): returned qty 4,
    return flag Y, the SO line's net sell price 0.00; the journal still balances."""
    item = collected_order.items.get()
    rma = rma_for(item, 4)
    first = process(rma, open_line(rma), 2)
    second = process(rma, open_line(rma), 2)
    assert first.credit_memo.gross_total + second.credit_memo.gross_total == Money("108.00", "USD")
    cmd("revenue_collect")
    line = SoLine.objects.get(so_line_id=item.so_line_id)
    assert line.returned_qty == 4 and line.return_flag == "Y"
    assert line.net_sll_prc == D("0.00")
    assert_balanced()
