"""The order page's return flows: *Create RMA…* (T1–T5), *Simple return…* (T12),
*Simple cancel…* (T13) and the *Returns* panel (T2, T10, T13 figures per product, the
order's RMAs and its simple returns and cancels).

Registered as an order page extension: the orders app never imports returns. The views
are thin: the forms parse, the services decide, a refusal lands on the field it names."""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse

from core.exceptions import BusinessRuleRefused
from orders.admin.extensions import ObjectTool, Panel, order_page_extension_register
from orders.models import Order, OrderKind, OrderStatus, Product

from ..forms import RMA, SIMPLE_CANCEL, SIMPLE_RETURN, Flow, ReturnFlowForms
from ..models import ProcessingKind, ReturnOrder, ReturnProcessing
from ..services import (
    ReturnLineInput,
    SimpleLineInput,
    return_order_create,
    simple_cancel_submit,
    simple_return_submit,
)
from .base import STYLESHEET, processing_summary

RMA_PERMISSION = "returns.add_returnorder"
SIMPLE_PERMISSION = "returns.simple_return"
RETURNABLE = (OrderStatus.ACTIVATED, OrderStatus.FULFILLED)  # T1
TOOLS = {  # flow: (permission, object tool, its tooltip)
    RMA: (RMA_PERMISSION, "Create RMA…", "The customer sends units back"),
    SIMPLE_RETURN: (SIMPLE_PERMISSION, "Simple return…", "Return fulfilled units now"),
    SIMPLE_CANCEL: (SIMPLE_PERMISSION, "Simple cancel…", "Cancel units not fulfilled yet"),
}
SIMPLE_KINDS = (ProcessingKind.SIMPLE_RETURN, ProcessingKind.SIMPLE_CANCEL)


def admin_url(name: str, *args) -> str:
    """The admin URL, or "" while that admin is not installed."""
    try:
        return reverse(f"admin:{name}", args=args)
    except NoReverseMatch:
        return ""


def url_name(flow: Flow) -> str:
    """orders_order_create_rma, orders_order_simple_return, orders_order_simple_cancel."""
    return f"orders_order_{flow.key.replace('-', '_')}"


def order_url(order: Order) -> str:
    return reverse("admin:orders_order_change", args=[order.pk])


def is_returnable(order: Order) -> bool:
    return order.kind == OrderKind.STANDARD and order.status in RETURNABLE


def order_items(order: Order) -> list:
    """The order's products, read once per request (tools and panel share them)."""
    cached = getattr(order, "_returns_items", None)
    if cached is None:
        cached = list(order.items.select_related("product").order_by("line_number"))
        for item in cached:
            item.order = order  # so_line_id without a query per product
        order._returns_items = cached
    return cached


# --- the order page: tools and panel -----------------------------------------------------
class ReturnsOrderPage:
    """The returns extension of the order page."""

    stylesheets = (STYLESHEET, "returns/order_flows.css")

    def urls(self, model_admin) -> list:
        view = model_admin.admin_site.admin_view
        return [
            path(
                f"<path:object_id>/{flow.key}/",
                view(partial(flow_view, model_admin, flow=flow)),
                name=url_name(flow),
            )
            for flow in TOOLS
        ]

    def object_tools(self, request, order) -> list[ObjectTool]:
        """Shown when the user may use the flow and it has units to work on."""
        if not is_returnable(order):
            return []
        items = order_items(order)
        returnable = any(item.available_to_return > 0 for item in items)
        offered = {
            RMA: returnable,
            SIMPLE_RETURN: returnable,
            SIMPLE_CANCEL: any(item.available_to_cancel > 0 for item in items),
        }
        return [
            ObjectTool(
                label=label,
                url=reverse(f"admin:{url_name(flow)}", args=[order.pk]),
                id=flow.key,
                title=title,
            )
            for flow, (permission, label, title) in TOOLS.items()
            if offered[flow] and request.user.has_perm(permission)
        ]

    def panels(self, request, order) -> list[Panel]:
        if order.kind != OrderKind.STANDARD or order.status == OrderStatus.DRAFT:
            return []
        return [Panel("admin/returns/order/returns_panel.html", returns_panel(order))]


