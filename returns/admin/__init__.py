"""Returns admin: RMAs, refunds, processings, and the order page's return flows."""

from . import order_flows, processings, refunds, rma  # noqa: F401
