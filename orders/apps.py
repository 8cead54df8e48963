from django.apps import AppConfig


class OrdersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        from core.work_queue import work_queue_register
        from revenue.reports.checklist import checklist_register

        from .document_links import document_links_register_orders
        from .reports.checks import CHECK, billing_reconcile_check
        from .work_queue import orders_work_queue

        # M4 receives M5's check through the registry: revenue never imports orders
        checklist_register(CHECK, billing_reconcile_check)
        work_queue_register("orders", orders_work_queue, rank=10)  # the home page
        document_links_register_orders()  # revenue's SO_NUM / INV_NUM as links
