"""Shared pieces of the orders admin: refusals as messages, badges, links, history."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.http import HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from core.exceptions import BusinessRuleRefused, BusinessRulesRefused
from core.fsm_admin import FSMTransitionGuardMixin
from core.models import AuditEvent

from ..services import order_delete, order_transition


def refusals_of(error: BusinessRuleRefused) -> list[BusinessRuleRefused]:
    return error.refusals if isinstance(error, BusinessRulesRefused) else [error]


def message_refusal(model_admin, request, error: BusinessRuleRefused, prefix: str = "") -> None:
    for problem in refusals_of(error):
        model_admin.message_user(request, f"{prefix}{problem}", level=messages.ERROR)


class OrderServicesAdminMixin(FSMTransitionGuardMixin):
    """What the order and reduction order admins share: deletion only while Draft (O3) and
    the FSM buttons, both through the services; a refusal is a message naming its rule."""

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not obj.is_draft:
            return False  # O3
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        order_delete(order=obj, user=request.user)

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

    def _apply_fsm_transition(self, *, obj, transition_name, request, kwargs=None):
        """The services decide (reduction orders go to their own, R7, R9, R11)."""
        comment = (kwargs or {}).get("comment", "")
        try:
            order_transition(order=obj, name=transition_name, user=request.user, comment=comment)
        except BusinessRuleRefused as refusal:
            message_refusal(self, request, refusal)
            return False
        self.message_user(request, f"{obj}: {transition_name} done.", level=messages.SUCCESS)
        return True


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
