"""An order's transitions, each handed to the service of its kind: standard and change
orders (O2, O5, O6) or reduction orders and cancellations (R7, R9, R11). What the admin
buttons, the demo data and the API call."""

from __future__ import annotations

from core.exceptions import BusinessRuleRefused

from ..models import Order, OrderKind
from .orders import order_fulfil, standard_order_activate, standard_order_deactivate
from .reductions import reduction_order_activate, reduction_order_deactivate


def order_activate(*, order: Order, user, comment: str = "") -> Order:
    """Activate an order of any kind through its kind's service."""
    if order.kind == OrderKind.REDUCTION:
        return reduction_order_activate(reduction=order, user=user, comment=comment)
    return standard_order_activate(order=order, user=user, comment=comment)


def order_deactivate(*, order: Order, user, comment: str = "") -> Order:
    """Back to Draft through its kind's service."""
    if order.kind == OrderKind.REDUCTION:
        return reduction_order_deactivate(reduction=order, user=user, comment=comment)
    return standard_order_deactivate(order=order, user=user, comment=comment)


TRANSITION_SERVICES = {
    "activate": order_activate,
    "deactivate": order_deactivate,
    "fulfil": order_fulfil,
}


def order_transition(*, order: Order, name: str, user, comment: str = "") -> Order:
    """Run a named transition through its service."""
    service = TRANSITION_SERVICES.get(name)
    if service is None:
        raise BusinessRuleRefused(rule="O1", field="status", message=f"there is no action {name!r}")
    return service(order=order, user=user, comment=comment)
