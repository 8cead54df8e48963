"""The admin site: Contra's name, and the work apps first on the index."""

from django.contrib import admin

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
