"""B1–B5: billing periods and amounts, billing runs (beat, command, task) and invoices."""

import datetime as dt
import io
import threading
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django_celery_beat.models import PeriodicTask
from djmoney.money import Money
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.exceptions import BusinessRuleRefused
from orders.models import (
    BillingFrequency,
    BillingRun,
    BillingType,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)
from orders.services import billing as billing_services
from orders.services.billing import (
    INVOICE_TRANSITIONS,
    billing_periods,
    invoice_post,
    invoice_void,
)
from orders.services.billing_periods import period_amounts
from orders.services.cancellations import cancellation_create
from orders.tasks import billing_run_task
from revenue.models import InboundLine
from tests.factories import make_order
from tests.orders.billing_helpers import (
    USD,
    D,
    bill_through_april,
    item_for,
    lines_of,
    run,
    subscription,
    usd,
)

pytestmark = pytest.mark.django_db


# --- B1 periods -----------------------------------------------------------------------


def test_b1_monthly_periods_follow_calendar_months():
    periods = billing_periods(item=item_for(D(2025, 1, 1), D(2025, 12, 31)))
    assert len(periods) == 12
    assert periods[0] == (D(2025, 1, 1), D(2025, 1, 31))
    assert periods[1] == (D(2025, 2, 1), D(2025, 2, 28))
    assert periods[-1] == (D(2025, 12, 1), D(2025, 12, 31))


def test_b1_quarterly_semiannual_and_annual_periods():
    quarterly = billing_periods(
        item=item_for(D(2025, 1, 1), D(2025, 12, 31), BillingFrequency.QUARTERLY)
    )
    assert quarterly == [
        (D(2025, 1, 1), D(2025, 3, 31)),
        (D(2025, 4, 1), D(2025, 6, 30)),
        (D(2025, 7, 1), D(2025, 9, 30)),
        (D(2025, 10, 1), D(2025, 12, 31)),
    ]
    semi = billing_periods(
        item=item_for(D(2025, 3, 1), D(2026, 2, 28), BillingFrequency.SEMIANNUAL)
    )
    assert semi == [(D(2025, 3, 1), D(2025, 8, 31)), (D(2025, 9, 1), D(2026, 2, 28))]
    annual = billing_periods(item=item_for(D(2025, 7, 1), D(2027, 3, 31), BillingFrequency.ANNUAL))
    assert annual == [
        (D(2025, 7, 1), D(2026, 6, 30)),
        (D(2026, 7, 1), D(2027, 3, 31)),  # B1: the last period is capped at the end date
    ]


def test_b1_month_end_start_stays_anchored_on_its_day():
    """B1: Jan 31 + 1 month = Feb 28, + 2 months = Mar 31 (not Mar 28)."""
    periods = billing_periods(item=item_for(D(2025, 1, 31), D(2025, 5, 15)))
    assert periods == [
        (D(2025, 1, 31), D(2025, 2, 27)),
        (D(2025, 2, 28), D(2025, 3, 30)),
        (D(2025, 3, 31), D(2025, 4, 29)),
        (D(2025, 4, 30), D(2025, 5, 15)),
    ]


def test_b1_one_time_product_has_one_period_billed_on_activation():
    order = make_order(lines=[("3", "10.00")], activate=True)
    item = order.items.get()
    assert billing_periods(item=item) == [(item.service_start_date, item.service_start_date)]
    # B1/B2: due as soon as the order is activated, whatever the run date
    billing = run(item.service_start_date - dt.timedelta(days=30))
    assert billing.invoices_created == 1
    (line,) = lines_of(item)
    assert line.quantity == 3 and line.net == usd("30.00")


# --- B3 amounts -----------------------------------------------------------------------


def test_b3_full_periods_share_the_total_equally():
    """B3: 1200.00 monthly over 2025 is 100.00 a period."""
    amounts = period_amounts(item=item_for(D(2025, 1, 1), D(2025, 12, 31)))
    assert list(amounts.values()) == [usd("100.00")] * 12


