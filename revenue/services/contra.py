"""P6–P9: contra AR for reduction orders.

With profile ``CREATE_RORD_CONTRA_ENTRY`` = Y, collecting a RORD books
``max(0, net billed − net sell)`` (less what the line already carries) as CL Dr / Contra AR
Cr in the open period (P7). A CM-RO reverses the line's contra, all its RORDs together,
up to its own amount, unposted entries first: an entry not posted yet is removed (its
journal pair shrinks or goes), a posted one is answered by a second, reversing entry
(Contra AR Dr / CL Cr) in the open period (P8).
Nothing here touches the line's revenue schedule (P9).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import connection
from django.db.models import Q, Sum
from djmoney.money import Money

from core.lookups import array_param
from core.services import sum_exact

from ..models import BookedEntry, ContraEntry, InboundLine, SoLine
from ..models.choices import BILLING_TYPES, Account, EntryType, LineStatus, TranType
from .bulk import instances_update
from .ledger import Booker

ZERO = Decimal("0")
CL, CONTRA_AR = Account.CONTRACT_LIABILITY, Account.CONTRA_AR


def net_billed_load(line_ids: list[int]) -> dict[int, Decimal]:
    """P7: Σ ESP of the collected INV, CM, CM-R and CM-RO lines of each SO line."""
    if not line_ids:
        return {}
    rows = (
        InboundLine.objects.filter(
            line_id__any=line_ids, tran_type__in=BILLING_TYPES, status=LineStatus.COLLECTED
        )
        .values_list("line_id")
        .annotate(total=Sum("ext_sll_prc"))
        .order_by()
    )
    return {pk: sum_exact(total) for pk, total in rows}


class ContraBook:
    """The contra work of one batch: new entries, removals and the journal changes."""

    def __init__(self, *, booker: Booker, enabled: bool):
        self.booker = booker
        self.enabled = enabled
        self.billed: dict[int, Decimal] = {}
        self.open: dict[int, list[ContraEntry]] = defaultdict(list)  # line pk → CONTRA rows
        self.new: list[ContraEntry] = []
        self.changed: dict[int, ContraEntry] = {}
        self.journal: dict[tuple[int, int], Decimal] = {}  # (line, RORD) → new amount

    def load(self, *, rord_lines: list[int], cm_ro_lines: list[int]) -> None:
        if self.enabled:
            self.billed = net_billed_load(rord_lines)
        if cm_ro_lines:
            rows = (
                ContraEntry.objects.filter(line_id__any=cm_ro_lines, kind=ContraEntry.Kind.CONTRA)
                .select_related("inbound_line")
                .only(
                    "id",
                    "line_id",
                    "period",
                    "kind",
                    "amount",
                    "amount_currency",
                    "removed",
                    "reversed",
                    "inbound_line_id",
                    "removed_by_id",
                    "inbound_line__so_line_id",
                )
                .order_by("id")
            )
            for contra in rows:
                if contra.outstanding > 0:
                    self.open[contra.line_id].append(contra)

    def on_rord(self, *, line: SoLine, inbound) -> Decimal:
        """P7: book the contra a RORD calls for; returns the amount (0 with profile N).
        Net sell = Σ ESP of the SO, its RORDs and its CM-Rs (a CM-R lowers net sell and net
        billed alike, P5): the line's N."""
        if not self.enabled:
            return ZERO
        net_sell = line.net_sll_prc
        wanted = max(self.billed.get(line.pk, ZERO) - net_sell, ZERO)
        amount = wanted - line.contra_balance
        if amount <= 0:
            return ZERO
        self.booker.entry(
            line=line,
            period=self.booker.open,
            source_type=TranType.RORD,
            entry_type=EntryType.CONTRA,
            dr=CL,
            cr=CONTRA_AR,
            amount=amount,
            inbound_id=inbound.pk,
        )
        contra = ContraEntry(
            line=line,
            period=self.booker.open,
            kind=ContraEntry.Kind.CONTRA,
            amount=Money(amount, line.currency),
            inbound_line_id=inbound.pk,
        )
        contra.rord_key = inbound.line_key
        self.new.append(contra)
        self.open[line.pk].append(contra)
        line.contra_balance += amount
        return amount

    def on_cm_ro(self, *, line: SoLine, inbound, amount: Decimal) -> Decimal:
        """P8: reverse up to ``amount`` of the line's outstanding contra, all its RORDs
        together, unposted entries first (removed), then posted ones (answered by a contra
        reversal). Within each, its own RORD's (the CM-RO's SO_LINE_ID) first, then the
        oldest. Returns what was reversed."""
        open_period = self.booker.open
        ordered = sorted(  # stable: the oldest first within each group
            self.open.get(line.pk, []),
            key=lambda c: (c.period < open_period, _rord_key(c) != inbound.so_line_id),
        )
        left = amount
        for contra in ordered:
            if left <= 0:
                break
            take = min(left, contra.outstanding)
            if take <= 0:
                continue
            left -= take
            if contra.period >= open_period:  # not posted yet: removed (P8)
                contra.removed += take
                contra.removed_by_id = inbound.pk
                key = (line.pk, contra.inbound_line_id)
                self.journal[key] = contra.amount.amount - contra.removed
            else:  # posted: a second, reversing entry
                contra.reversed += take
                self.booker.entry(
                    line=line,
                    period=self.booker.open,
                    source_type=TranType.CM_RO,
                    entry_type=EntryType.CONTRA_REVERSAL,
                    dr=CONTRA_AR,
                    cr=CL,
                    amount=take,
                    inbound_id=inbound.pk,
                )
                self.new.append(
                    ContraEntry(
                        line=line,
                        period=self.booker.open,
                        kind=ContraEntry.Kind.CONTRA_REVERSAL,
                        amount=Money(take, line.currency),
                        inbound_line_id=inbound.pk,
                        reverses=contra,
                    )
                )
            if contra.pk:
                self.changed[contra.pk] = contra
        line.contra_balance -= amount - left
        return amount - left

    def write(self) -> None:
        """After the booker's flush (SO lines and journal entries exist)."""
        for contra in self.new:
            contra.line_id = contra.line.pk
            if contra.reverses is not None:
                contra.reverses_id = contra.reverses.pk
        booked = [c for c in self.new if c.kind == ContraEntry.Kind.CONTRA]
        answers = [c for c in self.new if c.kind != ContraEntry.Kind.CONTRA]
        ContraEntry.objects.bulk_create(booked)
        ContraEntry.objects.bulk_create(answers)  # after what they reverse (ids)
        if self.changed:
            fields = [ContraEntry._meta.get_field(n) for n in ("removed", "reversed", "removed_by")]
            instances_update(model=ContraEntry, objects=list(self.changed.values()), fields=fields)
        if self.journal:
            _journal_shrink(self.journal)


