"""The validation registry (V1–V13) and profile settings (P6): switched by revenue
accountants in the list itself, saved through revenue.services.settings."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html

from core.exceptions import BusinessRuleRefused

from ..forms import ProfileSettingForm
from ..models import ProfileSetting, ValidationRule
from ..services.settings import profile_set, rule_switch
from .common import RevenueAdmin, ServiceListEditMixin


class SettingsAdmin(ServiceListEditMixin, RevenueAdmin):
    """No add, no delete: the registry is seeded; values change through the services."""

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}

    def save_model(self, request, obj, form, change):
        try:
            self.save_through_service(request, obj, form)
        except BusinessRuleRefused as refusal:
            if not self.is_list_save(request):
                raise  # the change page turns it into a message (RevenueAdmin)
            self.message_refusal(request, refusal)
        else:
            self.list_saved(request)

    def save_through_service(self, request, obj, form) -> None:
        raise NotImplementedError


@admin.register(ValidationRule)
class ValidationRuleAdmin(SettingsAdmin):
    list_display = (
        "code",
        "message",
        "line_types",
        "enabled",
        "default",
        "skipped_when_reviewed",
    )
    list_display_links = ("code",)
    list_editable = ("enabled",)
    list_filter = ("enabled",)
    search_fields = ("code", "rule", "message")
    list_per_page = 100
    fields = (
        "code",
        "message",
        "line_types",
        "enabled",
        ("default", "skipped_when_reviewed"),
    )
    readonly_fields = ("code", "message", "line_types", "default", "skipped_when_reviewed")
    list_done_message = (
        "{n} validation rule(s) switched; lines stopped only by a rule now off "
        "are retried at the next collection."
    )

    @admin.display(description="default", ordering="default_enabled")
    def default(self, obj):
        text = "on" if obj.default_enabled else "off"
        if not obj.can_disable:
            return format_html(
                '{} <span class="revenue-lock" title="{}">always on</span>',
                text,
                "Checks mandatory fields: cannot be disabled",
            )
        return text

    @admin.display(description="skipped when RORD reviewed", boolean=True)
    def skipped_when_reviewed(self, obj):
        return obj.skipped_when_reviewed

    def save_through_service(self, request, obj, form) -> None:
        rule_switch(code=obj.code, enabled=form.cleaned_data["enabled"], actor=request.user)


@admin.register(ProfileSetting)
class ProfileSettingAdmin(SettingsAdmin):
    form = ProfileSettingForm
    list_display = ("name", "value", "default", "description")
    list_display_links = ("name",)
    list_editable = ("value",)
    fields = ("name", "value", "default", "allowed", "description")
    readonly_fields = ("name", "default", "allowed", "description")
    list_done_message = "{n} profile setting(s) saved."

    def get_changelist_form(self, request, **kwargs):
        return ProfileSettingForm

    def save_through_service(self, request, obj, form) -> None:
        profile_set(name=obj.name, value=form.cleaned_data["value"], actor=request.user)
