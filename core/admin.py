from django.contrib import admin

from . import admin_thirdparty  # noqa: F401  (auth and Celery admins, hardened)
from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """O8: the audit trail, read-only."""

    list_display = (
        "at",
        "object_repr",
        "action",
        "from_state",
        "to_state",
        "actor_label",
        "comment",
    )
    list_filter = ("action", "content_type", "to_state")
    search_fields = ("object_repr", "actor_label", "comment")
    date_hierarchy = "at"
    list_select_related = ("content_type",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
