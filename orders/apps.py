from django.apps import AppConfig


class OrdersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        from revenue.reports.checklist import checklist_register

        from .reports.checks import CHECK, billing_reconcile_check

        # M4 receives M5's check through the registry: revenue never imports orders
        checklist_register(CHECK, billing_reconcile_check)
