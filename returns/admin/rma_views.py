"""The RMA page's actions: *Return items…* (T6–T10), *Cancel line* (T10, T11) and
*Ensure refund* (T9). Thin: the form parses, the services decide, a refusal lands next
to the line it names (``returned_<line pk>``) or on the page as a message."""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from core.exceptions import BusinessRuleRefused
from orders.admin.common import message_refusal, refusals_of

from ..models import Refund, ReturnOrder, ReturnOrderLine, ReturnProcessing
from ..selectors import ProductLineGroup, return_order_open_groups
from ..services import ReturnQuantities, refund_ensure, return_items_process, return_line_cancel
from .base import processing_summary

NO_REFUND_HINT = "no refund yet: use Ensure refund below"

ZERO = Decimal("0")
PERMISSIONS = {
    "process": "returns.process_returnorder",
    "cancel": "returns.cancel_returnorder",
    "settle": "returns.settle_refund",
}
QUANTITY_KEY = re.compile(r"^(returned|to_cancel|rejected)_(\d{1,12})$", re.ASCII)
KINDS = ("returned", "to_cancel", "rejected")
MAX_POSTED_LINES = 200


def quantity_field(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=4,
        widget=forms.NumberInput(attrs={"class": "contra-qty", "step": "any", "min": "0"}),
    )


class ReturnItemsForm(forms.Form):
    """T6: per product line the quantity returned, to cancel and rejected; the fees
    follow (T7). Fields ``returned_<pk>``, ``to_cancel_<pk>``, ``rejected_<pk>`` for the
    open lines, and for any other line id posted (a stale page) so the service says what
    is wrong with it."""

    comment = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Kept on the processing and in the RMA's history.",
    )
    ensure_refund = forms.BooleanField(
        label="Ensure the refund now",
        required=False,
        initial=True,
        help_text="Refund = credit memo − fee invoice, created Pending.",
    )

    def __init__(self, data=None, *, groups: list[ProductLineGroup]):
        super().__init__(data)
        self.groups = groups
        self.line_ids = [group.line.pk for group in groups]
        self.posted_ids: list[int] = []
        if data is not None:
            for key in data:
                match = QUANTITY_KEY.match(key)
                if match and int(match.group(2)) not in self.posted_ids:
                    self.posted_ids.append(int(match.group(2)))
        self.too_many = len(self.posted_ids) > MAX_POSTED_LINES
        for pk in dict.fromkeys([*self.line_ids, *self.posted_ids[:MAX_POSTED_LINES]]):
            self.fields[f"returned_{pk}"] = quantity_field("Returned")
            self.fields[f"to_cancel_{pk}"] = quantity_field("To cancel")
            self.fields[f"rejected_{pk}"] = quantity_field("Rejected")

    def clean(self):
        data = super().clean()
        if self.too_many:
            raise forms.ValidationError("Too many lines posted: reload the page.")
        return data

    def quantities(self) -> dict[int, ReturnQuantities]:
        """The lines with a quantity: blank counts as 0, a line all blank is left out."""
        result = {}
        for name in self.fields:
            match = QUANTITY_KEY.match(name)
            if not match or match.group(1) != "returned":
                continue
            pk = int(match.group(2))
            values = [self.cleaned_data.get(f"{kind}_{pk}") for kind in KINDS]
            if all(value in (None, ZERO) for value in values):
                continue
            returned, to_cancel, rejected = (value or ZERO for value in values)
            result[pk] = ReturnQuantities(returned=returned, to_cancel=to_cancel, rejected=rejected)
        return result

    def refuse(self, error: BusinessRuleRefused, shown: set[str]) -> None:
        """Each refusal next to the line it names when that line is on the page."""
        for problem in refusals_of(error):
            field = problem.field if problem.field in shown else None
            self.add_error(field, str(problem))


