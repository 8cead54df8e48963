"""How a carve step's bookings reach the ledger (carve.md K3, K4; M6).

A carve step books about as many carve rows as its batch books schedule rows, and storing
them (each row, its indexes, the ledger totals' deltas of its statement) costs PostgreSQL
about as long as computing them costs this process. On PostgreSQL the two overlap: a
thread computes each contract's placement and rows (``place``: pure Python over what the
step read, no query) while this thread COPYs the parts it has finished, so the server
stores one part while the next is computed, on the machine's other core. A part ends at
a contract's last row, so each contract's rows are in one statement and the ledger
totals get the deltas one statement would give (one per period, contract, entry type and
sign). The allocation columns, contract heads and versions are written at the end, in the
same transaction. Elsewhere (SQLite) the same steps run one after the other.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from core.services import currency_exponent

from ...models import CarveEntry, CarveVersion, RevenueContract, SoLine, Treatment
from ..allocation import _amount
from ..bulk import bulk_copy_text, bulk_insert, copy_text, instances_update
from ..splits import from_minor
from .load import ContractCarve
from .targets import Form, line_differences

ALLOCATION = ("ext_ssp", "allocated", "carve", "carve_residual")
ENTRY_COLUMNS = (
    "line_id",
    "contract_id",
    "period",
    "entry_type",
    "amount",
    "amount_currency",
    "trigger",
    "inbound_line_id",
    "created_at",
)
PART_ROWS = 2000  # carve rows a COPY statement takes at least (whole contracts)
_DONE = object()


class CarveWriter:
    """What one carve step books: ``write`` runs ``place`` over the contracts and stores
    what it booked through ``allocation``, ``contract``, ``version`` and ``book``."""

    def __init__(self, *, open_period: int):
        self.open = open_period
        self.now = timezone.now()
        # the rows booked and not yet sent: ENTRY_COLUMNS, the amount as (minor, exponent)
        self.rows: list[tuple] = []
        self.versions: list[CarveVersion] = []
        self.lines: dict[int, SoLine] = {}
        self.contracts: dict[int, tuple[str, int | None]] = {}

    def allocation(self, so: SoLine, *, ext_ssp, allocated, carve, residual: Decimal) -> None:
        currency = so.currency
        new = (ext_ssp, allocated, carve, residual)
        if tuple(_amount(so, n) for n in ALLOCATION[:3]) + (so.carve_residual,) == new:
            return
        for name, value in zip(ALLOCATION[:3], new[:3], strict=True):
            so.__dict__[name] = value
            if value is not None:
                so.__dict__[f"{name}_currency"] = currency
        so.carve_residual = residual
        self.lines[so.pk] = so

    def contract(self, pk: int, *, treatment: str, since: int | None) -> None:
        self.contracts[pk] = (treatment, since)

    def version(self, contract: ContractCarve, *, treatment, closed, trigger, inbound) -> None:
        self.versions.append(
            CarveVersion(
                contract_id=contract.pk,
                treatment=treatment,
                closed_period=closed,
                open_period=self.open,
                trigger=trigger[:160],
                inbound_line_id=inbound,
            )
        )
        if treatment != contract.treatment:
            since = contract.since if treatment == Treatment.PROSPECTIVE else None
            self.contract(contract.pk, treatment=treatment, since=since)
            contract.treatment = treatment

    def book(self, contract: ContractCarve, *, closed, trigger: str, inbound) -> None:
        """K3, K4: each line's differences against the targets of the contract's form. A
        row is its journal pair (c > 0 Adjustment liability Dr / Adjustment revenue Cr;
        c < 0 the reverse), derived by the journal view."""
        prospective = contract.treatment == Treatment.PROSPECTIVE
        form = Form(prospective=prospective, since=contract.since, closed=closed)
        trigger = trigger[:160]
        for so in contract.lines:
            line = contract.carves[so.id]
            exponent = currency_exponent(line.currency)
            for period, kind, minor in line_differences(line, form=form, open_period=self.open):
                row = (so.id, contract.pk, period, str(kind), minor, exponent, line.currency)
                self.rows.append((*row, trigger, inbound))

    def write(
        self, contracts: Iterable[ContractCarve], place: Callable[[ContractCarve], None]
    ) -> int:
        """``place`` each contract (it books through this writer), store the carve rows,
        then the allocation columns, the contract heads and the versions; returns the
        carve rows stored."""
        if connection.vendor == "postgresql":
            count = self._stream(contracts, place)
        else:
            for contract in contracts:
                place(contract)
            rows = [
                (so, contract, period, kind, from_minor(minor, exponent), currency)
                + (trigger, inbound, self.now)
                for so, contract, period, kind, minor, exponent, currency, trigger, inbound in (
                    self.rows
                )
            ]
            count = bulk_insert(table=CarveEntry._meta.db_table, columns=ENTRY_COLUMNS, rows=rows)
        self._heads_write()
        return count

    def _heads_write(self) -> None:
        if self.lines:
            fields = [
                f
                for f in SoLine._meta.concrete_fields
                if f.name in {*ALLOCATION, *(f"{n}_currency" for n in ALLOCATION)}
            ]
            instances_update(model=SoLine, objects=list(self.lines.values()), fields=fields)
        groups: dict[tuple[str, int | None], list[int]] = defaultdict(list)
        for pk, head in self.contracts.items():
            groups[head].append(pk)
        for (treatment, since), pks in groups.items():
            RevenueContract.objects.filter(pk__any=pks).update(
                treatment=treatment, carve_period=since
            )
        if self.versions:
            CarveVersion.objects.bulk_create(self.versions)

    def _stream(self, contracts: Iterable[ContractCarve], place) -> int:
        """PostgreSQL: ``place`` runs in a thread that hands over the COPY text of whole
        contracts, ``PART_ROWS`` rows or more at a time; this thread COPYs each part (one
        statement: its rows and their ledger-total deltas) while the next is computed."""
        parts: queue.SimpleQueue = queue.SimpleQueue()
        stop = threading.Event()

        def produce() -> None:
            try:
                with connection.execute_wrapper(_no_query):  # this thread's connection
                    for contract in contracts:
                        if stop.is_set():
                            return
                        place(contract)
                        time.sleep(0)  # lets the writing thread on as soon as it can run
                        if len(self.rows) >= PART_ROWS:
                            parts.put(self._part())
                    if self.rows:
                        parts.put(self._part())
                parts.put(_DONE)
            except BaseException as error:  # handed to the writing thread, raised there
                parts.put(error)

        thread = threading.Thread(target=produce, name="carve-rows", daemon=True)
        thread.start()
        count = 0
        try:
            while (part := parts.get()) is not _DONE:
                if isinstance(part, BaseException):
                    raise part
                text, rows = part
                bulk_copy_text(table=CarveEntry._meta.db_table, columns=ENTRY_COLUMNS, text=text)
                count += rows
        finally:
            stop.set()
            thread.join()
        return count

    def _part(self) -> tuple[str, int]:
        """The rows booked so far as COPY text, and how many; the amount written from its
        minor units, the same number a Decimal would give, without one per row."""
        now = self.now.isoformat()
        texts: dict[str, str] = {}
        lines = []
        for so, contract, period, kind, minor, exponent, currency, trigger, inbound in self.rows:
            if exponent == 2:
                whole, cents = divmod(-minor if minor < 0 else minor, 100)
                amount = f"{'-' if minor < 0 else ''}{whole}.{cents:02d}"
            else:
                amount = str(from_minor(minor, exponent))
            text = texts.get(trigger)
            if text is None:
                text = texts[trigger] = copy_text(trigger)
            source = "\\N" if inbound is None else inbound
            lines.append(
                f"{so}\t{contract}\t{period}\t{kind}\t{amount}\t{currency}\t{text}\t"
                f"{source}\t{now}\n"
            )
        count = len(self.rows)
        self.rows = []
        return "".join(lines), count


def _no_query(execute, sql, params, many, context):
    """The rows' thread computes over what the step read: a query there would run on a
    connection of its own, outside the batch's transaction."""
    raise RuntimeError(f"carve rows are computed without querying the database: {sql[:80]}")
