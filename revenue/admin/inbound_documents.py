"""The Inbound screen and the documents its lines came from (I1, I4).

- ``DocumentFilter``: ``?document=ORD-000001[,INV-000002…]``, the lines those documents
  staged (the document pages' "Revenue lines (N)" links open it); read from an index.
- SO_NUM and INV_NUM as links to the order, invoice or credit memo they name
  (``core.document_links``: revenue imports neither orders nor returns), resolved once per
  page: one query per document type, whatever the number of rows.
- ``ServiceLineMixin``: a line staged by the order and returns services is fixed at its
  source. Its page shows every value read-only and says so, with the link; only RORD
  Review Completed stays settable (I5). A POST that tries more is refused by
  ``inbound_line_update`` (I4), which no other path gets past either.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.http import HttpResponseRedirect
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from core.document_links import document_label, document_link, document_urls
from core.exceptions import BusinessRuleRefused

from ..models import InboundLine
from ..models.choices import TranType
from ..selectors_documents import document_numbers, inbound_document_q, line_document
from ..services.inbound import EDITABLE_FIELDS, inbound_line_update, staged_by_service
from .staging import FIXED

REVIEW = "rord_review_completed"  # I5: its own service, not one of EDITABLE_FIELDS
DATA_FIELDS = tuple(name for name in EDITABLE_FIELDS if name != REVIEW)


class DocumentFilter(admin.SimpleListFilter):
    """The lines one or more documents staged: billing lines by INV_NUM, the others by
    SO_NUM (``revenue.selectors_documents``). Listed only while chosen: it is reached from
    the document's page (or typed), the search box finds numbers too."""

    title = "document"
    parameter_name = "document"

    def lookups(self, request, model_admin):
        numbers = document_numbers(self.value() or "")
        return [(self.value(), ", ".join(numbers))] if numbers else []

    def queryset(self, request, queryset):
        numbers = document_numbers(self.value() or "")
        return queryset.filter(inbound_document_q(numbers)) if numbers else queryset


def attach_document_urls(lines, *, user) -> None:
    """Resolve the SO_NUM and INV_NUM of every line at once; each line keeps the map."""
    lines = list(lines)
    urls = document_urls(
        [number for line in lines for number in (line.so_num, line.inv_num) if number],
        user=user,
    )
    for line in lines:
        line._document_urls = urls


def _urls_of(line: InboundLine) -> dict[str, str]:
    urls = getattr(line, "_document_urls", None)
    if urls is None:  # not attached (a page that did not ask): this line alone
        urls = document_urls([line.so_num, line.inv_num])
        line._document_urls = urls
    return urls


class InboundChangeList(ChangeList):
    """After the page's rows are read, their documents' links in one go."""

    def get_results(self, request):
        super().get_results(request)
        attach_document_urls(self.result_list, user=request.user)


class ServiceLineMixin:
    """For InboundLineAdmin: links to the documents, and service-staged lines read-only."""

    def get_changelist(self, request, **kwargs):
        return InboundChangeList

    @admin.display(description="SO_NUM / INV_NUM")
    def documents(self, obj):
        urls = _urls_of(obj)
        numbers = [n for n in (obj.so_num, obj.inv_num) if n]
        if not numbers:
            return "—"
        return format_html_join(
            mark_safe("<br>"), "{}", ((document_link(n, urls),) for n in numbers)
        )

    @admin.display(description="documents")
    def document_links(self, obj):
        """SO_NUM and INV_NUM, each a link when Contra has that document."""
        urls = _urls_of(obj)
        cells = [(n, column) for column, n in (("SO_NUM", obj.so_num), ("INV_NUM", obj.inv_num))]
        if not any(n for n, _ in cells):
            return "—"
        return format_html_join(
            " · ",
            '<span class="quiet">{}</span> {}',
            ((column, document_link(n, urls)) for n, column in cells if n),
        )

    # --- service-staged lines (I4) -------------------------------------------------------
    def is_service_line(self, obj) -> bool:
        return obj is not None and obj.status not in FIXED and staged_by_service(obj)

    def review_editable(self, request, obj) -> bool:
        """I5 on a service line: its review flag is the accountant's, not the line's data."""
        return obj.tran_type == TranType.RORD and request.user.has_perm(
            "revenue.review_inboundline"
        )

    def service_notice(self, request, obj) -> str:
        number = line_document(obj) or obj.batch.filename
        label = document_label(number) or "document"
        also = " except RORD Review Completed" if self.review_editable(request, obj) else ""
        return format_html(
            '<p class="revenue-service-notice" id="inbound-service-notice">Staged by the order '
            "service from {}: change the {} instead. Every value is read-only here{}.</p>",
            document_link(number, _urls_of(obj)),
            label,
            also,
        )

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if not self.is_service_line(obj):
            return readonly
        locked = DATA_FIELDS if self.review_editable(request, obj) else (*DATA_FIELDS, REVIEW)
        return tuple(dict.fromkeys([*readonly, *locked]))

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        if obj is not None and not hasattr(obj, "_document_urls"):
            attach_document_urls([obj], user=request.user)
        if not self.is_service_line(obj) or not fieldsets:
            return fieldsets
        name, options = fieldsets[0]
        notice = self.service_notice(request, obj)
        return [(name, {**options, "description": notice}), *fieldsets[1:]]

    def has_delete_permission(self, request, obj=None):
        if self.is_service_line(obj):
            return False  # I4: its document withdraws it (deactivation, void)
        return super().has_delete_permission(request, obj)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if self.is_service_line(obj) and not self.review_editable(request, obj):
            context.update(
                show_save=False, show_save_and_continue=False, show_save_and_add_another=False
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """A POST to a service line's page that carries a value (or, on a line without a
        review flag to set, any POST) goes to ``inbound_line_update``, which refuses it
        (I4): nothing changes and the message says why."""
        if request.method == "POST" and object_id:
            line = self.get_object(request, object_id)
            if self.is_service_line(line) and self.has_change_permission(request, line):
                posted = {name: request.POST[name] for name in DATA_FIELDS if name in request.POST}
                if posted or not self.review_editable(request, line):
                    try:
                        inbound_line_update(line=line, changes=posted, actor=request.user)
                    except BusinessRuleRefused as refusal:
                        self.message_refusal(request, refusal)
                        return HttpResponseRedirect(request.get_full_path())
        return super().changeform_view(request, object_id, form_url, extra_context)
