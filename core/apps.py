from django.apps import AppConfig


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = "Audit and shared services"

    def ready(self):
        from . import lookups  # noqa: F401  (registers ``__any``)
