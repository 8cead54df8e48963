"""The returns app's part of ``core.document_links``: RMA, return processing and refund
numbers (RMA-000001, RP-…, RF-…) resolved to their admin pages, one query per table for a
whole page of numbers. Registered in ``ReturnsConfig.ready``."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse

from core.document_links import document_links_register
from orders.document_links import may_open

from .models import Refund, ReturnOrder, ReturnProcessing


def _numbered(model):
    name = f"admin:returns_{model._meta.model_name}_change"

    def resolve(numbers: list[str], user) -> dict[str, str]:
        if not may_open(user, model._meta.model_name, app="returns"):
            return {}
        urls = {}
        for number, pk in model.objects.filter(number__in=numbers).values_list("number", "pk"):
            try:
                urls[number] = reverse(name, args=[pk])
            except NoReverseMatch:  # the admin of that model is not installed
                break
        return urls

    resolve.__name__ = f"{model._meta.model_name}_urls"
    return resolve


return_order_urls = _numbered(ReturnOrder)
return_processing_urls = _numbered(ReturnProcessing)
refund_urls = _numbered(Refund)


def document_links_register_returns() -> None:
    """The prefixes of ``returns.services`` (rma, documents, refunds)."""
    document_links_register("RMA", return_order_urls, label="return order")
    document_links_register("RP", return_processing_urls, label="return")
    document_links_register("RF", refund_urls, label="refund")
