"""What the RMA, refund and processing admins share: FSM buttons that go through a
service (an unknown transition is a message, never a 500), typed-value list filters
(no choice list of a million orders), links and badges."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme

from core.amounts import money_shown
from core.parsing import ascii_int
from orders.admin.common import admin_link, badge
from orders.admin.filters import InputFilter, accounts_matching

from ..models import ReturnReason
from ..selectors import return_orders_with_reason

STYLESHEET = "returns/admin.css"


def returns_link(obj, label=None, *, model: str | None = None) -> str:
    """A link to a returns admin page (— for none)."""
    return admin_link(obj, label, model=model, app="returns")


def maybe_url(name: str, *args) -> str:
    try:
        return reverse(f"admin:{name}", args=args)
    except NoReverseMatch:
        return ""


def safe_next(request, fallback: str) -> str:
    """The ``next`` the page posted when it is one of ours, else ``fallback``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def money_cell(value) -> str:
    """A money amount for a list column (right-aligned by the stylesheet); a zero without a
    sign."""
    if value is None:
        return "—"
    return format_html('<span class="contra-num">{}</span>', money_shown(value))


def status_badge_of(obj, field: str = "status") -> str:
    code = getattr(obj, field)
    return badge(code, getattr(obj, f"get_{field}_display")())


def order_number_q(text: str, prefix: str = "order__") -> Q:
    """An order by its number (ORD-000123, any case), or by its last digits (123)."""
    digits = ascii_int(text)  # '²', '٣', 5,000 digits: looked up as typed (no order)
    if digits is not None:
        return Q(**{f"{prefix}number__endswith": f"-{digits:06d}"}) | Q(**{f"{prefix}number": text})
    return Q(**{f"{prefix}number": text.upper()}) | Q(**{f"{prefix}reference": text})


class OrderNumberFilter(InputFilter):
    title = "order"
    parameter_name = "order_number"
    placeholder = "ORD-000123 or 123"

    def queryset(self, request, queryset):
        text = self.text()
        return queryset.filter(order_number_q(text)) if text else queryset


class AccountFilter(InputFilter):
    title = "account"
    parameter_name = "account_q"
    placeholder = "ACC-1004 or a name"

    def queryset(self, request, queryset):
        text = self.text()
        return queryset.filter(account__in=accounts_matching(text)) if text else queryset


class ReasonFilter(admin.SimpleListFilter):
    """The RMA's reason or the reason of any of its lines."""

    title = "reason for return (RMA or line)"
    parameter_name = "reason"

    def lookups(self, request, model_admin):
        return ReturnReason.choices

    def queryset(self, request, queryset):
        value = self.value()
        if value not in ReturnReason.values:
            return queryset
        return return_orders_with_reason(queryset, value)


def processing_summary(processing, *, no_refund_hint: str = "no refund ensured yet") -> str:
    """What a return or cancel made, for the message after it: credit memo (or why there
    is none), fee invoice and refund with their amounts (T8, T9, T13)."""
    from ..models import Refund

    what = processing.return_order or processing.order
    parts = [f"{processing}: {processing.get_kind_display().lower()} on {what}"]
    if processing.credit_memo_id:
        parts.append(f"credit memo {processing.credit_memo.number} ({processing.credited})")
    else:
        parts.append("nothing of it was billed, so no credit memo")
    if processing.fee_invoice_id:
        parts.append(f"fee invoice {processing.fee_invoice.number} ({processing.fees})")
    refund = Refund.objects.filter(processing=processing).first()
    if refund is not None:
        parts.append(f"refund {refund.number} {refund.amount} ({refund.get_status_display()})")
    elif processing.credit_memo_id:
        parts.append(no_refund_hint)
    return "; ".join(parts) + "."
