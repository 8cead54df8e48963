from django.apps import AppConfig


class ReturnsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "returns"
    verbose_name = "Returns"

    def ready(self):
        # O5: an order with return orders cannot go back to Draft (the orders app knows
        # nothing of returns: returns adds its own reason to the blockers)
        from orders.services.deactivation import DEACTIVATION_BLOCKERS

        from .services.deactivation import rma_deactivation_block

        if rma_deactivation_block not in DEACTIVATION_BLOCKERS:
            DEACTIVATION_BLOCKERS.append(rma_deactivation_block)
