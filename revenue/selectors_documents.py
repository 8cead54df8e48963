"""Staged lines by the document they came from (I1, I4; interchange.md emission table).

A line's *document* is the number of what issued it: a billing line (INV, CM, CM-R, CM-RO)
comes from its invoice or credit memo (INV_NUM); any other line (SO, RORD) from its sales
or reduction order (SO_NUM). Order, reduction order, invoice and credit memo pages link
here with their numbers; revenue learns nothing else of them. Both lookups are read from
an index (``inbound_inv_document``, ``inbound_so_document``): a document's lines among
millions are a few index probes.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from .models import InboundLine, SoLine


def document_numbers(value: str | Iterable[str]) -> list[str]:
    """``"ORD-000001, INV-000002"`` (a GET parameter) or a list, as distinct numbers."""
    parts = value.split(",") if isinstance(value, str) else value
    return list(dict.fromkeys(p.strip() for p in parts if p and p.strip()))


def inbound_document_q(numbers: Iterable[str]) -> Q:
    """The lines staged by these documents; each side matches its index's condition."""
    numbers = document_numbers(numbers)
    billing = Q(inv_num__in=numbers) & ~Q(inv_num="")
    orders = Q(so_num__in=numbers) & Q(inv_num="")
    return billing | orders


def line_document(line: InboundLine) -> str:
    """The number of the document a line came from ('' when it names none)."""
    return (line.inv_num or line.so_num or "").strip()


def document_revenue_counts(
    *, numbers: Iterable[str], so_line_ids: Iterable[str] = ()
) -> tuple[int, int]:
    """(staged lines of these documents, SO lines of these ids in the sub-ledger): what a
    document page's revenue links say, in two index reads whatever the number of lines."""
    numbers = document_numbers(numbers)
    lines = InboundLine.objects.filter(inbound_document_q(numbers)).count() if numbers else 0
    ids = document_numbers(so_line_ids)
    so_lines = SoLine.objects.filter(so_line_id__in=ids).count() if ids else 0
    return lines, so_lines
