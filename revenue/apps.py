from django.apps import AppConfig


class RevenueConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "revenue"

    def ready(self):
        from .reports.checks import checks_register

        checks_register()  # M4: the pre-close checklist's revenue checks
