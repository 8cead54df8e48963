from .items import order_item_delete, order_item_problems, order_item_save
from .orders import (
    DEACTIVATION_BLOCKERS,
    order_delete,
    order_fulfil,
    order_items_fulfil,
    order_save,
)
from .totals import order_totals_refresh
from .transitions import order_activate, order_deactivate, order_transition

__all__ = [
    "DEACTIVATION_BLOCKERS",
    "order_activate",
    "order_deactivate",
    "order_delete",
    "order_fulfil",
    "order_item_delete",
    "order_item_problems",
    "order_item_save",
    "order_items_fulfil",
    "order_save",
    "order_totals_refresh",
    "order_transition",
]
