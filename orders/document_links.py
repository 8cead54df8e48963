"""The orders app's part of ``core.document_links``: order, reduction order, change order,
invoice and credit memo numbers (as the services number them: ORD-000001, RO-…, CO-…,
INV-…, CM-…) resolved to their admin pages, one query per table for a whole page of
numbers. Registered in ``OrdersConfig.ready``."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from core.document_links import document_links_register

from .models import CreditMemo, Invoice, Order, OrderKind


def may_open(user, model: str, app: str = "orders") -> bool:
    """The admin's own rule for a change page: view or change permission (None: no check)."""
    if user is None:
        return True
    return user.has_perm(f"{app}.view_{model}") or user.has_perm(f"{app}.change_{model}")


def _url(name: str, pk) -> str | None:
    try:
        return reverse(f"admin:{name}_change", args=[pk])
    except NoReverseMatch:  # the admin of that model is not installed
        return None


def order_urls(numbers: list[str], user) -> dict[str, str]:
    """Orders, change orders (the order admin) and reduction orders (their own admin)."""
    pages = {
        OrderKind.REDUCTION: ("orders_reductionorder", may_open(user, "reductionorder")),
        OrderKind.STANDARD: ("orders_order", may_open(user, "order")),
        OrderKind.CHANGE: ("orders_order", may_open(user, "order")),
    }
    if not any(allowed for _, allowed in pages.values()):
        return {}
    urls = {}
    rows = Order.objects.filter(number__in=numbers).values_list("number", "pk", "kind")
    for number, pk, kind in rows:
        name, allowed = pages.get(kind, ("orders_order", False))
        if allowed and (url := _url(name, pk)):
            urls[number] = url
    return urls


def _numbered(model, name: str):
    def resolve(numbers: list[str], user) -> dict[str, str]:
        if not may_open(user, model._meta.model_name):
            return {}
        rows = model.objects.filter(number__in=numbers).values_list("number", "pk")
        return {number: url for number, pk in rows if (url := _url(name, pk))}

    resolve.__name__ = f"{model._meta.model_name}_urls"
    return resolve


invoice_urls = _numbered(Invoice, "orders_invoice")
credit_memo_urls = _numbered(CreditMemo, "orders_creditmemo")


def document_links_register_orders() -> None:
    """The prefixes of ``orders.services`` (NUMBER_PREFIX, billing, credit memos)."""
    document_links_register("ORD", order_urls, label="order")
    document_links_register("RO", order_urls, label="reduction order")
    document_links_register("CO", order_urls, label="change order")
    document_links_register("INV", invoice_urls, label="invoice")
    document_links_register("CM", credit_memo_urls, label="credit memo")
