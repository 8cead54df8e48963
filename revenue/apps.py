from django.apps import AppConfig


class RevenueConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "revenue"

    def ready(self):
        from core.work_queue import work_queue_register

        from .reports.checks import checks_register
        from .work_queue import revenue_work_queue

        checks_register()  # M4: the pre-close checklist's revenue checks
        work_queue_register("revenue", revenue_work_queue, rank=30)  # the home page
