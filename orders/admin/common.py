"""Shared pieces of the orders admin: refusals as messages, badges, links, history."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.http import HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from core.amounts import money_text
from core.exceptions import BusinessRuleRefused
from core.fsm_admin import message_refusal, refusals_of
from core.models import AuditAction, AuditEvent

from ..models import CreditMemo, Invoice, OrderItem
from ..services import order_delete, order_transition

__all__ = ["message_refusal", "order_transition_service", "refusals_of"]


def order_transition_service(*, obj, name: str, user, comment: str = ""):
    """An order's status button: the service of its kind (``order_transition``)."""
    return order_transition(order=obj, name=name, user=user, comment=comment)


class OrderServicesAdminMixin:
    """What the order and reduction order admins share: deletion only while Draft (O3),
    through the service; a refusal is a message."""

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not obj.is_draft:
            return False  # O3
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        order_delete(order=obj, user=request.user)

    def get_deleted_objects(self, objs, request):
        """An order's products go with it (``order_delete``): the right to delete the
        order is enough, though products are never deleted on their own page."""
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        perms_needed.discard(OrderItem._meta.verbose_name)
        return deleted, counts, perms_needed, protected

    def delete_queryset(self, request, queryset):
        for order in queryset:
            try:
                order_delete(order=order, user=request.user)
            except BusinessRuleRefused as refusal:
                message_refusal(self, request, refusal, prefix=f"{order}: ")

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except BusinessRuleRefused as refusal:  # its status changed since the page was shown
            message_refusal(self, request, refusal)
            return HttpResponseRedirect(request.get_full_path())


def form_refusal(form, error: BusinessRuleRefused, aliases: dict | None = None) -> None:
    """Each refusal on the field it names (``quantity_12``), else on the whole form."""
    for problem in refusals_of(error):
        field = (aliases or {}).get(problem.field, problem.field)
        field = field if field in form.fields else None
        form.add_error(field, str(problem))


def badge(code: str, label: str, title: str = "") -> str:
    return format_html(
        '<span class="contra-badge {}" title="{}">{}</span>', code, title or label, label
    )


def dates_text(start, end) -> str:
    """2026-01-01 – 2026-12-31; one date alone for one-time products; — for none."""
    if not start and not end:
        return "—"
    return " – ".join(f"{day:%Y-%m-%d}" for day in (start, end) if day)


def status_badge(obj) -> str:
    return badge(obj.status, obj.get_status_display())


def admin_link(obj, label=None, *, model: str | None = None, app: str = "orders") -> str:
    if obj is None:
        return "—"
    name = model or obj._meta.model_name
    url = reverse(f"admin:{app}_{name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, obj if label is None else label)


def order_link(order) -> str:
    """Reduction orders open in their own admin, the others in the order admin."""
    if order is None:
        return "—"
    model = "reductionorder" if order.kind == "REDUCTION" else "order"
    return admin_link(order, model=model)


def revenue_batch_link(batch_id) -> str:
    """The inbound batch a document's activation / posting staged in revenue."""
    if not batch_id:
        return "—"
    try:
        url = reverse("admin:revenue_inboundbatch_change", args=[batch_id])
    except NoReverseMatch:  # revenue admin not installed
        return f"batch {batch_id}"
    return format_html('<a href="{}">Inbound batch {}</a>', url, batch_id)


def audit_events(obj, *models):
    """The document's audit events, oldest first. Services may record a reduction order
    under the proxy or the concrete model: both are read."""
    types = ContentType.objects.get_for_models(
        *(models or (type(obj),)), for_concrete_models=False
    ).values()
    return AuditEvent.objects.filter(content_type__in=list(types), object_id=str(obj.pk)).order_by(
        "at", "id"
    )


class ServiceOnlyChangeMixin:
    """Documents that change only through their services: every field read-only, the
    change form posts only to run transitions (no *Save* buttons, no direct save)."""

    def get_readonly_fields(self, request, obj=None):
        names = [f.name for f in self.model._meta.fields]
        return tuple(dict.fromkeys([*super().get_readonly_fields(request, obj), *names]))

    def save_model(self, request, obj, form, change):
        """Nothing to save: the services own these rows (a transition follows)."""

    def save_related(self, request, form, formsets, change):
        """Read-only inlines: nothing to save."""

    def construct_change_message(self, request, form, formsets, add=False):
        return []

    def log_change(self, request, obj, message):
        """The audit trail records what the services did."""

    def has_add_permission(self, request, obj=None):
        return False

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context.update(
            show_save=False,
            show_save_and_continue=False,
            show_save_and_add_another=False,
        )
        return super().render_change_form(request, context, add, change, form_url, obj)


def money_sentences(dry) -> list[str]:
    """What a transition's dry run (core.lifecycle.transition_dry_run) does with money: the
    credit memos it issues and the invoices it posts or voids, each with its amount and
    the periods it covers."""
    sentences = []
    kinds = (
        (CreditMemo, AuditAction.ISSUE, "issues credit memo"),
        (CreditMemo, AuditAction.VOID, "voids credit memo"),
        (Invoice, AuditAction.POST, "posts invoice"),
        (Invoice, AuditAction.VOID, "voids invoice"),
    )
    for model, action, verb in kinds:
        ct = ContentType.objects.get_for_model(model)
        ids = [
            int(e.object_id)
            for e in dry.events
            if e.content_type_id == ct.pk and e.action == action
        ]
        for document in model.objects.filter(pk__in=ids).order_by("pk"):
            lines = list(document.lines.all())
            span = ""
            if lines:
                start = min(line.period_start for line in lines)
                end = max(line.period_end for line in lines)
                span = f" for {start:%Y-%m-%d} – {end:%Y-%m-%d}"
            count = len(lines)
            sentences.append(
                f"{verb} {document.number} of {money_text(document.gross_total)}{span} "
                f"({count} line{'s' if count != 1 else ''})"
            )
    return sentences


class MoneyPreviewMixin:
    """For a document admin (core.fsm_admin.TransitionAdminMixin): its confirmation pages
    say which credit memos and invoices a transition issues, posts or voids, and for how
    much."""

    def describe_money(self, dry, obj, name: str) -> list[str]:
        return money_sentences(dry)
