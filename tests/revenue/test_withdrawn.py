"""I3, I4 (close.md M5): a business document undone before revenue collected its lines
(a deactivated reduction R11, a voided invoice B5 or credit memo B6) leaves its staged
lines ``WITHDRAWN`` with when and why: never deleted, never collected, never counted as
new, stopped or waiting; refused, with nothing changed, once revenue collected one.

Documents are made through the order services, revenue is driven through its commands.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.admin import site
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from djmoney.money import Money

from core.exceptions import BusinessRuleRefused
from core.models import AuditEvent
from orders.models import BillingType, ChargeType, CreditMemo, Invoice, Order, OrderStatus
from orders.services import order_activate
from orders.services.billing import billing_run_execute, invoice_void
from orders.services.reductions import (
    ReductionLine,
    reduction_order_activate,
    reduction_order_create,
    reduction_order_deactivate,
)
from revenue.models import InboundBatch, InboundLine, SoLine
from revenue.services.collection import collection_pending_count
from revenue.services.inbound import inbound_batch_withdraw
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory

D = Decimal
pytestmark = pytest.mark.django_db


def cmd(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def collect() -> str:
    return cmd("revenue_collect").strip()


def statuses(**filters) -> list[tuple[str, str]]:
    lines = InboundLine.objects.filter(**filters).order_by("pk")
    return list(lines.values_list("tran_type", "status"))


def exported() -> dict[int, str]:
    """`revenue_export staging`: staging id → STATUS."""
    rows = csv.DictReader(io.StringIO(cmd("revenue_export", "staging")))
    return {int(row["ID"]): row["STATUS"] for row in rows}


@pytest.fixture
def order(db):
    """10 licences × 120.00 over 2026, billed monthly in advance (100.00 a month); its SO
    line collected in the open period 2026-01."""
    product = ProductFactory(
        sku="LIC-W",
        charge_type=ChargeType.RECURRING,
        default_billing_frequency="MONTHLY",
        default_billing_type=BillingType.ADVANCE,
        default_revenue_method="RATABLE_MONTHLY",
    )
    order = OrderFactory(effective_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 12, 31))
    OrderItemFactory(
        order=order,
        product=product,
        quantity=D(10),
        unit_price=Money("120.00", "USD"),
        service_start_date=dt.date(2026, 1, 1),
        service_end_date=dt.date(2026, 12, 31),
    )
    order = order_activate(order=order, user=None)
    cmd("revenue_period", "open", "202601")
    assert collect() == "collected 1, stopped 0, waiting 0"
    return order


def bill_through_march(order: Order) -> Invoice:
    run = billing_run_execute(run_date=dt.date(2026, 3, 1), trigger="COMMAND")
    assert (run.invoices_created, run.lines_created) == (1, 3)
    return Invoice.objects.get(order=order, status="POSTED")


def reduction_of(order: Order) -> Order:
    """4 of the 10 licences from March: one RORD line, and a 40.00 credit memo (March)."""
    return reduction_order_create(
        original=order,
        lines=[
            ReductionLine(
                item_id=order.items.get().pk,
                quantity=D(4),
                start_date=dt.date(2026, 3, 1),
                end_date=dt.date(2026, 12, 31),
            )
        ],
        user=None,
    )


def test_i4_r11_deactivated_reduction_lines_withdrawn_never_collected_then_reactivated(order):
    """R11, I4: deactivation withdraws the RORD and, with its voided credit memo, the CM-RO:
    kept with reason and time, left alone by the next run, exported as WITHDRAWN. Activated
    again, the reduction stages fresh lines that collect normally (V13 and I7 never see
    the withdrawn ones)."""
    bill_through_march(order)
    assert collect() == "collected 3, stopped 0, waiting 0"  # the INV lines
    so_line = SoLine.objects.get(so_line_id=order.items.get().so_line_id)
    assert so_line.net_sll_prc == D("1200")

    ro = reduction_order_activate(reduction=reduction_of(order), user=None)
    memo = CreditMemo.objects.get(source_order=ro, status="ISSUED")
    rord_batch, cm_batch = ro.revenue_batch_id, memo.revenue_batch_id
    assert statuses(batch_id=rord_batch) + statuses(batch_id=cm_batch) == [
        ("RORD", "NEW"),
        ("CM-RO", "NEW"),
    ]
    before = timezone.now()
    reduction_order_deactivate(reduction=ro, user=None, comment="entered twice")
    after = timezone.now()

    rord = InboundLine.objects.get(batch_id=rord_batch)
    cm_ro = InboundLine.objects.get(batch_id=cm_batch)
    assert (rord.status, rord.withdrawn_reason) == ("WITHDRAWN", f"{ro} deactivated")
    assert (cm_ro.status, cm_ro.withdrawn_reason) == ("WITHDRAWN", f"{memo} voided")
    for line in (rord, cm_ro):
        assert before <= line.withdrawn_at <= after
        assert line.collected_at is None and line.line_id is None
    event = AuditEvent.objects.get(object_id=str(rord_batch), action="withdraw")
    assert event.comment == f"{ro} deactivated" and event.data["lines"] == [rord.pk]
    assert event.data["status before"] == {str(rord.pk): "NEW"}

    # the next run does not see them: nothing pending, nothing collected, counted nowhere
    assert collection_pending_count() == 0
    assert collect() == "collected 0, stopped 0, waiting 0"
    assert statuses(pk__in=[rord.pk, cm_ro.pk]) == [("RORD", "WITHDRAWN"), ("CM-RO", "WITHDRAWN")]
    so_line.refresh_from_db()
    assert so_line.net_sll_prc == D("1200")  # not reduced
    assert {k: v for k, v in exported().items() if k in (rord.pk, cm_ro.pk)} == {
        rord.pk: "WITHDRAWN",
        cm_ro.pk: "WITHDRAWN",
    }

    # R11 undone: the same reduction activated again stages a new batch (same RORD id)
    ro = reduction_order_activate(reduction=Order.objects.get(pk=ro.pk), user=None)
    assert ro.revenue_batch_id not in (rord_batch, cm_batch)
    (fresh,) = InboundLine.objects.filter(batch_id=ro.revenue_batch_id)
    assert (fresh.tran_type, fresh.line_key, fresh.status) == ("RORD", rord.line_key, "NEW")
    assert collection_pending_count() == 2  # the new RORD and the new memo's CM-RO
    assert collect() == "collected 2, stopped 0, waiting 0"
    fresh.refresh_from_db()
    assert fresh.status == "COLLECTED"
    so_line.refresh_from_db()
    assert so_line.net_sll_prc == D("1200") + fresh.ext_sll_prc < D("1200")
    assert statuses(pk__in=[rord.pk, cm_ro.pk]) == [("RORD", "WITHDRAWN"), ("CM-RO", "WITHDRAWN")]

    # R11 once revenue collected: refused, the collected lines untouched
    with pytest.raises(BusinessRuleRefused) as refusal:
        reduction_order_deactivate(reduction=ro, user=None)
    assert refusal.value.rule == "R11" and "collected 1 line(s)" in refusal.value.message
    assert Order.objects.get(pk=ro.pk).status == OrderStatus.ACTIVATED
    assert statuses(batch_id=ro.revenue_batch_id) == [("RORD", "COLLECTED")]


def test_i4_b5_voided_invoice_lines_withdrawn_and_the_rebilled_ones_collect(order):
    """B5, I4: a voided invoice's INV lines stay WITHDRAWN through later runs; billing the
    periods again stages new INV lines that collect."""
    invoice = bill_through_march(order)
    batch = invoice.revenue_batch_id
    invoice_void(invoice=invoice, user=None, comment="wrong price")
    lines = list(InboundLine.objects.filter(batch_id=batch).order_by("pk"))
    assert [(x.tran_type, x.status, x.withdrawn_reason) for x in lines] == [
        ("INV", "WITHDRAWN", f"{invoice} voided")
    ] * 3
    assert all(x.withdrawn_at is not None for x in lines)
    assert collection_pending_count() == 0
    assert collect() == "collected 0, stopped 0, waiting 0"

    rebilled = bill_through_march(order)
    assert rebilled.pk != invoice.pk
    assert collect() == "collected 3, stopped 0, waiting 0"
    assert statuses(batch_id=rebilled.revenue_batch_id) == [("INV", "COLLECTED")] * 3
    assert statuses(batch_id=batch) == [("INV", "WITHDRAWN")] * 3
    export = exported()
    assert [export[x.pk] for x in lines] == ["WITHDRAWN"] * 3


def test_i4_withdrawal_refused_with_nothing_changed_once_a_line_was_collected(order):
    """I4, B5: once revenue collected a line of the batch, the void is refused and no line
    of the batch is withdrawn, not even the ones still new."""
    invoice = bill_through_march(order)
    batch = invoice.revenue_batch_id
    first = InboundLine.objects.filter(batch_id=batch).order_by("pk").first()
    InboundLine.objects.filter(pk=first.pk).update(status="COLLECTED")  # as a run leaves it
    with pytest.raises(BusinessRuleRefused) as refusal:
        invoice_void(invoice=invoice, user=None)
    assert refusal.value.rule == "B5" and "collected 1 line(s)" in refusal.value.message
    assert statuses(batch_id=batch) == [("INV", "COLLECTED"), ("INV", "NEW"), ("INV", "NEW")]
    assert not InboundLine.objects.filter(batch_id=batch, withdrawn_at__isnull=False).exists()
    assert not AuditEvent.objects.filter(object_id=str(batch), action="withdraw").exists()
    with pytest.raises(BusinessRuleRefused) as refusal:
        inbound_batch_withdraw(batch_id=batch, actor=None, reason="again")
    assert refusal.value.rule == "I4"
    assert statuses(batch_id=batch) == [("INV", "COLLECTED"), ("INV", "NEW"), ("INV", "NEW")]


def test_i4_withdrawing_twice_changes_nothing_the_second_time(order):
    invoice = bill_through_march(order)
    batch = invoice.revenue_batch_id
    assert inbound_batch_withdraw(batch_id=batch, actor=None, reason="first") == 3
    stamped = list(InboundLine.objects.filter(batch_id=batch).values_list("withdrawn_at"))
    assert inbound_batch_withdraw(batch_id=batch, actor=None, reason="second") == 0
    assert list(InboundLine.objects.filter(batch_id=batch).values_list("withdrawn_at")) == stamped
    assert set(InboundLine.objects.filter(batch_id=batch).values_list("withdrawn_reason")) == {
        ("first",)
    }
    assert AuditEvent.objects.filter(object_id=str(batch), action="withdraw").count() == 1


# --- the Inbound admin ---------------------------------------------------------------------


@pytest.fixture
def withdrawn(order):
    """A RORD stopped as waiting (INB-004, as a run leaves it), then withdrawn (R11)."""
    ro = reduction_order_activate(reduction=reduction_of(order), user=None)
    line = InboundLine.objects.get(batch_id=ro.revenue_batch_id)
    InboundLine.objects.filter(pk=line.pk).update(
        status="ERROR",
        error_codes="INB-004",
        errors=[{"code": "INB-004", "rule": "V12", "field": "", "message": "INB-004: wait"}],
        waiting=True,
    )
    reduction_order_deactivate(reduction=ro, user=None)
    line.refresh_from_db()
    assert (line.status, line.waiting, line.retry) == ("WITHDRAWN", False, False)
    assert line.withdrawn_reason == f"{ro} deactivated"
    return line


def url(name: str, *args) -> str:
    return reverse(f"admin:revenue_{name}", args=args)


def listed(client, **query) -> list[int]:
    response = client.get(url("inboundline_changelist"), query)
    assert response.status_code == 200
    return [line.pk for line in response.context["cl"].result_list]


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def test_i4_withdrawn_line_not_counted_new_stopped_or_waiting(admin_client, withdrawn):
    """I3, I4: the status filter offers Withdrawn; the stopped, waiting, error-code and
    review views leave the line out; the batch list counts it as withdrawn, not as
    collected; a run has nothing to do."""
    page = admin_client.get(url("inboundline_changelist"))
    assert "?status__exact=WITHDRAWN" in page.content.decode()
    assert listed(admin_client, status__exact="WITHDRAWN") == [withdrawn.pk]
    for query in (
        {"status__exact": "NEW"},
        {"status__exact": "ERROR"},
        {"waiting__exact": "1"},
        {"error_code": "INB-004"},
        {"rord_review": "awaiting"},
    ):
        assert withdrawn.pk not in listed(admin_client, **query), query
    assert page.context["review"] == {"total": 0, "unmarked": 0}

    response = admin_client.get(url("inboundbatch_changelist"))
    admin = site._registry[InboundBatch]
    (batch,) = [b for b in response.context["cl"].result_list if b.pk == withdrawn.batch_id]
    assert (admin.new(batch), admin.collected(batch), batch._stopped) == (0, 0, 0)
    assert batch._withdrawn == 1
    assert "status__exact=WITHDRAWN" in admin.withdrawn(batch)
    assert collection_pending_count() == 0
    assert collect() == "collected 0, stopped 0, waiting 0"


def test_i4_withdrawn_line_page_is_read_only_and_says_when_and_why(admin_client, withdrawn):
    page = admin_client.get(url("inboundline_change", withdrawn.pk))
    assert page.status_code == 200 and page.context["has_change_permission"] is False
    html = page.content.decode()
    stamp = timezone.localtime(withdrawn.withdrawn_at)
    assert 'class="fieldset-heading">Withdrawn</h2>' in html and withdrawn.withdrawn_reason in html
    assert date_format(stamp, "DATETIME_FORMAT") in html
    edit = admin_client.post(url("inboundline_change", withdrawn.pk), {"so_num": "X"})
    assert edit.status_code == 403
    assert admin_client.get(url("inboundline_delete", withdrawn.pk)).status_code == 403

    rows = admin_client.get(url("inboundline_changelist"), {"status__exact": "WITHDRAWN"})
    said = f"Withdrawn {stamp:%Y-%m-%d %H:%M}: {withdrawn.withdrawn_reason}"
    assert rows.content.decode().count(said) == 2  # the badge's title and the errors column
    (form,) = rows.context["cl"].formset.forms
    assert form.fields["rord_review_completed"].disabled  # I5 flag not editable either


def test_i4_bulk_retry_review_and_delete_leave_a_withdrawn_line_alone(admin_client, withdrawn):
    changelist = url("inboundline_changelist")
    selected = {"_selected_action": [withdrawn.pk]}
    retry = admin_client.post(changelist, {"action": "retry_selected", **selected}, follow=True)
    assert "0 stopped line(s) will be retried" in messages_of(retry)
    review = admin_client.post(changelist, {"action": "review_yes", **selected}, follow=True)
    assert f"#{withdrawn.pk} was withdrawn ({withdrawn.withdrawn_reason})" in messages_of(review)
    delete = admin_client.post(
        changelist, {"action": "delete_selected_lines", "confirm": "yes", **selected}, follow=True
    )
    assert "withdrawn lines stay recorded" in messages_of(delete)
    line = InboundLine.objects.get(pk=withdrawn.pk)
    assert (line.status, line.retry, line.rord_review_completed) == ("WITHDRAWN", False, "N")
    assert line.withdrawn_reason == withdrawn.withdrawn_reason
    assert not AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(InboundLine), object_id=str(line.pk)
    ).exists()
