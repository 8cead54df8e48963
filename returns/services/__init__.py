"""Returns services (T1–T15): every write of the returns app."""

from .documents import documents_plan
from .fees import FeeInput, fee_gross
from .processing import ReturnQuantities, return_items_process
from .refunds import REFUND_TRANSITIONS, refund_ensure, refund_transition
from .rma import (
    ReturnLineInput,
    return_line_cancel,
    return_order_create,
    return_order_transition,
)
from .simple import SimpleLineInput, simple_cancel_submit, simple_return_submit

__all__ = [
    "REFUND_TRANSITIONS",
    "FeeInput",
    "ReturnLineInput",
    "ReturnQuantities",
    "SimpleLineInput",
    "documents_plan",
    "fee_gross",
    "refund_ensure",
    "refund_transition",
    "return_items_process",
    "return_line_cancel",
    "return_order_create",
    "return_order_transition",
    "simple_cancel_submit",
    "simple_return_submit",
]