def test_b3_partial_last_period_is_prorated_by_actual_days():
    """B3: Jan 1 – Mar 15 at 100.00 a month: 100.00, 100.00, 15/31 × 100.00 = 48.39."""
    item = item_for(D(2025, 1, 1), D(2025, 3, 15), total="248.39")
    assert list(period_amounts(item=item).values()) == [
        usd("100.00"),
        usd("100.00"),
        usd("48.39"),
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=st.dates(min_value=D(2024, 1, 1), max_value=D(2026, 12, 31)),
    length=st.integers(min_value=0, max_value=1200),
    frequency=st.sampled_from(list(BillingFrequency)),
    cents=st.integers(min_value=0, max_value=10**9),
)
def test_b3_parts_always_add_up_to_the_total(start, length, frequency, cents):
    """B3: periods tile the term without gaps, and the parts add up to the total exactly."""
    total = Money(Decimal(cents) / 100, USD)
    item = item_for(start, start + dt.timedelta(days=length), frequency, total=total.amount)
    periods = billing_periods(item=item)
    assert periods[0][0] == start and periods[-1][1] == item.service_end_date
    for (_, end), (next_start, _) in zip(periods, periods[1:], strict=False):
        assert next_start == end + dt.timedelta(days=1)
    parts = list(period_amounts(item=item).values())
    assert sum(parts, Money(0, USD)) == total
    assert all(part.amount >= 0 for part in parts)


# --- B2 when a period is due ----------------------------------------------------------


def test_b2_advance_bills_a_period_when_it_starts():
    _order, item = subscription()
    assert run(D(2024, 12, 31)).lines_created == 0
    assert run(D(2025, 1, 1)).lines_created == 1
    assert run(D(2025, 1, 31)).lines_created == 0
    assert run(D(2025, 2, 1)).lines_created == 1
    assert [(x.period_start, x.net) for x in lines_of(item)] == [
        (D(2025, 1, 1), usd("100.00")),
        (D(2025, 2, 1), usd("100.00")),
    ]


def test_b2_arrears_bills_a_period_once_it_has_ended():
    _order, item = subscription(billing_type=BillingType.ARREARS)
    assert run(D(2025, 1, 1)).lines_created == 0
    assert run(D(2025, 1, 31)).lines_created == 0
    assert run(D(2025, 2, 1)).lines_created == 1
    assert [x.period_end for x in lines_of(item)] == [D(2025, 1, 31)]


def test_b2_only_activated_standard_orders_are_billed():
    draft = make_order(lines=[("1", "10.00")], activate=False)
    _order, item = subscription()
    billing = run(D(2025, 1, 1))
    assert billing.invoices_created == 1 and not Invoice.objects.filter(order=draft).exists()


def test_b3_b5_invoice_has_number_date_lines_tax_and_totals():
    order, item = subscription(tax_rate="20")
    billing = run(D(2025, 2, 15))
    invoice = Invoice.objects.get(order=order)
    assert invoice.number.startswith("INV-") and len(invoice.number) == 10
    assert invoice.invoice_date == D(2025, 2, 15) and invoice.billing_run == billing
    assert invoice.status == InvoiceStatus.POSTED and invoice.account == order.account
    assert [(x.line_number, x.quantity, x.net, x.tax) for x in invoice.lines.all()] == [
        (1, 1, usd("100.00"), usd("20.00")),
        (2, 1, usd("100.00"), usd("20.00")),
    ]
    assert (invoice.net_total, invoice.tax_total, invoice.gross_total) == (
        usd("200.00"),
        usd("40.00"),
        usd("240.00"),
    )


# --- B4 idempotent runs ---------------------------------------------------------------


