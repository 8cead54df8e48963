"""Shared pieces of the revenue admin: badges, amounts, refusals, history and CSV downloads.

The admin is thin: it reads through selectors and writes through services only.
"""

from __future__ import annotations

import io

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG, ChangeList
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from core.amounts import amount_text as core_amount_text
from core.exceptions import BusinessRuleRefused, BusinessRulesRefused
from core.models import AuditEvent
from core.services import currency_exponent
from core.spreadsheet import row_safe

from ..selectors import export_write

MORE_AFTER = 6


def refusals_of(error: BusinessRuleRefused) -> list[BusinessRuleRefused]:
    return error.refusals if isinstance(error, BusinessRulesRefused) else [error]


def badge(code: str, label: str, title: str = "") -> str:
    return format_html(
        '<span class="contra-badge {}" title="{}">{}</span>', code, title or label, label
    )


def amount_text(amount, currency: str | None = None) -> str:
    """1,234.56 with the currency's minor unit (JPY 0 decimals); '' for None."""
    if amount is None:
        return ""
    if hasattr(amount, "currency") and currency is None:
        currency = str(amount.currency)
    places = currency_exponent(currency) if currency else 2
    return core_amount_text(amount, places)


def money_html(amount, currency: str | None = None, *, code: bool = True) -> str:
    if amount is None:
        return "—"
    if hasattr(amount, "currency") and currency is None:
        currency = str(amount.currency)
    text = amount_text(amount, currency)
    negative = text.startswith("-")  # not a zero that rounds from below
    return format_html(
        '<span class="contra-num{}">{}{}</span>',
        " revenue-negative" if negative else "",
        text,
        format_html(' <span class="revenue-cur">{}</span>', currency) if code and currency else "",
    )


def audit_events(obj):
    """Core audit events of one document, oldest first (the history panel)."""
    return AuditEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=str(obj.pk),
    ).order_by("at", "id")


def change_link(obj, label=None, *, model: str | None = None) -> str:
    if obj is None:
        return "—"
    name = model or obj._meta.model_name
    url = reverse(f"admin:revenue_{name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label if label is not None else obj)


def changelist_rows(model_admin, request):
    """What the change list shows for this querystring (its export), or, for a parameter
    the list refuses (unknown, malformed), a redirect to the list saying so (``?e=1``, as
    Django's change list answers) instead of a 500."""
    try:
        return model_admin.get_changelist_instance(request).get_queryset(request)
    except IncorrectLookupParameters:
        opts = model_admin.model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        return HttpResponseRedirect(f"{url}?{ERROR_FLAG}=1")


def csv_download(*, kind: str, rows, filename: str) -> HttpResponse:
    """An interchange export (selectors.export_write) as a CSV download: the same columns,
    with text a spreadsheet would run as a formula neutralised (``core.spreadsheet``;
    ``revenue_export`` itself stays exact)."""
    out = io.StringIO()
    export_write(kind=kind, fmt="csv", out=out, rows=(row_safe(row) for row in rows))
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class RevenueAdmin(admin.ModelAdmin):
    """Common base: the revenue stylesheet, refusals as messages, the history panel."""

    list_per_page = 50

    class Media:
        css = {"all": ["revenue/revenue.css"]}

    def message_refusal(self, request, error: BusinessRuleRefused, prefix: str = "") -> None:
        for problem in refusals_of(error):
            self.message_user(request, f"{prefix}{problem}", level=messages.ERROR)

    def message_refusals(self, request, problems: list[str], *, what: str) -> None:
        """Many refused rows in one message: the first few named, then a count."""
        if not problems:
            return
        shown = "; ".join(problems[:MORE_AFTER])
        more = len(problems) - MORE_AFTER
        tail = f"; and {more} more" if more > 0 else ""
        self.message_user(
            request, f"{len(problems)} {what} refused: {shown}{tail}", level=messages.ERROR
        )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A rule broken on save (the services check it) comes back as a message."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except BusinessRuleRefused as refusal:
            self.message_refusal(request, refusal)
        except ValidationError as invalid:
            for message in invalid.messages:
                self.message_user(request, message, level=messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def history_context(self, request, object_id) -> dict:
        if not object_id:
            return {}
        obj = self.get_object(request, object_id)
        return {"audit_events": audit_events(obj) if obj is not None else []}

    def admin_page(self, request, template: str, context: dict) -> TemplateResponse:
        """A page of this admin (confirmations, uploads) with the admin's chrome."""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "media": self.media,
            **context,
        }
        return TemplateResponse(request, template, context)


class ServiceListEditMixin:
    """``list_editable`` saved row by row through a service: a refused row is a message,
    and the success line counts only the rows the service accepted."""

    list_done_message = "{n} row(s) saved."

    @staticmethod
    def is_list_save(request) -> bool:
        return (
            request.method == "POST"
            and "_save" in request.POST
            and ("form-TOTAL_FORMS" in request.POST)
        )

    def list_saved(self, request) -> None:
        request._revenue_saved = getattr(request, "_revenue_saved", 0) + 1

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        if level == messages.SUCCESS and self.is_list_save(request):
            saved = getattr(request, "_revenue_saved", 0)
            if not saved:
                return
            message = self.list_done_message.format(n=saved)
        super().message_user(request, message, level, *args, **kwargs)


class ReadOnlyAdmin(RevenueAdmin):
    """Nothing is added, changed or deleted here: the services own these rows."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class AttachingChangeList(ChangeList):
    """After the page's rows are read, ``model_admin.attach_page(rows)`` adds per-row facts
    in one query for the whole page (instead of one per row)."""

    def get_results(self, request):
        super().get_results(request)
        rows = list(self.result_list)  # fills the page queryset's cache: rendered as is
        self.model_admin.attach_page(rows)