class ReturnOrderViewsMixin:
    """URLs ``<id>/return-items/``, ``<id>/lines/<line>/cancel/`` and
    ``<id>/processings/<processing>/ensure-refund/`` of the RMA admin."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/return-items/",
                view(self.return_items_view),
                name="returns_returnorder_return_items",
            ),
            path(
                "<path:object_id>/lines/<int:line_id>/cancel/",
                view(require_POST(self.cancel_line_view)),
                name="returns_returnorder_cancel_line",
            ),
            path(
                "<path:object_id>/processings/<int:processing_id>/ensure-refund/",
                view(require_POST(self.ensure_refund_view)),
                name="returns_returnorder_ensure_refund",
            ),
            *super().get_urls(),
        ]

    def _rma(self, request, object_id, permission: str) -> ReturnOrder:
        if not request.user.has_perm(PERMISSIONS[permission]):
            raise PermissionDenied
        rma = self.get_object(request, object_id)
        if rma is None:
            raise Http404("No return order with this id")
        if not self.has_view_or_change_permission(request, rma):
            raise PermissionDenied
        return rma

    def _page(self, rma: ReturnOrder, anchor: str = "") -> HttpResponseRedirect:
        url = reverse("admin:returns_returnorder_change", args=[rma.pk])
        return HttpResponseRedirect(f"{url}#{anchor}" if anchor else url)

    # --- Return items… (T6–T10) -----------------------------------------------------
    def return_items_view(self, request, object_id):
        rma = self._rma(request, object_id, "process")
        groups = return_order_open_groups(return_order=rma)
        if request.method != "POST" and (rma.status != "APPROVED" or not groups):
            why = (
                f"{rma} is {rma.get_status_display()}: items are returned only on an "
                "Approved return order"
                if rma.status != "APPROVED"
                else f"{rma} has no open product line left to return"
            )
            self.message_user(request, f"{why}.", level=messages.ERROR)
            return self._page(rma)
        form = ReturnItemsForm(request.POST if request.method == "POST" else None, groups=groups)
        stale = self._stale_lines(rma, form)
        on_page = [*form.line_ids, *(line.pk for line in stale)]
        shown = {f"{kind}_{pk}" for pk in on_page for kind in KINDS}
        if request.method == "POST" and form.is_valid():
            try:
                processing = return_items_process(
                    return_order=rma,
                    quantities=form.quantities(),
                    user=request.user,
                    comment=form.cleaned_data["comment"],
                    ensure_refund=form.cleaned_data["ensure_refund"],
                )
            except BusinessRuleRefused as refusal:
                form.refuse(refusal, shown)
            else:
                self.message_user(
                    request,
                    processing_summary(
                        processing, no_refund_hint="no refund yet: use Ensure refund below"
                    ),
                    level=messages.SUCCESS,
                )
                return self._page(rma, "rma-processings")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": rma,
            "title": f"Return items of {rma}",
            "form": form,
            "rows": item_rows(form, groups, stale),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/returns/returnorder/return_items.html", context)

    @staticmethod
    def _stale_lines(rma: ReturnOrder, form: ReturnItemsForm) -> list[ReturnOrderLine]:
        """Lines of this RMA the page posted that are no longer open (someone processed
        or canceled them since): shown with their status and the service's refusal."""
        others = [pk for pk in form.posted_ids[:MAX_POSTED_LINES] if pk not in form.line_ids]
        if not others:
            return []
        lines = list(
            ReturnOrderLine.objects.filter(return_order=rma, pk__in=others)
            .select_related("product", "order_item__order")
            .order_by("line_number")
        )
        for line in lines:
            line.return_order = rma
        return lines

    # --- Cancel line (T10, T11) -----------------------------------------------------
    def cancel_line_view(self, request, object_id, line_id):
        rma = self._rma(request, object_id, "cancel")
        line = ReturnOrderLine.objects.filter(pk=line_id, return_order=rma).first()
        if line is None:
            self.message_user(request, f"Line id {line_id} is not on {rma}.", level=messages.ERROR)
            return self._page(rma, "rma-lines")
        line.return_order = rma
        try:
            line = return_line_cancel(
                line=line, user=request.user, comment=request.POST.get("comment", "")[:2000]
            )
        except BusinessRuleRefused as refusal:
            message_refusal(self, request, refusal)
        else:
            self.message_user(
                request,
                f"Line {line} canceled with its open fees: {line.quantity_canceled.normalize():f} "
                "unit(s) given back to the order product's available to return.",
                level=messages.SUCCESS,
            )
        return self._page(rma, "rma-lines")

    # --- Ensure refund (T9) ---------------------------------------------------------
    def ensure_refund_view(self, request, object_id, processing_id):
        rma = self._rma(request, object_id, "process")
        processing = ReturnProcessing.objects.filter(pk=processing_id, return_order=rma).first()
        if processing is None:
            self.message_user(
                request,
                f"Processing id {processing_id} is not one of {rma}'s.",
                level=messages.ERROR,
            )
            return self._page(rma, "rma-processings")
        had = Refund.objects.filter(processing=processing).exists()
        try:
            refund = refund_ensure(processing=processing, user=request.user)
        except BusinessRuleRefused as refusal:
            message_refusal(self, request, refusal, prefix=f"{processing}: ")
        else:
            state = "was already ensured" if had else "ensured"
            self.message_user(
                request,
                f"{processing}: refund {refund} of {refund.amount} {state} "
                f"({refund.get_status_display()}).",
                level=messages.SUCCESS,
            )
        return self._page(rma, "rma-processings")


def item_rows(form: ReturnItemsForm, groups, stale) -> list[dict]:
    """The form's table: each open product line with its inputs and its fees, then the
    stale lines a page posted (read-only, with their refusal)."""
    rows = []
    for group in groups:
        pk = group.line.pk
        rows.append(
            {
                "line": group.line,
                "fees": group.fees,
                "open": True,
                "fields": [form[f"{kind}_{pk}"] for kind in KINDS],
                "errors": any(form[f"{kind}_{pk}"].errors for kind in KINDS),
            }
        )
    for line in stale:
        pk = line.pk
        rows.append(
            {
                "line": line,
                "fees": [],
                "open": False,
                "fields": [form[f"{kind}_{pk}"] for kind in KINDS],
                "errors": any(form[f"{kind}_{pk}"].errors for kind in KINDS),
            }
        )
    return rows
