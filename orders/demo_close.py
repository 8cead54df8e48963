"""Demo data, part 3 (after the revenue demo): what a month-end close has to find (close.md).

Runs once revenue has collected the demo orders and opened 2026-11, and billing and
returns have made the month's documents, as of the demo's today. It collects them (booked
in 2026-11, the month they are dated in), then:
- Revenue holds Globex's analytics line (DEMO-03, EUR: usage in dispute) and asks for a
  review of every reduction of a line changed by hand (V7 on). Billing then cancels two
  seats back to June: the RORD stops (RPRO-00356, V7) and so does the CM-RO of its credit
  memo (RPRO-00683, V11: the line has no collected RORD). M5 shows the credit memo line
  *stopped*, with a difference; the checklist warns of the stopped lines and the hold.
- An invoice keyed in by hand during the billing cut-over (DEMO-02's next licence month,
  USD) was posted without staging its INV line: M5 shows it *missing*.
Every other document line of the period is *collected* as billed. Idempotent.
"""

from __future__ import annotations

from django.db import transaction

from core.lifecycle import document_clean, document_transition
from core.models import AuditAction
from core.services import audit_record, sequence_next
from revenue.models import CollectionRun, SoLine
from revenue.services.collection import collection_collect
from revenue.services.manual import so_line_hold
from revenue.services.periods import period_open_get
from revenue.services.settings import rule_switch

from .demo import DEMO_TODAY, demo_today
from .demo_billing import _demo_order, _item, _reduce
from .models import Invoice, Order
from .services.billing import _due_lines, billing_schedule_refresh
from .services.credit_memos import document_totals

CUT_OVER = "keyed in by hand during the billing cut-over: its INV line was never staged"
HELD = "Demo: Globex disputes its analytics usage"


def _hand_keyed_invoice(order: Order, sku: str) -> Invoice | None:
    """An invoice of ``sku``'s next period, as the billing run would bill it (net of the
    reductions), posted without emission (M5: missing). Under the order's lock, as billing."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    item = _item(order, sku)
    lines, _ = _due_lines(order=order, items=[item], run_date=order.end_date)
    if not lines:
        return None
    line = lines[0]
    currency = str(order.currency)
    invoice = Invoice(
        number=f"INV-{sequence_next(name='INV'):06d}",
        account_id=order.account_id,
        order=order,
        invoice_date=DEMO_TODAY,
        currency=currency,
    )
    document_totals(invoice, [line], currency)
    document_clean(invoice)
    invoice.save()
    line.invoice = invoice
    line.save()
    audit_record(document=invoice, actor=None, action=AuditAction.CREATED, to_state=invoice.status)
    invoice = document_transition(
        document=invoice, name="post", user=None, reason=CUT_OVER, rule="B5", noun="invoices"
    )
    billing_schedule_refresh(order=order)
    return invoice


def _done(analytics: Order) -> bool:
    """This step is the only activated reduction of DEMO-03's analytics seats."""
    return _item(analytics, "ANL-ADD").reduced_quantity > 0


@demo_today()
def close_demo_load() -> dict[str, int]:
    """Collect the month's documents (booked in the open period), then leave the stopped
    and missing billing lines of the module docstring."""
    licences, analytics = _demo_order("DEMO-02"), _demo_order("DEMO-03")
    if period_open_get() is None or licences is None or analytics is None or _done(analytics):
        return {}
    collected = collection_collect(trigger=CollectionRun.Trigger.COMMAND).collected
    seats = _item(analytics, "ANL-ADD")
    line = SoLine.objects.filter(so_line_id=seats.so_line_id).first()
    if line is None:  # revenue has not collected the demo orders
        return {"billing lines collected": collected}
    with transaction.atomic():
        if not line.hold:
            so_line_hold(line=line, actor=None, reason=HELD)
        rule_switch(code="RPRO-00356", enabled=True, actor=None)
        _reduce(
            analytics,
            "ANL-ADD",
            2,
            seats.service_start_date.replace(month=6),
            analytics.end_date,
            comment="Demo: two analytics seats never used, cancelled back to June",
        )
        invoice = _hand_keyed_invoice(licences, "CLOUD-LIC")
    run = collection_collect(trigger=CollectionRun.Trigger.COMMAND)
    return {
        "month-end documents": 1 + (invoice is not None),
        "billing lines collected": collected + run.collected,
        "lines stopped": run.stopped,
    }
