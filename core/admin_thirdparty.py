"""The admins of Django's auth and of django-celery-beat / -results, as Contra serves
them: the same pages, without the 500s their stock versions answer to bad input, and
with the permissions their actions did not declare."""

from __future__ import annotations

from celery.schedules import ParseException
from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.models import Group, User
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import CrontabSchedule, PeriodicTask
from django_celery_results import admin as results_admin
from django_celery_results.models import TaskResult

from .admin_objects import SafeChoicesAdminMixin


def _again(model, admin_class) -> None:
    admin.site.unregister(model)
    admin.site.register(model, admin_class)


class GroupAdmin(SafeChoicesAdminMixin, auth_admin.GroupAdmin):
    """A permission id beyond any key is a field error (SQLite raised OverflowError)."""


class UserAdmin(SafeChoicesAdminMixin, auth_admin.UserAdmin):
    """Groups and permissions as in GroupAdmin."""


class CrontabScheduleAdmin(beat_admin.CrontabScheduleAdmin):
    """The form with an invalid field comes back with its errors: the read-only summary of
    the schedule it shows on top raised celery's ParseException (a 500) on such values."""

    @admin.display(description="human readable")
    def human_readable(self, obj):
        try:
            return obj.human_readable
        except (ParseException, ValueError):
            return "—"


_BEAT = beat_admin.PeriodicTaskAdmin


class PeriodicTaskAdmin(_BEAT):
    """Enabling, disabling, toggling and running periodic tasks changes what the scheduler
    does: django-celery-beat declares no permission for these actions (whoever may see the
    list could run them), here they need the right to change periodic tasks. The library's
    own functions are called unchanged."""

    @admin.action(description=_BEAT.enable_tasks.short_description, permissions=["change"])
    def enable_tasks(self, request, queryset):
        return super().enable_tasks(request, queryset)

    @admin.action(description=_BEAT.disable_tasks.short_description, permissions=["change"])
    def disable_tasks(self, request, queryset):
        return super().disable_tasks(request, queryset)

    @admin.action(description=_BEAT.toggle_tasks.short_description, permissions=["change"])
    def toggle_tasks(self, request, queryset):
        return super().toggle_tasks(request, queryset)

    @admin.action(description=_BEAT.run_tasks.short_description, permissions=["change"])
    def run_tasks(self, request, queryset):
        return super().run_tasks(request, queryset)


class TaskResultAdmin(results_admin.TaskResultAdmin):
    """On the add page the task id is entered (and checked as unique): with every field
    read-only the page saved blank task ids, the second one an IntegrityError (a 500)."""

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        return [f for f in fields if obj is not None or f != "task_id"]


_again(Group, GroupAdmin)
_again(User, UserAdmin)
_again(CrontabSchedule, CrontabScheduleAdmin)
_again(PeriodicTask, PeriodicTaskAdmin)
_again(TaskResult, TaskResultAdmin)
