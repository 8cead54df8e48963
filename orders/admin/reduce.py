"""The order page's reduction side (R1, R2, R12, C1-C2) and *Bill now* (B4).

Views mixed into OrderAdmin: *Create reduction order…*, *Cancel order product…* and
*Bill now*. Every write goes through a service; a refusal names its rule."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from core.admin_objects import object_or_404
from core.exceptions import BusinessRuleRefused

from ..forms import CancelProductForm, ReductionForm
from ..models import (
    ChargeType,
    ContractAction,
    CreditMemo,
    Invoice,
    Order,
    OrderKind,
    OrderStatus,
)
from .common import form_refusal, message_refusal

REDUCIBLE = (OrderStatus.ACTIVATED, OrderStatus.FULFILLED)  # R2
REDUCE_PERMISSION = "orders.create_reduction_order"  # R1
BILL_PERMISSION = "orders.bill_order"
# the cancellation service's field names → the cancel form's fields
CANCEL_FIELDS = {"revised_order_item": "item", "quantity": "item", "original_item": "item"}


def is_reducible(order: Order) -> bool:
    return order.kind == OrderKind.STANDARD and order.status in REDUCIBLE


def cancellable_items(order: Order):
    """Recurring products of the order not cancelled yet (C1)."""
    return (
        order.items.filter(charge_type=ChargeType.RECURRING, terminated_date__isnull=True)
        .exclude(revisions__contract_action=ContractAction.CANCEL)
        .select_related("product")
        .order_by("line_number")
    )


def billing_run_message(run) -> tuple[int, str]:
    text = (
        f"Billing run {run.pk} for {run.run_date}: {run.orders_seen} order(s) seen, "
        f"{run.invoices_created} invoice(s) with {run.lines_created} line(s) created"
    )
    if run.refused:
        text += f", {run.refused} order(s) refused"
    level = messages.WARNING if run.refused else messages.SUCCESS
    return level, text + "."


def billing_run_notes(run) -> list[str]:
    notes = run.messages if isinstance(run.messages, list) else [run.messages]
    return [str(note.get("message", note) if isinstance(note, dict) else note) for note in notes]


def bill_orders(model_admin, request, orders) -> None:
    """B4: *Bill now* for some orders, through ``billing_run_execute``."""
    from ..services.billing import billing_run_execute

    try:
        run = billing_run_execute(
            run_date=timezone.localdate(), trigger="ADMIN", user=request.user, orders=orders
        )
    except BusinessRuleRefused as refusal:
        message_refusal(model_admin, request, refusal)
        return
    level, text = billing_run_message(run)
    model_admin.message_user(request, text, level=level)
    for note in billing_run_notes(run)[:10]:
        model_admin.message_user(request, note, level=messages.WARNING)


def net_rows(order: Order) -> list:
    """R12: sold, reduced, pending, net and available per product (Helper A's selector)."""
    from ..selectors import order_net_quantities

    return list(order_net_quantities(order=order))


def reduction_rows(order: Order) -> list[Order]:
    """R12: the order's reduction orders with totals and ``is_cancellation``."""
    from ..selectors import order_reductions

    return list(order_reductions(order=order))


def order_panels(request, order: Order) -> dict:
    """Context of the order page: buttons (R1, R2, B4) and the R12 / billing panels."""
    can_reduce = request.user.has_perm(REDUCE_PERMISSION)
    context = {
        "can_reduce": can_reduce and is_reducible(order),
        "can_cancel_product": can_reduce
        and is_reducible(order)
        and cancellable_items(order).exists(),
        "can_bill": request.user.has_perm(BILL_PERMISSION) and is_reducible(order),
    }
    if order.kind == OrderKind.STANDARD and order.status != OrderStatus.DRAFT:
        context["reductions"] = reduction_rows(order)
        context["net_rows"] = net_rows(order)
    context["invoices"] = list(Invoice.objects.filter(order=order).order_by("invoice_date", "id"))
    context["credit_memos"] = list(
        CreditMemo.objects.filter(order=order)
        .select_related("source_order")
        .order_by("memo_date", "id")
    )
    return context


class OrderReductionViewsMixin:
    """URLs ``<id>/reduce/``, ``<id>/cancel-product/`` and ``<id>/bill-now/``."""

    def reduction_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/reduce/", view(self.reduce_view), name="orders_order_reduce"),
            path(
                "<path:object_id>/cancel-product/",
                view(self.cancel_product_view),
                name="orders_order_cancel_product",
            ),
            path(
                "<path:object_id>/bill-now/", view(self.bill_now_view), name="orders_order_bill_now"
            ),
        ]

    def _reducible_order(self, request, object_id, permission=REDUCE_PERMISSION):
        """R1: 403 without the permission; R2: a message when the order can't be reduced."""
        if not request.user.has_perm(permission):
            raise PermissionDenied
        order = object_or_404(Order, object_id, kind=OrderKind.STANDARD)
        if not self.has_view_or_change_permission(request, order):
            raise PermissionDenied
        if is_reducible(order):
            return order, None
        what = "billed" if permission == BILL_PERMISSION else "reduced"  # B4, R2
        self.message_user(
            request,
            f"Only Activated or Fulfilled standard orders can be {what} ({order} is "
            f"{order.get_status_display()}).",
            level=messages.ERROR,
        )
        return order, HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))

    def _order_page(self, request, order, template, title, **context):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": order,
            "title": title,
            **context,
        }
        return TemplateResponse(request, template, context)

    def reduce_view(self, request, object_id):
        """R1-R7: enter quantities (and dates for recurring products) to reduce."""
        from ..services.reductions import ReductionLine, reduction_order_create

        order, refused = self._reducible_order(request, object_id)
        if refused:
            return refused
        items = list(order.items.select_related("product").order_by("line_number"))
        form = ReductionForm(request.POST or None, items=items)
        if request.method == "POST" and form.is_valid():
            try:
                reduction = reduction_order_create(
                    original=order,
                    lines=form.lines(ReductionLine),
                    user=request.user,
                    effective_date=form.cleaned_data.get("effective_date"),
                    comment=form.cleaned_data.get("comment") or "",
                )
            except BusinessRuleRefused as refusal:
                form_refusal(form, refusal)
            else:
                self.message_user(
                    request,
                    f"{reduction} created in Draft for {order}: check it, then activate it.",
                    level=messages.SUCCESS,
                )
                url = reverse("admin:orders_reductionorder_change", args=[reduction.pk])
                return HttpResponseRedirect(url)
        bound = {name: form[name] for name in form.fields}
        rows = [
            {
                "item": item,
                "quantity": bound[f"quantity_{item.pk}"],
                "start": bound.get(f"start_date_{item.pk}"),
                "end": bound.get(f"end_date_{item.pk}"),
            }
            for item in items
        ]
        return self._order_page(
            request,
            order,
            "admin/orders/order/reduce.html",
            f"Create a reduction order for {order}",
            form=form,
            rows=rows,
        )

    def cancel_product_view(self, request, object_id):
        """C1, C2: end a recurring product on a terminated date (a CANCEL reduction)."""
        from ..services.cancellations import cancellation_create

        order, refused = self._reducible_order(request, object_id)
        if refused:
            return refused
        change_url = reverse("admin:orders_order_change", args=[order.pk])
        items = list(cancellable_items(order))
        if not items:
            self.message_user(
                request,
                f"{order} has no recurring product left to cancel.",
                level=messages.ERROR,
            )
            return HttpResponseRedirect(change_url)
        form = CancelProductForm(request.POST or None, items=items)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                cancellation = cancellation_create(
                    original_item=form.chosen_item,
                    terminated_date=data["terminated_date"],
                    user=request.user,
                    activate=data["activate"],
                    comment=data.get("comment") or "",
                )
            except BusinessRuleRefused as refusal:
                form_refusal(form, refusal, aliases=CANCEL_FIELDS)
            else:
                state = cancellation.get_status_display()
                self.message_user(
                    request,
                    f"{cancellation} ({state}) cancels {form.chosen_item.so_line_id} "
                    f"after {data['terminated_date']}.",
                    level=messages.SUCCESS,
                )
                url = reverse("admin:orders_reductionorder_change", args=[cancellation.pk])
                return HttpResponseRedirect(url)
        return self._order_page(
            request,
            order,
            "admin/orders/order/cancel_product.html",
            f"Cancel an order product of {order}",
            form=form,
            items=items,
        )

    def bill_now_view(self, request, object_id):
        """B4: bill this order's due periods now (POST only)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        order, refused = self._reducible_order(request, object_id, permission=BILL_PERMISSION)
        if refused:
            return refused
        bill_orders(self, request, Order.objects.filter(pk=order.pk))
        return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))
