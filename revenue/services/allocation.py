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
from functools import lru_cache

from djmoney.money import Money

from core.services import currency_exponent

from ..models import SoLine
from .splits import from_minor, round_share, term_months, to_minor

ALLOCATION_FIELDS = ("ext_ssp", "allocated", "carve")
# what A2–A4 read and write of a line (attribute names): the other lines of a contract a
# batch changed are read with these columns only
ALLOCATION_COLUMNS = (
    "id",
    "so_line_id",
    "contract_id",
    "return_flag",
    "ssp_pct",
    "ssp_price",
    "quantity",
    "reduced_qty_months",
    "start_date",
    "end_date",
    "ext_lst_prc",
    "ext_lst_prc_currency",
    "reduced_lst_prc",
    "ext_sll_prc",
    "ext_sll_prc_currency",
    "rord_sll_prc",
    "cmr_sll_prc",
    *(f"{name}{suffix}" for name in ALLOCATION_FIELDS for suffix in ("", "_currency")),
)


def _quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-currency_exponent(currency))


def _amount(line: SoLine, name: str) -> Decimal | None:
    """A money field's amount read from the instance, without the Money object django-money's
    descriptor builds on every read (allocation reads three per line of every contract)."""
    value = line.__dict__[name]
    return value.amount if isinstance(value, Money) else value


def _set_amount(line: SoLine, name: str, amount: Decimal | None, currency: str) -> None:
    """What django-money's descriptor stores for a Money value: the amount and its currency
    column (saved by ``instances_update`` with the ``_currency`` column, see processing)."""
    line.__dict__[name] = amount
    if amount is not None:  # as the descriptor: None leaves the currency column alone
        line.__dict__[f"{name}_currency"] = currency


def ext_ssp_of(line: SoLine) -> Decimal | None:
    """A2 on the line's net values; None when it has no SSP or is returned."""
    if line.return_flag == "Y":
        return None
    if line.ssp_pct is not None:
        net_list = _amount(line, "ext_lst_prc") + line.reduced_lst_prc
        value = net_list * Decimal(line.ssp_pct) / 100
    elif line.ssp_price is not None:
        months = _term(line.start_date, line.end_date)
        qty_months = Fraction(line.quantity) * months - Fraction(line.reduced_qty_months)
        exact = Fraction(line.ssp_price) * qty_months
        value = Decimal(exact.numerator) / Decimal(exact.denominator)
    else:
        return None
    return max(value.quantize(_quantum(line.currency), rounding=ROUND_HALF_UP), Decimal(0))


_term = lru_cache(maxsize=4096)(term_months)


def contract_allocate(lines: Iterable[SoLine]) -> list[SoLine]:
    """A3: set Ext SSP, allocated and carve on every line of one contract, in SO_LINE_ID
    order; returns the lines whose values changed. Integer minor units:
    allocated_i = round(Σ ESP × Σ≤i SSP / Σ SSP) − round(Σ ESP × Σ<i SSP / Σ SSP), half up."""
    pools: dict[str, list[tuple[SoLine, Decimal, Decimal]]] = defaultdict(list)
    results: dict[int, tuple] = {}
    # one order whatever order the batch met the lines in: cumulative rounding then gives
    # the odd cent to the same line every time the contract is recomputed
    lines = sorted(lines, key=lambda line: line.so_line_id)
    for line in lines:
        ssp = ext_ssp_of(line)
        if ssp is None:
            results[id(line)] = (None, None, None)
        else:
            pools[line.currency].append((line, ssp, line.net_sll_prc))
    for currency, pool in pools.items():
        exponent = currency_exponent(currency)
        total_ssp = sum(to_minor(ssp, exponent) for _, ssp, _ in pool)
        total_esp = to_minor(sum(esp for _, _, esp in pool), exponent)
        if not total_ssp:
            for line, ssp, esp in pool:
                results[id(line)] = (ssp, esp, Decimal(0))
            continue
        running = previous = 0
        for line, ssp, esp in pool:
            running += to_minor(ssp, exponent)
            upto = round_share(total_esp, running, total_ssp)
            allocated = from_minor(upto - previous, exponent)
            previous = upto
            results[id(line)] = (ssp, allocated, allocated - esp)
    changed = []
    for line in lines:
        values = results[id(line)]
        if tuple(_amount(line, name) for name in ALLOCATION_FIELDS) != values:
            currency = line.currency
            for name, value in zip(ALLOCATION_FIELDS, values, strict=True):
                _set_amount(line, name, value, currency)
            changed.append(line)
    return changed