def returns_panel(order: Order) -> dict:
    """Per product its T2 / T13 figures; the order's RMAs and simple returns and cancels.
    Three queries whatever their number."""
    rmas = list(ReturnOrder.objects.filter(order=order).order_by("created_at", "id"))
    for rma in rmas:
        rma.admin_url = admin_url("returns_returnorder_change", rma.pk)
    processings = list(
        ReturnProcessing.objects.filter(order=order, kind__in=SIMPLE_KINDS)
        .select_related("change_order", "fee_change_order", "credit_memo", "fee_invoice", "refund")
        .order_by("created_at", "id")
    )
    for processing in processings:
        processing.admin_url = admin_url("returns_returnprocessing_change", processing.pk)
        processing.the_refund = getattr(processing, "refund", None)
        if processing.the_refund is not None:
            processing.refund_url = admin_url("returns_refund_change", processing.the_refund.pk)
    return {"items": order_items(order), "rmas": rmas, "processings": processings}


# --- the three forms -------------------------------------------------------------------
def flow_view(model_admin, request, object_id, *, flow: Flow):
    """GET: the form; POST: the service, then the RMA's page or the order page."""
    if not request.user.has_perm(TOOLS[flow][0]):
        raise PermissionDenied
    order = model_admin.get_object(request, object_id)
    if order is None or order.kind != OrderKind.STANDARD:
        raise Http404("No standard order with this id")
    if not model_admin.has_view_or_change_permission(request, order):
        raise PermissionDenied
    refusal = _cannot_start(order, flow)
    if refusal:
        model_admin.message_user(request, refusal, level=messages.ERROR)
        return HttpResponseRedirect(order_url(order))
    items = [item for item in order_items(order) if flow.offers(item)]
    fee_products = list(Product.objects.filter(is_fee=True, is_active=True).order_by("name"))
    forms = ReturnFlowForms(
        request.POST if request.method == "POST" else None,
        items=items,
        flow=flow,
        fee_products=fee_products,
    )
    if request.method == "POST":
        done = _submit(model_admin, request, order, flow, forms)
        if done is not None:
            return done
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "original": order,
        "title": f"{flow.title}: {order}",
        "flow": flow,
        "forms": forms,
        "form": forms.form,
        "fees": forms.fees,
        "rows": forms.rows(),
        "header_fields": forms.header_fields(),
        "fee_products": fee_products,
        "stylesheets": ReturnsOrderPage.stylesheets,
    }
    return TemplateResponse(request, "admin/returns/order/flow_form.html", context)


def _cannot_start(order: Order, flow: Flow) -> str:
    if order.status not in RETURNABLE:  # T1
        return (
            f"Only Activated or Fulfilled orders can be returned or canceled ({order} "
            f"is {order.get_status_display()})."
        )
    if not any(flow.available(item) > 0 for item in order_items(order)):
        what = "not fulfilled yet" if flow is SIMPLE_CANCEL else "available to return"
        return f"{order} has no units {what}."
    return ""


def _submit(model_admin, request, order, flow, forms):
    """Call the flow's service; None when refused (the errors are on the forms). A fee
    row that did not parse stops it, once the other rows' fee rules are shown."""
    is_rma = flow is RMA
    if not forms.form.is_valid():
        return None
    lines = forms.lines(ReturnLineInput if is_rma else SimpleLineInput)
    if lines is None:
        return None
    data = forms.form.cleaned_data
    comment = data.get("comment") or ""
    try:
        if is_rma:
            rma = return_order_create(
                order=order,
                lines=lines,
                user=request.user,
                reason=data.get("reason") or "",
                comment=comment,
                submit=data.get("then") != "draft",
            )
        else:
            service = simple_cancel_submit if flow is SIMPLE_CANCEL else simple_return_submit
            processing = service(
                order=order,
                lines=lines,
                user=request.user,
                comment=comment,
                ensure_refund=bool(data.get("ensure_refund")),
            )
    except BusinessRuleRefused as refusal:
        forms.refuse(refusal)
        return None
    if is_rma:
        model_admin.message_user(request, rma_message(rma), level=messages.SUCCESS)
        url = admin_url("returns_returnorder_change", rma.pk) or order_url(order)
        return HttpResponseRedirect(url)
    model_admin.message_user(request, processing_summary(processing), level=messages.SUCCESS)
    return HttpResponseRedirect(order_url(order))


def rma_message(rma: ReturnOrder) -> str:
    lines = list(rma.lines.all())
    fees = [line for line in lines if line.is_fee]
    text = (
        f"{rma} created ({rma.get_status_display()}) for {rma.order}: "
        f"{len(lines) - len(fees)} product line(s)"
    )
    if fees:
        total = sum((line.fee_total for line in fees[1:]), fees[0].fee_total)
        text += f", {len(fees)} fee(s) totalling {total}"
    return text + "."


order_page_extension_register(ReturnsOrderPage())
