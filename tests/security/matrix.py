"""Every page of the admin site and the permissions it needs.

The pages are read from the admin site itself: for each registered ModelAdmin its
changelist, add, change, delete and history pages, and every other URL its ``get_urls``
adds. A custom URL must be declared in ``CUSTOM`` below (what it needs, which object it
is opened on, what a permitted user gets): a new page that is not declared fails the
matrix with a message saying so, so no page is ever left untested.

A requirement is a tuple of clauses; each clause is a tuple of permissions any one of
which satisfies it (``(("orders.fulfil_order",), VIEW_ORDER)``: fulfil AND view-or-change
orders). ``NEVER`` is a page the admin refuses to everybody, superusers included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from tests.factories import third_party_admin_objects

NEVER: tuple = (("<nobody>",),)
STANDARD = ("changelist", "add", "change", "delete", "history")
NO_SUCH_TRANSITION = "no-such-transition"

# the admin refuses these to everyone (services own the rows, or documents are voided)
NEVER_ADD = {
    "core.auditevent",
    "orders.billingrun",
    "orders.creditmemo",
    "orders.invoice",
    "orders.orderitem",  # on its order's page (the products inline)
    "orders.reductionorder",
    "returns.refund",
    "returns.returnorder",
    "returns.returnprocessing",
    "revenue.collectionrun",
    "revenue.inboundbatch",
    "revenue.inboundline",
    "revenue.journalentry",
    "revenue.period",
    "revenue.profilesetting",
    "revenue.revenuecontract",
    "revenue.soline",
    "revenue.validationrule",
}
NEVER_DELETE = NEVER_ADD - {"orders.reductionorder", "revenue.inboundline"}


def perm(label: str, action: str) -> str:
    """``perm("orders.order", "view")`` → ``orders.view_order``."""
    app, model = label.split(".")
    return f"{app}.{action}_{model}"


def see(label: str) -> tuple[str, str]:
    """What opens a changelist or a change page: view or change."""
    return (perm(label, "view"), perm(label, "change"))


VIEW_ORDER, VIEW_RMA = see("orders.order"), see("returns.returnorder")


@dataclass(frozen=True)
class Page:
    label: str
    url: str
    requires: tuple
    method: str = "GET"
    data: dict = field(default_factory=dict)
    ok: tuple = (200,)
    denied: tuple = (403,)

    def allowed(self, perms: set[str], superuser: bool) -> bool:
        if self.requires == NEVER:
            return False
        return superuser or all(any(p in perms for p in clause) for clause in self.requires)


# --- the objects pages are opened on ----------------------------------------------------
def superuser_request():
    from django.contrib.auth import get_user_model

    request = RequestFactory().get("/admin/")
    request.user = get_user_model()(is_superuser=True, is_staff=True, is_active=True)
    return request


# preferred objects: deletable ones where the admin deletes (Draft orders O3, uncollected
# lines I4), open ones where actions apply
PREFERRED = {
    "orders.order": {"status": "DRAFT", "items__isnull": False},
    "orders.reductionorder": {"status": "DRAFT"},
    "revenue.inboundline": {"status": "ERROR"},
    "returns.refund": {"status": "PENDING"},
    "returns.returnorder": {"status": "SUBMITTED"},
}


def object_of(model, model_admin):
    label = model._meta.label_lower
    queryset = model_admin.get_queryset(superuser_request()).filter(**PREFERRED.get(label, {}))
    obj = queryset.order_by("pk").first()
    assert obj is not None, f"no {label} to open: add one to the demo data or extra_objects"
    return obj


# --- custom URLs ------------------------------------------------------------------------
def first(queryset, what: str, test: Callable | None = None):
    for obj in queryset.order_by("pk"):
        if test is None or test(obj):
            return obj
    raise AssertionError(f"the demo data has no {what}")


def standard_order(test, what):
    from orders.models import Order

    return first(Order.objects.filter(kind="STANDARD"), what, test).pk


def cancellable_order():
    from orders.admin.reduce import cancellable_items

    return standard_order(
        lambda o: o.status == "ACTIVATED" and cancellable_items(o).exists(),
        "activated order with a recurring product to cancel",
    )


def returnable_or_cancellable():
    return standard_order(
        lambda o: (
            o.status in ("ACTIVATED", "FULFILLED")
            and any(i.available_to_return > 0 for i in o.items.all())
            and any(i.available_to_cancel > 0 for i in o.items.all())
        ),
        "order with units to return and to cancel",
    )


def pk_of(model_path: str, what: str, **filters):
    from django.apps import apps

    return first(apps.get_model(model_path).objects.filter(**filters), what).pk


def activated_order():
    return pk_of("orders.Order", "activated order", kind="STANDARD", status="ACTIVATED")


def rma_line():
    from returns.models import ReturnOrderLine

    line = first(ReturnOrderLine.objects.filter(status="OPEN"), "open RMA line")
    return {"object_id": line.return_order_id, "line_id": line.pk}


def rma_processing():
    from returns.models import ReturnProcessing

    processing = first(
        ReturnProcessing.objects.filter(return_order__isnull=False), "RMA processing"
    )
    return {"object_id": processing.return_order_id, "processing_id": processing.pk}


def obj(model_path: str, what: str, transition: str | None = None, **filters):
    def kwargs():
        values = {"object_id": pk_of(model_path, what, **filters)}
        return values | ({"transition_name": transition} if transition else {})

    return kwargs


def on(pick: Callable[[], int]):
    return lambda: {"object_id": pick()}


@dataclass(frozen=True)
class Custom:
    requires: tuple
    kwargs: Callable[[], dict] = dict
    method: str = "GET"
    data: dict = field(default_factory=dict)
    ok: tuple = (200,)
    denied: tuple = (403,)


# the transition page: 403 without the right to change the document; with it but without
# the transition's permission, a redirect to the document with a message
FSM_DENIED = (302, 403)
CUSTOM: dict[str, Custom] = {
    "auth_user_password_change": Custom(
        (("auth.change_user",),), lambda: {"id": pk_of("auth.User", "user")}
    ),
    "orders_invoice_print": Custom((see("orders.invoice"),), obj("orders.Invoice", "invoice")),
    "orders_invoice_transition": Custom(
        (("orders.void_invoice",), ("orders.change_invoice",)),
        obj("orders.Invoice", "posted invoice", "void", status="POSTED"),
        denied=FSM_DENIED,
    ),
    "orders_creditmemo_print": Custom(
        (see("orders.creditmemo"),), obj("orders.CreditMemo", "credit memo")
    ),
    "orders_creditmemo_transition": Custom(
        (("orders.void_creditmemo",), ("orders.change_creditmemo",)),
        obj("orders.CreditMemo", "issued credit memo", "void", status="ISSUED"),
        denied=FSM_DENIED,
    ),
    "orders_order_fulfil_items": Custom(
        (("orders.fulfil_order",), VIEW_ORDER), on(activated_order)
    ),
    "orders_order_reduce": Custom(
        (("orders.create_reduction_order",), VIEW_ORDER), on(activated_order)
    ),
    "orders_order_cancel_product": Custom(
        (("orders.create_reduction_order",), VIEW_ORDER), on(cancellable_order)
    ),
    "orders_order_bill_now": Custom(
        (("orders.bill_order",), VIEW_ORDER), on(activated_order), method="POST", ok=(302,)
    ),
    "orders_order_create_rma": Custom(
        (("returns.add_returnorder",), VIEW_ORDER), on(returnable_or_cancellable)
    ),
    "orders_order_simple_return": Custom(
        (("returns.simple_return",), VIEW_ORDER), on(returnable_or_cancellable)
    ),
    "orders_order_simple_cancel": Custom(
        (("returns.simple_return",), VIEW_ORDER), on(returnable_or_cancellable)
    ),
    "orders_order_transition": Custom(
        (("orders.deactivate_order",), ("orders.change_order",)),
        lambda: {"object_id": activated_order(), "transition_name": "deactivate"},
        denied=FSM_DENIED,
    ),
    "orders_reductionorder_transition": Custom(
        (("orders.deactivate_order",), ("orders.change_reductionorder",)),
        obj(
            "orders.Order",
            "activated reduction",
            "deactivate",
            kind="REDUCTION",
            status="ACTIVATED",
        ),
        denied=FSM_DENIED,
    ),
    "revenue_inboundline_upload": Custom((("revenue.add_inboundline",),)),
    "revenue_inboundline_export": Custom((see("revenue.inboundline"),)),
    "revenue_journalentry_export": Custom((see("revenue.journalentry"),)),
    **{
        f"revenue_soline_{kind}": Custom(
            (("revenue.manage_schedule",), see("revenue.soline")),
            obj("revenue.SoLine", "SO line"),
        )
        for kind in ("hold", "release", "dates")
    },
    "revenue_period_close": Custom((("revenue.close_period",),)),
    "revenue_period_open": Custom((("revenue.add_period",),)),
    "revenue_period_gl": Custom(
        (see("revenue.period"),), obj("revenue.Period", "closed period", status="CLOSED")
    ),
    # every transition asks first on a page of its own (what it does, a reason)
    "revenue_period_transition": Custom(
        (("revenue.close_period",), ("revenue.change_period",)),
        obj("revenue.Period", "open period", "close", status="OPEN"),
        denied=FSM_DENIED,
    ),
    "revenue_collectionrun_collect": Custom((("revenue.collect_now",),), method="POST", ok=(302,)),
    "revenue_collectionrun_progress": Custom((see("revenue.collectionrun"),)),
    "returns_refund_settle": Custom(
        (("returns.settle_refund",), see("returns.refund")),
        obj("returns.Refund", "pending refund", status="PENDING"),
        method="POST",
        data={"transition": "succeed"},
        ok=(302,),
    ),
    "returns_refund_transition": Custom(
        (("returns.change_refund",), ("returns.settle_refund",)),
        obj("returns.Refund", "pending refund", "fail", status="PENDING"),
        denied=FSM_DENIED,
    ),
    "returns_returnorder_return_items": Custom(
        (("returns.process_returnorder",), VIEW_RMA),
        obj(
            "returns.ReturnOrder",
            "approved RMA with open lines",
            status="APPROVED",
            lines__status="OPEN",
        ),
    ),
    "returns_returnorder_cancel_line": Custom(
        (("returns.cancel_returnorder",), VIEW_RMA), rma_line, method="POST", ok=(302,)
    ),
    "returns_returnorder_ensure_refund": Custom(
        (("returns.process_returnorder",), VIEW_RMA), rma_processing, method="POST", ok=(302,)
    ),
    "returns_returnorder_transition": Custom(
        (("returns.change_returnorder",), ("returns.cancel_returnorder",)),
        obj("returns.ReturnOrder", "submitted RMA", "cancel", status="SUBMITTED"),
        denied=FSM_DENIED,
    ),
}


def custom_pages(name: str) -> list[Page]:
    spec = CUSTOM.get(name)
    assert spec is not None, (
        f"admin URL {name!r} is not in tests/security/matrix.py CUSTOM: declare the "
        "permissions it needs, the object it opens and what a permitted user gets"
    )
    kwargs = spec.kwargs()
    page = Page(
        name,
        reverse(f"admin:{name}", kwargs=kwargs),
        spec.requires,
        spec.method,
        spec.data,
        spec.ok,
        spec.denied,
    )
    pages = [page]
    if "transition_name" in kwargs:  # a made-up transition: refused, never a 500
        bogus = kwargs | {"transition_name": NO_SUCH_TRANSITION}
        url = reverse(f"admin:{name}", kwargs=bogus)
        pages.append(Page(f"{name} ({NO_SUCH_TRANSITION})", url, NEVER, denied=(302, 403, 404)))
    return pages


# --- all of them ------------------------------------------------------------------------
def model_pages(model, model_admin) -> list[Page]:
    label = model._meta.label_lower
    name = f"{model._meta.app_label}_{model._meta.model_name}"
    pk = object_of(model, model_admin).pk
    needs = {
        "changelist": (see(label),),
        "add": NEVER if label in NEVER_ADD else ((perm(label, "add"),),),
        "change": (see(label),),
        "delete": NEVER if label in NEVER_DELETE else ((perm(label, "delete"),),),
        "history": (see(label),),
    }
    pages = [
        Page(
            f"{label} {kind}",
            reverse(f"admin:{name}_{kind}", args=[] if kind in ("changelist", "add") else [pk]),
            needs[kind],
        )
        for kind in STANDARD
    ]
    standard = {f"{name}_{kind}" for kind in STANDARD}
    for pattern in model_admin.get_urls():
        if pattern.name and pattern.name not in standard:
            pages += custom_pages(pattern.name)
    return pages


def admin_pages() -> list[Page]:
    """Every page of every registered ModelAdmin; GETs first, then the POSTs (which may
    change the data the other pages show)."""
    third_party_admin_objects()
    pages = [
        page
        for model, model_admin in admin.site._registry.items()
        for page in model_pages(model, model_admin)
    ]
    return sorted(pages, key=lambda page: page.method != "GET")