def test_b4_running_twice_bills_nothing_twice():
    order, item = subscription()
    first = run(D(2025, 4, 1))  # catch-up: four periods on one invoice
    assert (first.invoices_created, first.lines_created) == (1, 4)
    second = run(D(2025, 4, 1))
    assert (second.invoices_created, second.lines_created, second.refused) == (0, 0, 0)
    assert second.status == BillingRun.Status.SUCCEEDED and second.finished_at
    assert InvoiceLine.objects.filter(order_item=item).count() == 4


def test_b4_billing_run_command_twice_prints_a_summary_last():
    subscription()
    out = io.StringIO()
    call_command("billing_run", "--date", "2025-03-01", stdout=out)
    assert out.getvalue().strip().splitlines()[-1] == (
        "billed 1 invoice(s), 3 line(s) for 2025-03-01; 0 refused"
    )
    out = io.StringIO()
    call_command("billing_run", "--date", "2025-03-01", stdout=out)
    assert out.getvalue().strip().splitlines()[-1] == (
        "billed 0 invoice(s), 0 line(s) for 2025-03-01; 0 refused"
    )


def test_b4_billing_run_command_refuses_a_bad_date_with_exit_2():
    with pytest.raises(CommandError, match="--date must be a date as YYYY-MM-DD") as excinfo:
        call_command("billing_run", "--date", "2025-13-01")
    assert excinfo.value.returncode == 2


def test_b4_one_orders_failure_never_stops_the_run(monkeypatch):
    bad, _ = subscription()
    good, good_item = subscription()
    real = billing_services._due_lines

    def failing(*, order, items, run_date):
        if order.pk == bad.pk:
            raise BusinessRuleRefused(rule="B4", field=None, message="cannot bill this one")
        return real(order=order, items=items, run_date=run_date)

    monkeypatch.setattr(billing_services, "_due_lines", failing)
    billing = run(D(2025, 1, 1))
    assert (billing.invoices_created, billing.refused) == (1, 1)
    assert billing.messages == [
        {"order": bad.number, "rule": "B4", "message": "cannot bill this one"}
    ]
    assert not Invoice.objects.filter(order=bad).exists() and lines_of(good_item)


def test_b4_query_count_does_not_grow_with_the_lines():
    subscription()
    with CaptureQueriesContext(connection) as one_period:
        run(D(2025, 1, 1))
    subscription()
    with CaptureQueriesContext(connection) as six_periods:
        run(D(2025, 6, 1))  # 5 new periods on the first, 6 on the second
    per_invoice = len(one_period)
    assert len(six_periods) <= 2 * per_invoice + 5


def test_b4_celery_task_runs_the_billing_run():
    subscription()
    result = billing_run_task.apply(kwargs={"run_date": "2025-02-01"}).get()
    assert result["invoices"] == 1 and result["lines"] == 2 and result["status"] == "SUCCEEDED"
    assert BillingRun.objects.get(pk=result["run"]).trigger == BillingRun.Trigger.BEAT
    again = billing_run_task.apply(kwargs={"run_date": "2025-02-01"}).get()
    assert again["lines"] == 0  # B4: idempotent


def test_b4_beat_job_is_seeded_by_the_migration():
    task = PeriodicTask.objects.get(name="Orders: billing run")
    assert task.task == "orders.tasks.billing_run_task"
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_month) == ("0", "2", "*")


def test_b4_billing_run_command_exits_1_on_a_system_failure(monkeypatch):
    from orders.management.commands import billing_run as command

    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(command, "billing_run_execute", broken)
    with pytest.raises(CommandError, match="billing run failed: database went away") as excinfo:
        call_command("billing_run")
    assert excinfo.value.returncode == 1


# --- B5 invoices ----------------------------------------------------------------------


def test_b5_posting_stages_inv_lines_in_revenue():
    order, item = subscription()
    run(D(2025, 2, 1))
    invoice = Invoice.objects.get(order=order)
    staged = InboundLine.objects.filter(batch_id=invoice.revenue_batch_id).order_by("row_number")
    assert [(x.tran_type, x.inv_line_id, x.ext_sll_prc, x.start_date) for x in staged] == [
        ("INV", f"{invoice.number}-1", Decimal("100.00"), D(2025, 1, 1)),
        ("INV", f"{invoice.number}-2", Decimal("100.00"), D(2025, 2, 1)),
    ]
    assert {x.so_line_id for x in staged} == {item.so_line_id}


