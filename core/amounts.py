"""Amounts as users read them (admin pages, messages, exports): one minus sign, the ASCII
"-" that Money's own text and the charts use, before the number (never a second one, as a
"−" written in front of an amount that is already negative would make), and a zero without
a sign: an amount that rounds to zero, or ``Decimal("-0.00")``, reads "0.00", never
"-0.00" or "−$0.00"."""

from __future__ import annotations

from decimal import Decimal

from djmoney.money import Money

from .services import currency_exponent


def _shown_as_zero(text: str) -> bool:
    return not any(c in "123456789" for c in text)


def amount_text(amount, places: int = 2, *, grouping: bool = True) -> str:
    """1,234.56 / -1,234.56 to ``places`` decimals; a zero without a sign."""
    value = Decimal(getattr(amount, "amount", amount))
    text = f"{abs(value):,.{places}f}" if grouping else f"{abs(value):.{places}f}"
    return text if value >= 0 or _shown_as_zero(text) else f"-{text}"


def money_text(value, *, negate: bool = False) -> str:
    """3,000.00 USD (a Money), in the currency's minor unit (JPY 0 decimals); ``negate``:
    the amount with the other sign (a credit shown as what it takes off)."""
    currency = str(value.currency)
    amount = -value.amount if negate else value.amount
    return f"{amount_text(amount, currency_exponent(currency))} {currency}"


def money_shown(value: Money | None, *, negate: bool = False) -> Money | None:
    """The Money a template prints ("$1,234.50", "-$5.00"): ``negate`` gives it the other
    sign, and an amount that shows as zero loses its sign (Money prints Decimal("-0.00")
    as "-$0.00")."""
    if value is None:
        return None
    amount = -value.amount if negate else value.amount
    places = currency_exponent(str(value.currency))
    if amount.is_signed() and _shown_as_zero(f"{abs(amount):.{places}f}"):  # also -0
        amount = abs(amount)
    shown = Money(amount, value.currency)
    decimal_places = getattr(value, "decimal_places", None)
    if decimal_places is not None:
        shown.decimal_places = decimal_places
    return shown
