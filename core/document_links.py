"""Document numbers as links: ORD-000001 → the order's admin page, from any app.

Revenue only knows the numbers its transaction lines carry (SO_NUM, INV_NUM): it may not
import orders or returns. Each app that owns numbered documents registers a resolver per
number prefix in its ``AppConfig.ready`` (core knows none of them, as ``core.work_queue``):
a function of the numbers of that prefix (and the user, or None) that looks their documents
up in one query and returns ``{number: admin change URL}`` for those it knows and the user
may open. A number no resolver knows (a line uploaded for an order Contra never had) stays
plain text.

``document_urls`` resolves a whole page of numbers at once: one call per resolver (one
query per document type), never one per row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils.html import format_html

logger = logging.getLogger(__name__)

Resolver = Callable[[list[str], object], dict[str, str]]


@dataclass(frozen=True)
class _Entry:
    resolver: Resolver
    label: str  # what the number is, in words: "order", "invoice", "credit memo"


_PREFIXES: dict[str, _Entry] = {}


def document_prefix(number: str) -> str:
    """``ORD`` of ``ORD-000001`` ('' for a number without a dash)."""
    head, dash, _ = (number or "").strip().partition("-")
    return head.upper() if dash else ""


def document_links_register(prefix: str, resolver: Resolver, *, label: str) -> None:
    """Add (or replace) the resolver of numbers ``<prefix>-…``. One resolver may serve
    several prefixes (orders, reduction orders and change orders are one table): it is
    called once for all of them."""
    _PREFIXES[prefix.upper()] = _Entry(resolver=resolver, label=label)


def document_label(number: str) -> str:
    """What a number names ("order", "invoice"…), from its prefix alone (no query); ''
    when no app registered its prefix."""
    entry = _PREFIXES.get(document_prefix(number))
    return entry.label if entry else ""


def document_urls(numbers: Iterable[str], *, user=None) -> dict[str, str]:
    """``{number: admin URL}`` of the numbers some app knows (and ``user`` may open, when
    given). One call per resolver, whatever the count of numbers."""
    by_resolver: dict[Resolver, list[str]] = {}
    for number in dict.fromkeys(n.strip() for n in numbers if n and n.strip()):
        entry = _PREFIXES.get(document_prefix(number))
        if entry is not None:
            by_resolver.setdefault(entry.resolver, []).append(number)
    urls: dict[str, str] = {}
    for resolver, wanted in by_resolver.items():
        try:
            found = resolver(wanted, user)
        except Exception:  # a link is a convenience: the page still opens without it
            logger.exception("document links: resolver %r failed", resolver)
            continue
        urls.update({n: url for n, url in found.items() if n in wanted and url})
    return urls


def document_url(number: str, *, user=None) -> str | None:
    """The admin URL of one document, or None (unknown number, or not for this user)."""
    return document_urls([number], user=user).get((number or "").strip())


def document_link(number: str, urls: dict[str, str]) -> str:
    """``number`` as a link when ``urls`` (from ``document_urls``) has it, else plain text;
    '—' for no number."""
    if not number:
        return "—"
    url = urls.get(number.strip())
    if url is None:
        return format_html("{}", number)
    label = document_label(number)
    return format_html('<a href="{}" title="{}">{}</a>', url, f"Open the {label}", number)
