"""What every report is made of (close.md conventions): columns, rows, per-currency totals.

Rows are dicts keyed by the JSON keys of close.md; amounts are exact ``Decimal`` in the
row's currency. ``rows`` may be a generator (a download streams it); ``totals`` is called
after the rows were read, so a streamed report computes them on the way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal

from core.services import currency_exponent

TEXT, AMOUNT, COUNT, PERIOD, PERIODS = "text", "amount", "count", "period", "periods"
BASES = ("asc606", "contractual")
BASIS_NAMES = {"asc606": "ASC 606", "contractual": "contractual"}
GROUPINGS = ("contract", "customer", "item", "line")


@dataclass(frozen=True)
class Column:
    """``key`` is the JSON key (CSV header: its upper case); ``kind`` says how to print it.

    A ``periods`` column holds a dict {YYYYMM: amount}; CSV and XLSX spread it into one
    column per period (``subkeys``). ``total_key``: the amount's key in the totals when it
    is not ``key`` (M5 totals ``billing_amount`` as ``billing_total``)."""

    key: str
    label: str
    kind: str = TEXT
    subkeys: tuple[str, ...] = ()
    total_key: str = ""

    @property
    def as_total(self) -> Column:
        """The column as the totals rows hold it."""
        return replace(self, key=self.total_key, total_key="") if self.total_key else self


@dataclass
class Section:
    """A list printed apart from the rows (M5 ``unexplained``): not in the totals."""

    key: str
    title: str
    columns: list[Column]
    rows: Iterable[dict]


@dataclass
class Report:
    kind: str
    title: str
    period: int
    columns: list[Column]
    rows: Iterable[dict]
    totals: Callable[[], list[dict]] | list[dict] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)
    identity: str = ""  # the sentence the figures prove, shown with the report
    basis: str = ""  # M1–M3: asc606 or contractual (carve.md K9); "" for a report without one

    def total_rows(self) -> list[dict]:
        return self.totals() if callable(self.totals) else self.totals

    @property
    def amount_keys(self) -> list[str]:
        return [c.key for c in self.columns if c.kind in (AMOUNT, PERIODS)]


class Totals:
    """Per-currency sums of a report's amount keys, filled as the rows stream past."""

    def __init__(self, keys: Iterable[str], *, periods: Iterable[str] = ()):
        self.keys = list(keys)
        self.periods = list(periods)
        self.by_currency: dict[str, dict] = {}

    def add(self, row: dict) -> dict:
        currency = row["currency"]
        total = self.by_currency.get(currency)
        if total is None:
            total = {"currency": currency, **dict.fromkeys(self.keys, Decimal(0))}
            if self.periods:
                total["periods"] = dict.fromkeys(self.periods, Decimal(0))
            self.by_currency[currency] = total
        for key in self.keys:
            total[key] += row[key]
        for key in self.periods:
            total["periods"][key] += row["periods"][key]
        return row

    def stream(self, rows: Iterable[dict]) -> Iterator[dict]:
        for row in rows:
            yield self.add(row)

    def rows(self) -> list[dict]:
        return [self.by_currency[c] for c in sorted(self.by_currency)]


def amount_text(amount: Decimal, currency: str) -> str:
    """An amount in the currency's minor unit, as a string (2 places for USD, 0 for JPY)."""
    places = currency_exponent(currency)
    value = Decimal(amount).quantize(Decimal(1).scaleb(-places))
    return f"{value + 0:.{places}f}"  # + 0: never "-0.00"


def minor(cents: int) -> Decimal:
    """Integer minor units as the database adds them (×100) back to an exact amount."""
    return Decimal(int(cents)).scaleb(-2)


def period_key(period: int) -> str:
    return f"{period:06d}"
