"""The admin face of billing (B4-B7, R9, C4): invoices, credit memos, runs, Bill now, print."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from orders.models import (
    BillingFrequency,
    BillingRun,
    CreditMemo,
    CreditMemoStatus,
    Invoice,
    InvoiceStatus,
    Order,
)
from orders.services import order_activate
from orders.services.billing import billing_run_execute
from orders.services.reductions import (
    ReductionLine,
    reduction_order_activate,
    reduction_order_create,
)
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory
from tests.orders.test_admin import form_data, messages_of

pytestmark = pytest.mark.django_db
D = Decimal
START = dt.date(2025, 1, 1)


def url_of(obj, view="change"):
    return reverse(f"admin:orders_{obj._meta.model_name}_{view}", args=[obj.pk])


def subscription(*, start=START, months=12, quantity="100", tax_rate="20"):
    """An activated order with one recurring monthly product billed in advance."""
    end = dt.date(
        start.year + (start.month - 1 + months) // 12, (start.month - 1 + months) % 12 + 1, 1
    )
    end -= dt.timedelta(days=1)
    order = OrderFactory(effective_date=start, end_date=end)
    OrderItemFactory(
        order=order,
        product=ProductFactory(recurring=True),
        quantity=D(quantity),
        unit_price=Money("12.00", "USD"),
        service_start_date=start,
        service_end_date=end,
        billing_frequency=BillingFrequency.MONTHLY,
        tax_rate=D(tax_rate),
    )
    return order_activate(order=order, user=None)


def bill(day, **kwargs) -> BillingRun:
    return billing_run_execute(run_date=day, trigger=BillingRun.Trigger.COMMAND, **kwargs)


def month_starts(count, start=START):
    return [
        dt.date(start.year + (start.month - 1 + i) // 12, (start.month - 1 + i) % 12 + 1, 1)
        for i in range(count)
    ]


def credit(order, qty=1):
    """R9: an activated reduction over the whole term credits what was billed."""
    item = order.items.get()
    reduction = reduction_order_create(
        original=order,
        lines=[
            ReductionLine(
                item_id=item.pk,
                quantity=D(qty),
                start_date=item.service_start_date,
                end_date=item.service_end_date,
            )
        ],
        user=None,
    )
    return reduction_order_activate(reduction=reduction, user=None)


@pytest.fixture
def billed():
    """A 2025 subscription with January billed (one posted invoice)."""
    order = subscription()
    bill(START)
    return order


# --- invoices ----------------------------------------------------------------------------


def test_b5_invoice_list_filters_and_search(admin_client, billed):
    invoice = Invoice.objects.get()
    url = reverse("admin:orders_invoice_changelist")
    html = admin_client.get(url).content.decode()
    assert invoice.number in html and billed.number in html and billed.account.name in html
    assert 'class="contra-badge POSTED"' in html and "addlink" not in html
    assert admin_client.get(url, {"q": billed.number}).context["cl"].result_count == 1
    assert admin_client.get(url, {"status__exact": "VOID"}).context["cl"].result_count == 0
    dates = {"invoice_date__range__gte": "2030-01-01", "invoice_date__range__lte": ""}
    assert admin_client.get(url, dates).context["cl"].result_count == 0
    assert admin_client.get(reverse("admin:orders_invoice_add")).status_code == 403


def test_b5_invoice_page_lines_read_only_print_and_void_with_a_reason(admin_client, billed):
    invoice = Invoice.objects.get()
    response = admin_client.get(url_of(invoice))
    html = response.content.decode()
    assert f"{billed.number}-1" in html and "2025-01-01 – 2025-01-31" in html
    assert url_of(invoice, "print") in html and 'value="void"' in html
    assert 'name="_save"' not in html and 'name="lines-0-net"' not in html  # no hand edits
    assert 'id="invoice-history"' in html
    data = form_data(response)
    data["_fsm_transition_to"] = "void"
    response = admin_client.post(url_of(invoice), data)
    form_url = reverse("admin:orders_invoice_transition", args=[invoice.pk, "void"])
    assert response["Location"] == form_url
    assert "Reason" in admin_client.get(form_url).content.decode()
    response = admin_client.post(form_url, {"comment": "wrong customer"})
    assert response.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.VOID
    assert "wrong customer" in admin_client.get(url_of(invoice)).content.decode()


def test_b5_refused_void_is_a_message_in_words(admin_client, billed):
    invoice = Invoice.objects.get()
    credit(billed)  # a credit memo now credits the invoice
    form_url = reverse("admin:orders_invoice_transition", args=[invoice.pk, "void"])
    response = admin_client.post(form_url, {"comment": "try"}, follow=True)
    assert response.status_code == 200
    assert messages_of(response) == [
        f"{invoice} cannot be voided: credit memo(s) CM-000001 credit its lines (void them first)"
    ]
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.POSTED


def test_b6_order_billing_panel_shows_credits_with_one_minus_sign(admin_client):
    """Plain words: the order page's billing panel shows what a credit memo takes off with
    one minus sign ("-$12.00", not "−$12.00" nor "−-$12.00"), and an untaxed credit's tax
    as $0.00, never "−$0.00"."""
    order = subscription(tax_rate="0")
    bill(START)
    credit(order)
    memo = CreditMemo.objects.get()
    assert memo.tax_total == Money("0.00", "USD") and memo.net_total.amount > 0
    html = admin_client.get(url_of(order)).content.decode()
    panel = html[html.index('id="order-billing"') :]
    panel = panel[: panel.index("</table>")]
    net = f"-${memo.net_total.amount:,.2f}"
    assert f'<td class="contra-num contra-negative">{net}</td>' in panel
    assert '<td class="contra-num">$0.00</td>' in panel  # the zero tax, without a sign
    assert "−" not in panel and "-$0.00" not in panel


def test_b5_invoice_print_page_is_standalone_and_complete(admin_client, billed):
    invoice = Invoice.objects.get()
    response = admin_client.get(url_of(invoice, "print"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="header"' not in html and "@media print" in html  # no admin chrome
    assert "Contra" in html and invoice.number in html and billed.account.name in html
    assert billed.number in html and "2025-01-01 – 2025-01-31" in html
    assert "Total due" in html and str(invoice.gross_total) in html


def test_print_needs_the_view_permission(client, ops_user, billed):
    client.force_login(ops_user)  # no invoice permissions
    assert client.get(url_of(Invoice.objects.get(), "print")).status_code == 403


# --- credit memos ------------------------------------------------------------------------


def test_b6_credit_memo_list_page_and_print(admin_client, billed):
    reduction = credit(billed)
    memo = CreditMemo.objects.get()
    invoice = Invoice.objects.get()
    url = reverse("admin:orders_creditmemo_changelist")
    html = admin_client.get(url).content.decode()
    assert memo.number in html and reduction.number in html and "Reduction order" in html
    assert admin_client.get(url, {"source__exact": "CANCELLATION"}).context["cl"].result_count == 0
    assert admin_client.get(url, {"q": reduction.number}).context["cl"].result_count == 1
    page = admin_client.get(url_of(memo)).content.decode()
    assert f"{invoice.number}-1" in page and 'value="void"' in page
    printed = admin_client.get(url_of(memo, "print")).content.decode()
    assert "Credit memo" in printed and "Total credited" in printed and invoice.number in printed
    assert "Why this credit" in printed and reduction.number in printed
    # R12: the original's page lists its invoices and credit memos
    order_page = admin_client.get(url_of(billed)).content.decode()
    assert url_of(invoice) in order_page and url_of(memo) in order_page


def test_b6_credit_memo_void_asks_a_reason(admin_client, billed):
    credit(billed)
    memo = CreditMemo.objects.get()
    form_url = reverse("admin:orders_creditmemo_transition", args=[memo.pk, "void"])
    response = admin_client.post(form_url, {"comment": "issued by mistake"})
    assert response.status_code == 302
    memo.refresh_from_db()
    assert memo.status == CreditMemoStatus.VOID


# --- Bill now, billing runs ----------------------------------------------------------


def test_b4_bill_now_action_on_the_order_list(admin_client):
    today = timezone.localdate()
    order = subscription(start=today.replace(day=1), months=3)
    response = admin_client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "bill_selected", "_selected_action": [order.pk]},
        follow=True,
    )
    assert any("1 invoice(s) with 1 line(s) created" in m for m in messages_of(response))
    assert Invoice.objects.filter(order=order).count() == 1
    run = BillingRun.objects.get()
    assert run.trigger == BillingRun.Trigger.ADMIN and run.run_date == today
    html = admin_client.get(reverse("admin:orders_billingrun_changelist")).content.decode()
    assert 'class="contra-badge SUCCEEDED"' in html and "addlink" not in html


def test_b4_bill_now_button_on_the_order_page_and_its_permission(ops_user, admin_client):
    order = subscription(start=timezone.localdate().replace(day=1), months=3)
    bill_url = reverse("admin:orders_order_bill_now", args=[order.pk])
    assert bill_url in admin_client.get(url_of(order)).content.decode()
    assert admin_client.get(bill_url).status_code == 405  # POST only
    client = Client()
    client.force_login(ops_user)  # no orders.bill_order
    assert bill_url not in client.get(url_of(order)).content.decode()
    assert client.post(bill_url).status_code == 403
    assert not Invoice.objects.exists()
    response = admin_client.post(bill_url, follow=True)
    assert any(m.startswith("Billing run") for m in messages_of(response)), messages_of(response)
    assert Invoice.objects.filter(order=order).count() == 1
    ops_user.user_permissions.add(Permission.objects.get(codename="bill_order"))
    assert "bill_selected" in client.get(reverse("admin:orders_order_changelist")).content.decode()


# --- constant query counts -------------------------------------------------------------


def _count_queries(client, url):
    client.get(url)  # warm caches
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_invoice_and_credit_memo_lists_run_a_constant_number_of_queries(admin_client):
    counts = {"invoice": [], "creditmemo": []}
    for n in (2, 20):
        for _ in range(n):
            order = subscription(months=1)
            bill(START)
            credit(order)
        for name in counts:
            url = reverse(f"admin:orders_{name}_changelist")
            counts[name].append(_count_queries(admin_client, url))
    assert counts["invoice"][0] == counts["invoice"][1], counts
    assert counts["creditmemo"][0] == counts["creditmemo"][1], counts


def test_order_page_with_invoices_and_reductions_runs_a_constant_number_of_queries(admin_client):
    counts = []
    for n in (2, 20):
        order = subscription(months=24)
        for day in month_starts(n):
            bill(day, orders=Order.objects.filter(pk=order.pk))
        for _ in range(n):
            credit(order)
        assert order.invoices.count() == n and order.credit_memos.count() == n
        counts.append(_count_queries(admin_client, url_of(order)))
    assert counts[0] == counts[1], counts


def test_invoice_page_runs_a_constant_number_of_queries(admin_client):
    counts = []
    for n in (2, 20):
        order = subscription(months=24)
        bill(month_starts(n)[-1], orders=Order.objects.filter(pk=order.pk))
        invoice = order.invoices.get()
        assert invoice.lines.count() == n
        counts.append(_count_queries(admin_client, url_of(invoice)))
        counts.append(_count_queries(admin_client, url_of(invoice, "print")))
    assert counts[0] == counts[2] and counts[1] == counts[3], counts
