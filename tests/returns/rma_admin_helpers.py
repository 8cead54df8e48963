"""Helpers of the RMA admin tests."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import Permission
from django.db.models import Q
from django.urls import reverse

from orders.models import CreditMemo, Invoice, Order, OrderKind
from returns.models import LineStatus, LineType, Refund, ReturnProcessing
from returns.services import ReturnQuantities, return_items_process
from tests.factories import UserFactory


def rma_url(rma, view="change", *args):
    return reverse(f"admin:returns_returnorder_{view}", args=[rma.pk, *args])


def product_line(rma, status=LineStatus.OPEN):
    return rma.lines.exclude(type=LineType.FEE).get(status=status)


def documents_count() -> tuple[int, ...]:
    return (
        ReturnProcessing.objects.count(),
        CreditMemo.objects.count(),
        Invoice.objects.count(),
        Order.objects.filter(kind=OrderKind.CHANGE).count(),
        Refund.objects.count(),
    )


def user_with(*codenames, app="returns"):
    user = UserFactory(is_staff=True)
    query = Q(content_type__app_label="orders", codename="view_order")
    for codename in codenames:
        query |= Q(content_type__app_label=app, codename=codename)
    user.user_permissions.set(Permission.objects.filter(query))
    return user


def page(client, url, **kwargs) -> str:
    response = client.get(url, **kwargs)
    assert response.status_code == 200
    return response.content.decode()


def return_two(rma, **kwargs):
    return return_items_process(
        return_order=rma,
        quantities={product_line(rma).pk: ReturnQuantities(returned=Decimal(2))},
        user=None,
        **kwargs,
    )
