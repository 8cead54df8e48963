from django.contrib import admin

from . import admin_thirdparty  # noqa: F401  (auth and Celery admins, hardened)
from .models import AuditEvent
from .templatetags.contra_history import facts, state_label


class ToStateFilter(admin.SimpleListFilter):
    """The status an event moved a document to, in words ("ACTIVATED" → "Activated")."""

    title = "to status"
    parameter_name = "to_state"

    def lookups(self, request, model_admin):
        states = (
            AuditEvent.objects.exclude(to_state="")
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
    list_filter = ("action", "content_type", ToStateFilter)
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
