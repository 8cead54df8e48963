"""A1–A4: SSP allocation inside a revenue contract.

Ext SSP of a line (A2) comes from its percentage SSP (net list price × SSP_PCT / 100) or
its amount SSP (SSP_PRICE × net quantity-months: quantity × term months less what RORDs
and CM-Rs took off). The contract's net sell price is then spread over its lines in
proportion to their Ext SSP with cumulative rounding (A3), per currency. Lines that are
returned (P2) or carry no SSP stay out of the pool and show no allocation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from djmoney.money import Money

from core.services import currency_exponent

from ..models import SoLine
from .splits import from_minor, split_minor, term_months, to_minor

ALLOCATION_FIELDS = ("ext_ssp", "allocated", "carve")


def _round(value: Fraction, currency: str) -> Decimal:
    quantum = Decimal(1).scaleb(-currency_exponent(currency))
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(quantum, rounding=ROUND_HALF_UP)


def ext_ssp_of(line: SoLine) -> Decimal | None:
    """A2 on the line's net values; None when it has no SSP or is returned."""
    if line.return_flag == "Y":
        return None
    if line.ssp_pct is not None:
        net_list = Fraction(line.ext_lst_prc.amount + line.reduced_lst_prc)
        value = net_list * Fraction(line.ssp_pct) / 100
    elif line.ssp_price is not None:
        months = term_months(line.start_date, line.end_date)
        qty_months = Fraction(line.quantity) * months - Fraction(line.reduced_qty_months)
        value = Fraction(line.ssp_price) * qty_months
    else:
        return None
    return max(_round(value, line.currency), Decimal(0))


def contract_allocate(lines: Iterable[SoLine]) -> list[SoLine]:
    """A3: set Ext SSP, allocated and carve on every line of one contract; returns the lines
    whose values changed."""
    pools: dict[str, list[tuple[SoLine, Decimal]]] = defaultdict(list)
    results: dict[int, tuple] = {}
    lines = list(lines)
    for line in lines:
        ssp = ext_ssp_of(line)
        if ssp is None:
            results[id(line)] = (None, None, None)
        else:
            pools[line.currency].append((line, ssp))
    for currency, pool in pools.items():
        total_ssp = sum(ssp for _, ssp in pool)
        total_esp = sum(line.net_sll_prc for line, _ in pool)
        if not total_ssp:
            for line, ssp in pool:
                results[id(line)] = (ssp, line.net_sll_prc, Decimal(0))
            continue
        exponent = currency_exponent(currency)
        running = Fraction(0)
        cumulative = []
        for index, (_, ssp) in enumerate(pool):
            running += Fraction(ssp)
            share = running / Fraction(total_ssp)
            cumulative.append((index, share.numerator, share.denominator))
        parts = split_minor(to_minor(total_esp, exponent), tuple(cumulative))
        for (line, ssp), (_, minor) in zip(pool, parts, strict=True):
            allocated = from_minor(minor, exponent)
            results[id(line)] = (ssp, allocated, allocated - line.net_sll_prc)
    changed = []
    for line in lines:
        values = results[id(line)]
        new = tuple(None if v is None else Money(v, line.currency) for v in values)
        old = tuple(getattr(line, name) for name in ALLOCATION_FIELDS)
        if _amounts(new) != _amounts(old):
            line.ext_ssp, line.allocated, line.carve = new
            changed.append(line)
    return changed


def _amounts(values) -> tuple:
    return tuple(None if v is None else v.amount for v in values)
