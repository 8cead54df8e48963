"""B2, B4, C3: each product knows when its next period falls due, so the billing run
visits only the orders with something to bill (the daily job does not read every order)."""

import datetime as dt

import pytest

from orders.models import BillingType, Invoice
from orders.services.billing import invoice_void
from orders.services.cancellations import cancellation_create
from tests.factories import make_order
from tests.orders.billing_helpers import lines_of, run, subscription

pytestmark = pytest.mark.django_db
D = dt.date


def test_b2_activation_sets_the_first_due_date_advance_arrears_and_one_time():
    """B2: in advance a period is due when it starts, in arrears the day after it ends;
    a one-time product is due at once."""
    _order, advance = subscription()
    _order, arrears = subscription(billing_type=BillingType.ARREARS)
    one_time = make_order(activate=True).items.get()
    assert advance.next_bill_date == D(2025, 1, 1)
    assert arrears.next_bill_date == D(2025, 2, 1)
    assert one_time.next_bill_date == D(1900, 1, 1)


def test_b4_the_run_visits_only_orders_with_a_period_due():
    """B4: after billing through March the next due date is 1 April; a run before it
    does not even open the order."""
    _order, item = subscription()
    assert run(D(2025, 3, 1)).lines_created == 3
    item.refresh_from_db()
    assert item.next_bill_date == D(2025, 4, 1)
    quiet = run(D(2025, 3, 31))
    assert (quiet.orders_seen, quiet.lines_created) == (0, 0)
    assert run(D(2025, 4, 1)).lines_created == 1


def test_b4_fully_billed_product_has_no_next_date():
    _order, item = subscription()
    assert run(D(2025, 12, 1)).lines_created == 12
    item.refresh_from_db()
    assert item.next_bill_date is None
    assert run(D(2026, 6, 1)).orders_seen == 0


def test_c3_cancellation_ends_the_schedule_and_r11_deactivation_restores_it():
    """C3: terminated 15 March, billed through April: nothing is due any more."""
    from orders.services.reductions import reduction_order_deactivate

    _order, item = subscription()
    run(D(2025, 4, 1))
    cancellation = cancellation_create(
        original_item=item, terminated_date=D(2025, 3, 15), user=None
    )
    item.refresh_from_db()
    assert item.next_bill_date is None
    assert run(D(2025, 12, 1)).orders_seen == 0
    reduction_order_deactivate(reduction=cancellation, user=None)
    item.refresh_from_db()
    assert item.next_bill_date == D(2025, 5, 1)
    assert run(D(2025, 5, 1)).lines_created == 1


def test_b5_voiding_an_invoice_makes_its_periods_due_again():
    _order, item = subscription()
    run(D(2025, 2, 1))
    invoice_void(invoice=Invoice.objects.get(), user=None, comment="wrong account")
    item.refresh_from_db()
    assert item.next_bill_date == D(2025, 1, 1)
    assert run(D(2025, 2, 1)).lines_created == 2
    assert [line.period_start for line in lines_of(item)] == [D(2025, 1, 1), D(2025, 2, 1)]