def test_b5_void_frees_the_periods_and_withdraws_the_lines(admin_user):
    order, item = subscription()
    run(D(2025, 1, 1))
    invoice = Invoice.objects.get(order=order)
    batch = invoice.revenue_batch_id
    invoice = INVOICE_TRANSITIONS["void"](invoice=invoice, user=admin_user, comment="wrong")
    assert invoice.status == InvoiceStatus.VOID and invoice.voided_by == admin_user
    staged = InboundLine.objects.filter(batch_id=batch)  # I4: kept, withdrawn
    assert [(x.tran_type, x.status, x.withdrawn_reason) for x in staged] == [
        ("INV", "WITHDRAWN", f"{invoice} voided")
    ]
    assert invoice.lines.get().is_void
    assert run(D(2025, 1, 1)).lines_created == 1  # B4: the period can be billed again


def test_b5_void_refused_once_revenue_collected_the_lines(admin_user):
    order, _item = subscription()
    run(D(2025, 1, 1))
    invoice = Invoice.objects.get(order=order)
    InboundLine.objects.filter(batch_id=invoice.revenue_batch_id).update(status="COLLECTED")
    with pytest.raises(BusinessRuleRefused) as excinfo:
        invoice_void(invoice=invoice, user=admin_user)
    assert excinfo.value.rule == "B5"
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.POSTED


def test_b5_void_refused_while_a_credit_memo_credits_it(admin_user):
    order, item = subscription()
    bill_through_april(item)
    cancellation_create(original_item=item, terminated_date=D(2025, 3, 15), user=admin_user)
    credited = Invoice.objects.get(lines__period_start=D(2025, 4, 1))
    with pytest.raises(BusinessRuleRefused, match="credit memo") as excinfo:
        invoice_void(invoice=credited, user=admin_user)
    assert excinfo.value.rule == "B5"


def test_b5_transitions_need_their_permissions(ops_user):
    order, _item = subscription()
    run(D(2025, 1, 1))
    invoice = Invoice.objects.get(order=order)
    with pytest.raises(BusinessRuleRefused, match="permission to void invoices"):
        invoice_void(invoice=invoice, user=ops_user)
    with pytest.raises(BusinessRuleRefused, match="post is not allowed"):
        invoice_post(invoice=invoice, user=None)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")
def test_b4_two_runs_at_once_bill_each_period_once():
    """B4: two billing runs racing on the same orders: the order's row lock makes the
    second wait and then find every period billed."""
    _order, item = subscription()
    barrier = threading.Barrier(2)
    runs = []

    def go():
        try:
            barrier.wait()
            runs.append(run(D(2025, 3, 1)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=go) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(r.lines_created for r in runs) == [0, 3]
    assert sum(r.refused for r in runs) == 0
    assert InvoiceLine.objects.filter(order_item=item).count() == 3


def test_b5_posting_a_draft_invoice_by_hand(admin_user):
    order, item = subscription()
    invoice = Invoice.objects.create(
        number="INV-T00001", account=order.account, order=order, currency=USD
    )
    InvoiceLine.objects.create(
        invoice=invoice,
        line_number=1,
        order_item=item,
        period_start=D(2025, 1, 1),
        period_end=D(2025, 1, 31),
        quantity=Decimal("1"),
        net=usd("100.00"),
    )
    invoice = INVOICE_TRANSITIONS["post"](invoice=invoice, user=admin_user, comment="")
    assert invoice.status == InvoiceStatus.POSTED and invoice.posted_by == admin_user
    assert InboundLine.objects.get(batch_id=invoice.revenue_batch_id).tran_type == "INV"
    assert run(D(2025, 1, 1)).lines_created == 0  # B4: January is billed already
