from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "returns"
    verbose_name = "Returns"

    def ready(self):
        from core.work_queue import work_queue_register
        from orders.services.credit_memos import VOID_BLOCKERS
        from orders.services.deactivation import DEACTIVATION_BLOCKERS

        from .document_links import document_links_register_returns
        from .services.deactivation import refund_void_block, rma_deactivation_block
        from .work_queue import returns_work_queue

        # O5: an order with return orders cannot go back to Draft (the orders app knows
        # nothing of returns: returns adds its own reason to the blockers)
        # B5, B6: nor can a credit memo or fee invoice a live refund was computed from
        if rma_deactivation_block not in DEACTIVATION_BLOCKERS:
            DEACTIVATION_BLOCKERS.append(rma_deactivation_block)
        if refund_void_block not in VOID_BLOCKERS:
            VOID_BLOCKERS.append(refund_void_block)
        work_queue_register("returns", returns_work_queue, rank=20)  # the home page
        document_links_register_returns()  # RMA and return numbers as links