SHRINK_CHUNK = 200


def _journal_shrink(amounts: dict[tuple[int, int], Decimal]) -> None:
    """P8: the unposted contra pairs get their new amount; those at zero are removed.
    Pairs are (SO line id, RORD inbound id); on PostgreSQL one DELETE and one UPDATE joined
    to the pairs as arrays (an OR of a thousand pairs was planned as a thousand-arm
    recheck on every entry of those lines)."""
    gone = [key for key, amount in amounts.items() if amount <= 0]
    kept = [(key, amount) for key, amount in amounts.items() if amount > 0]
    if connection.vendor == "postgresql":
        _journal_shrink_postgresql(gone, kept)
        return
    contra = BookedEntry.objects.filter(entry_type=EntryType.CONTRA, posted=False)
    # an OR of pairs, a few hundred at a time: SQLite refuses an expression deeper than
    # 1,000 (a batch with more removed pairs than that failed the whole collection)
    for start in range(0, len(gone), SHRINK_CHUNK):
        match = Q()
        for line_id, rord_id in gone[start : start + SHRINK_CHUNK]:
            match |= Q(line_id=line_id, inbound_line_id=rord_id)
        contra.filter(match).delete()
    for (line_id, rord_id), amount in kept:
        contra.filter(line_id=line_id, inbound_line_id=rord_id).update(amount=amount)


def _journal_shrink_postgresql(gone: list, kept: list) -> None:
    """The entries found pair by pair through the line index (LATERAL: a join of the pairs
    to the journal was planned as a scan of the whole journal), then changed by id."""
    table = BookedEntry._meta.db_table
    pairs = [*gone, *(key for key, _ in kept)]
    new_amount = {key: amount for key, amount in kept}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT g.line_id, g.rord_id, e.id
            FROM unnest(%s::bigint[], %s::bigint[]) AS g(line_id, rord_id)
            CROSS JOIN LATERAL (
                SELECT id FROM {table}
                WHERE line_id = g.line_id AND inbound_line_id = g.rord_id
                  AND entry_type = %s AND NOT posted
            ) AS e
            """,
            [
                array_param([k[0] for k in pairs]),
                array_param([k[1] for k in pairs]),
                EntryType.CONTRA.value,
            ],
        )
        found = cursor.fetchall()
        removed = [pk for line, rord, pk in found if (line, rord) not in new_amount]
        changed = [
            (pk, new_amount[(line, rord)]) for line, rord, pk in found if (line, rord) in new_amount
        ]
        if removed:
            cursor.execute(
                f"DELETE FROM {table} WHERE id = ANY(%s::bigint[])", [array_param(removed)]
            )
        if changed:
            cursor.execute(
                f"UPDATE {table} AS j SET amount = v.amount "
                f"FROM unnest(%s::bigint[], %s::numeric[]) AS v(id, amount) WHERE j.id = v.id",
                [
                    array_param([pk for pk, _ in changed]),
                    array_param([amount for _, amount in changed]),
                ],
            )


def _rord_key(contra: ContraEntry) -> str:
    key = getattr(contra, "rord_key", None)
    if key is None:
        key = contra.rord_key = contra.inbound_line.so_line_id
    return key
