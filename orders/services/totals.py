"""Order totals from their products."""

from __future__ import annotations

from djmoney.money import Money

from ..models import Order


def order_totals_refresh(*, order: Order) -> Order:
    """Net, tax and gross of an order from its products (Money sums refuse mixed currencies)."""
    currency = str(order.currency)
    net = Money(0, currency)
    tax = Money(0, currency)
    for total, tax_amount, total_cur, tax_cur in order.items.values_list(
        "total", "tax_amount", "total_currency", "tax_amount_currency"
    ):
        net += Money(total, total_cur)
        tax += Money(tax_amount, tax_cur)
    order.net_total, order.tax_total, order.gross_total = net, tax, net + tax
    Order.objects.filter(pk=order.pk).update(
        net_total=net.amount,
        net_total_currency=currency,
        tax_total=tax.amount,
        tax_total_currency=currency,
        gross_total=(net + tax).amount,
        gross_total_currency=currency,
    )
    return order
