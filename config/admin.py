"""The admin site: Contra's name, the work apps first on the index, and two holes of
Django's stock ModelAdmin closed for every registered admin (ours and third-party ones):
malformed ids in an action's selection and out-of-range dates in a date hierarchy."""

from functools import cache, partial

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models.base import ModelBase
from django.urls import path, reverse

from core import admin_report_views as reports
from core.admin_objects import is_key
from core.admin_reports import admin_reports_for
from core.widgets import native_dates
from core.work_queue import work_queue_areas

APP_ORDER = [
    "orders",
    "returns",
    "revenue",
    "reports",  # the registered reports (core.admin_reports), after the work apps
    "administration",
]
# internals, under one "Administration" heading after the work: users and groups, report
# downloads, Celery's results and beat's schedules (solar events, clocked, crontabs …)
ADMINISTRATION = ("auth", "core", "django_celery_beat", "django_celery_results")


class ContraAdminSite(admin.AdminSite):
    site_header = "Contra back office"
    site_title = "Contra"
    index_title = "Orders, returns and revenue"
    enable_nav_sidebar = False  # the width goes to the tables

    def index(self, request, extra_context=None):
        """The home page: the work queue first (``core.work_queue``), then the apps."""
        extra_context = {"work_queue": work_queue_areas(request), **(extra_context or {})}
        return super().index(request, extra_context)

    def get_app_list(self, request, app_label=None):
        rank = {label: i for i, label in enumerate(APP_ORDER)}
        apps = super().get_app_list(request, app_label)
        if app_label is None:
            apps = self.administration_merged(apps) + self.reports_app(request)
        return sorted(apps, key=lambda app: rank.get(app["app_label"], len(rank)))

    def administration_merged(self, apps: list[dict]) -> list[dict]:
        """The internal apps' models under one "Administration" heading."""
        internal = [app for app in apps if app["app_label"] in ADMINISTRATION]
        if not internal:
            return apps
        models = [model for app in internal for model in app["models"]]
        merged = {
            "name": "Administration",
            "app_label": "administration",
            "app_url": reverse("admin:index", current_app=self.name) + "#administration",
            "has_module_perms": True,
            "models": sorted(models, key=lambda model: str(model["name"])),
        }
        return [app for app in apps if app["app_label"] not in ADMINISTRATION] + [merged]

    def reports_app(self, request) -> list[dict]:
        """The "Reports" heading: every registered report the user may open."""
        shown = admin_reports_for(request.user)
        if not shown:
            return []
        return [
            {
                "name": "Reports",
                "app_label": "reports",
                "app_url": reverse("admin:reports", current_app=self.name),
                "has_module_perms": True,
                "models": [
                    {
                        "model": None,
                        "name": report.title,
                        "object_name": report.slug,
                        "perms": {"view": True, "add": False, "change": False, "delete": False},
                        "admin_url": reverse(
                            "admin:report", args=[report.slug], current_app=self.name
                        ),
                        "add_url": None,
                        "view_only": True,
                    }
                    for report in shown
                ],
            }
        ]

    def get_urls(self):
        """The reports' pages (core.admin_report_views) before the site's own."""
        view = self.admin_view
        return [
            path("reports/", view(partial(reports.reports_index_view, self)), name="reports"),
            path(
                "reports/exports/<int:export_id>/",
                view(partial(reports.export_view, self)),
                name="report_export",
            ),
            path(
                "reports/exports/<int:export_id>/file/",
                view(partial(reports.export_file_view, self)),
                name="report_export_file",
            ),
            path("reports/<slug:slug>/", view(partial(reports.report_view, self)), name="report"),
            path(
                "reports/<slug:slug>/download/",
                view(partial(reports.download_view, self)),
                name="report_download",
            ),
            *super().get_urls(),
        ]

    def register(self, model_or_iterable, admin_class=None, **options):
        super().register(model_or_iterable, admin_class, **options)
        one = isinstance(model_or_iterable, ModelBase)
        for model in [model_or_iterable] if one else model_or_iterable:
            model_admin = self._registry[model]
            native_dates(model_admin)  # one date input everywhere (core.widgets)
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
