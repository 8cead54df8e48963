from .orders import Order, OrderItem, OrderKind, OrderStatus
from .reference import (
    Account,
    BillingFrequency,
    BillingType,
    ChargeType,
    ContractAction,
    PriceBook,
    PriceBookEntry,
    Product,
    RevenueMethod,
)

__all__ = [
    "Account",
    "BillingFrequency",
    "BillingType",
    "ChargeType",
    "ContractAction",
    "Order",
    "OrderItem",
    "OrderKind",
    "OrderStatus",
    "PriceBook",
    "PriceBookEntry",
    "Product",
    "RevenueMethod",
]
