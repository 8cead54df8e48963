"""Helpers of the order page's return flow tests: a clerk, URLs, POST data."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db.models import Q
from django.urls import reverse

from orders.models import CreditMemo, Order, OrderKind
from returns.models import ReturnOrder, ReturnProcessing
from tests.factories import UserFactory

PERMS = [
    ("orders", "view_order"),
    ("orders", "change_order"),
    ("orders", "view_orderitem"),
    ("returns", "add_returnorder"),
    ("returns", "view_returnorder"),
    ("returns", "simple_return"),
]


def user_with(perms):
    """A staff user (not a superuser) with these (app, codename) permissions."""
    user = UserFactory(is_staff=True)
    query = Q(pk__in=[])
    for app, codename in perms:
        query |= Q(content_type__app_label=app, codename=codename)
    user.user_permissions.set(Permission.objects.filter(query))
    return user


def change_url(order):
    return reverse("admin:orders_order_change", args=[order.pk])


def url(order, flow):
    return reverse(f"admin:orders_order_{flow}", args=[order.pk])


def post_data(item, quantity="", item_reason="", *, fees=(), **header):
    """The flow form's POST: one product row, the fee rows given, header fields."""
    data = {
        f"quantity_{item.pk}": quantity,
        f"reason_{item.pk}": item_reason,
        "comment": header.pop("comment", ""),
        "then": header.pop("then", "submit"),
        "ensure_refund": header.pop("ensure_refund", "on"),
        "fees-TOTAL_FORMS": str(len(fees)),
        "fees-INITIAL_FORMS": "0",
        "fees-MIN_NUM_FORMS": "0",
        "fees-MAX_NUM_FORMS": "50",
        **header,
    }
    for number, row in enumerate(fees):
        row = {"item": item.pk, "amount_type": "AMOUNT_WITH_TAX", **row}
        data.update({f"fees-{number}-{name}": value for name, value in row.items()})
    return data


def errors_text(response) -> str:
    forms = response.context["forms"]
    parts = [str(forms.form.errors), str(forms.fees.non_form_errors())]
    parts += [str(fee_form.errors) for fee_form in forms.fees.forms]
    return " ".join(parts)


def nothing_created(order):
    assert not ReturnOrder.objects.filter(order=order).exists()
    assert not ReturnProcessing.objects.filter(order=order).exists()
    assert not Order.objects.filter(original_order=order, kind=OrderKind.CHANGE).exists()
    assert not CreditMemo.objects.filter(source_order__original_order=order).exists()
