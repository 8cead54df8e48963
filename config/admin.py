"""The admin site: Contra's name, the work apps first on the index, and two holes of
Django's stock ModelAdmin closed for every registered admin (ours and third-party ones):
malformed ids in an action's selection and out-of-range dates in a date hierarchy."""

from functools import cache

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models.base import ModelBase

from core.admin_objects import is_key

APP_ORDER = [
    "orders",
    "returns",
    "revenue",
    "core",
    "django_celery_beat",
    "django_celery_results",
    "auth",
]


class ContraAdminSite(admin.AdminSite):
    site_header = "Contra back office"
    site_title = "Contra"
    index_title = "Orders, returns and revenue"
    enable_nav_sidebar = False  # the width goes to the tables

    def get_app_list(self, request, app_label=None):
        rank = {label: i for i, label in enumerate(APP_ORDER)}
        apps = super().get_app_list(request, app_label)
        return sorted(apps, key=lambda app: rank.get(app["app_label"], len(rank)))

    def register(self, model_or_iterable, admin_class=None, **options):
        super().register(model_or_iterable, admin_class, **options)
        one = isinstance(model_or_iterable, ModelBase)
        for model in [model_or_iterable] if one else model_or_iterable:
            model_admin = self._registry[model]
            _selection_guard(model_admin)
            if model_admin.date_hierarchy:
                _date_hierarchy_guard(model_admin)


class DateHierarchyGuard:
    """Django's date hierarchy turns ``?at__year=9999`` (the next year is out of range) or
    ``?at__year=<twenty digits>`` into an uncaught ValueError / OverflowError, a 500; here
    it is a bad lookup parameter like any other (the list's ``?e=1`` page)."""

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (ValueError, OverflowError) as problem:
            raise IncorrectLookupParameters(problem) from problem


@cache
def _guarded(changelist: type) -> type:
    return type(changelist.__name__, (DateHierarchyGuard, changelist), {})


def _date_hierarchy_guard(model_admin) -> None:
    """Every ModelAdmin with a date hierarchy, ours and third-party ones alike."""
    get_changelist = model_admin.get_changelist

    def guarded(request, **kwargs):
        return _guarded(get_changelist(request, **kwargs))

    model_admin.get_changelist = guarded


def _selection_guard(model_admin) -> None:
    """Every ModelAdmin: an action posted with a selected id that is no id of the model
    ('abc', '1\\x00', thirty digits) is refused with a message; Django filtered the
    queryset with it and raised (a 500)."""
    response_action = model_admin.response_action
    key = model_admin.model._meta.pk

    def guarded(request, queryset):
        selected = request.POST.getlist(ACTION_CHECKBOX_NAME)
        wrong = next((value for value in selected if not is_key(key, value)), None)
        if wrong is not None:
            model_admin.message_user(
                request,
                f"{wrong[:20]!r} is not the id of any {key.model._meta.verbose_name}: "
                "the action was not run.",
                messages.ERROR,
            )
            return None  # the list again, with the message
        return response_action(request, queryset)

    model_admin.response_action = guarded
