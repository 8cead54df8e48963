from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from . import admin_thirdparty  # noqa: F401  (auth and Celery admins, hardened)
from .models import AuditEvent
from .templatetags.contra_history import facts, state_label

SEE_ACTIONS = ("view_", "change_")


def viewable_content_types(user) -> QuerySet[ContentType] | None:
    """O8: the content types of the models ``user`` may view or change, as a queryset to
    use as a subquery (``content_type_id__in``); None for a superuser (every model).
    The rights come from ``get_all_permissions`` (cached on the user for the request, as
    the admin's own checks read them): no query of its own."""
    if user.is_active and user.is_superuser:
        return None
    models = set()
    for name in user.get_all_permissions():
        app_label, _, codename = name.partition(".")
        for action in SEE_ACTIONS:
            if codename.startswith(action):
                models.add((app_label, codename.removeprefix(action)))
    if not models:
        return ContentType.objects.none()
    wanted = Q()
    for app_label, model in sorted(models):
        wanted |= Q(app_label=app_label, model=model)
    return ContentType.objects.filter(wanted).values("pk")


class ContentTypeFilter(admin.RelatedFieldListFilter):
    """The models an event can be about: only those the user may view."""

    def field_choices(self, field, request, model_admin):
        allowed = viewable_content_types(request.user)
        queryset = ContentType.objects.all()
        if allowed is not None:
            queryset = queryset.filter(pk__in=allowed)
        return [(ct.pk, str(ct)) for ct in queryset.order_by("app_label", "model")]


class ToStateFilter(admin.SimpleListFilter):
    """The status an event moved a document to, in words ("ACTIVATED" → "Activated")."""

    title = "to status"
    parameter_name = "to_state"

    def lookups(self, request, model_admin):
        states = (
            model_admin.get_queryset(request)
            .exclude(to_state="")
            .order_by("to_state")
            .values_list("to_state", flat=True)
            .distinct()
        )
        return [(state, state.replace("_", " ").capitalize()) for state in states]

    def queryset(self, request, queryset):
        return queryset.filter(to_state=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """O8: the audit trail, read-only."""

    list_display = (
        "at",
        "object_repr",
        "action",
        "status_change",
        "actor_label",
        "comment",
    )
    list_filter = ("action", ("content_type", ContentTypeFilter), ToStateFilter)
    search_fields = ("object_repr", "actor_label", "comment")
    date_hierarchy = "at"
    list_select_related = ("content_type",)
    # the event in words: statuses as their labels, its facts as "name: value" (not a dict)
    exclude = ("data", "from_state", "to_state")
    readonly_fields = ("status_change", "details")

    @admin.display(description="status")
    def status_change(self, obj):
        if not obj.to_state:
            return "—"
        before = state_label(obj, obj.from_state) or "—"
        return f"{before} → {state_label(obj, obj.to_state)}"

    @admin.display(description="details")
    def details(self, obj):
        rows = facts(obj.data)
        return "; ".join(f"{name}: {text}" if name else text for name, text in rows) or "—"

    def get_queryset(self, request):
        """O8: only the events of documents whose model the user may view (or change)."""
        queryset = super().get_queryset(request)
        allowed = viewable_content_types(request.user)
        return queryset if allowed is None else queryset.filter(content_type_id__in=allowed)

    def get_object(self, request, object_id, from_field=None):
        """Without the right to view audit events: 403, as for any page. With it, an event
        of a model the user may not view is not found (404), as an unknown id."""
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            if not self.has_view_or_change_permission(request):
                raise PermissionDenied
            raise Http404("There is no audit event with this number that you may see.")
        return obj

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
