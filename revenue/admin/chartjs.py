"""Chart specs for admin/revenue/includes/chart.html (Chart.js, shipped as a static file).

Each builder returns the dict the include takes::

    {% include "admin/revenue/includes/chart.html" with chart=chart %}

with ``id`` (unique on the page), ``title``, ``spec`` (the JSON format that
revenue/static/revenue/charts.js documents), ``height``, ``aria_label`` and ``table`` (the
same figures for screen readers, linked like the bars). Amounts go into the JSON as decimal
strings (``"1200.00"``): Decimal, Money, int or str in, never float (money is not a float).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal

from core.services import currency_exponent

from .common import amount_text

ID = re.compile(r"^[A-Za-z][\w-]*$")
DATASET_KEYS = ("stack", "color", "pattern", "width", "type", "legend", "point_labels")
Label = str | Sequence[str]


def chart_number(value, places: int | None = None) -> str | None:
    """A spec amount: a decimal string (with ``places`` decimals: the currency's, so that
    both databases give the same text), None for no bar, no ``-0``."""
    if value is None:
        return None
    if isinstance(value, float):
        raise TypeError("chart amounts are Decimal, Money, int or str, not float")
    amount = Decimal(str(getattr(value, "amount", value)))
    if places is not None:
        amount = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return format(amount + 0, "f")


def _places(currency: str) -> int:
    return currency_exponent(currency) if currency else 2


def _point(value, places: int):
    if isinstance(value, tuple | list):
        low, high = value
        return [chart_number(low, places), chart_number(high, places)]
    return chart_number(value, places)


def _amount(point) -> Decimal | None:
    """What a point stands for: a floating bar's length (signed), else its value."""
    if point is None:
        return None
    if isinstance(point, list):
        return Decimal(point[1]) - Decimal(point[0])
    return Decimal(point)


def _label(label: Label) -> str | list[str]:
    return label if isinstance(label, str) else [str(part) for part in label]


def _label_text(label: Label) -> str:
    return label if isinstance(label, str) else " ".join(str(part) for part in label)


def _dataset(dataset: dict, places: int) -> dict:
    data = [_point(value, places) for value in dataset["data"]]
    out = {"label": str(dataset.get("label", "")), "data": data}
    out.update({key: dataset[key] for key in DATASET_KEYS if dataset.get(key) is not None})
    return out


def _links(links) -> list[list[str | None]] | None:
    if links is None:
        return None
    return [[str(url) if url else None for url in row] for row in links]


def chart_links(urls: Sequence[str | None], data: Sequence) -> list[str | None]:
    """A dataset's links: each point's URL where it has a bar (None where it has none)."""
    return [url if value is not None else None for url, value in zip(urls, data, strict=True)]


def chart_table(spec: dict, *, label_head: str = "") -> dict:
    """The figures of a spec as a table: a row per label, a column per dataset (a bridge:
    one column), each cell the amount as the page prints it and the bar's link."""
    currency = spec.get("currency") or None
    links = spec.get("links") or []
    datasets = spec["datasets"]
    head = [label_head, *(ds["label"] or spec.get("y_label", "") for ds in datasets)]
    rows = []
    for index, label in enumerate(spec["labels"]):
        cells = []
        for d, dataset in enumerate(datasets):
            data = dataset["data"]
            amount = _amount(data[index]) if index < len(data) else None
            row_links = links[d] if d < len(links) else []
            cells.append(
                {
                    "text": "" if amount is None else amount_text(amount, currency),
                    "url": row_links[index] if index < len(row_links) else None,
                }
            )
        rows.append({"label": _label_text(label), "cells": cells})
    return {"head": head, "rows": rows}


def _chart(
    *, id: str, title: str, spec: dict, height: int, aria_label: str, label_head: str
) -> dict:
    if not ID.match(id):
        raise ValueError(f"chart id {id!r}: a letter, then letters, digits, - or _")
    currency = spec.get("currency") or ""
    spec["decimals"] = _places(currency)
    spec = {key: value for key, value in spec.items() if value is not None and value is not False}
    return {
        "id": id,
        "title": title,
        "spec": spec,
        "height": int(height),
        "aria_label": aria_label or (f"{title} ({currency})" if currency else title),
        "table": chart_table(spec, label_head=label_head),
    }


def chart_bar(
    *,
    id: str,
    title: str,
    labels: Iterable[Label],
    datasets: Iterable[dict],
    currency: str,
    stacked: bool = False,
    links: Sequence[Sequence[str | None]] | None = None,
    y_label: str = "",
    horizontal: bool = False,
    overlay: bool = False,
    highlight: dict | None = None,
    connectors: Sequence | None = None,
    notes: Sequence | None = None,
    height: int = 280,
    aria_label: str = "",
    label_head: str = "",
) -> dict:
    """A bar chart. ``datasets``: dicts with ``label``, ``data`` (an amount, None, or a
    (from, to) pair for a floating bar, per label) and optionally the keys of charts.js
    (``stack``, ``color``, ``pattern``, ``width``, ``type``, ``legend``, ``point_labels``).
    ``stacked`` piles datasets up per ``stack``; ``overlay`` draws a label's bars over each
    other where their values put them (a waterfall of floating bars)."""
    spec = {
        "type": "bar",
        "labels": [_label(label) for label in labels],
        "datasets": [_dataset(d, _places(currency)) for d in datasets],
        "currency": currency,
        "stacked": bool(stacked),
        "overlay": bool(overlay),
        "horizontal": bool(horizontal),
        "y_label": y_label,
        "links": _links(links),
        "highlight": highlight,
        "connectors": None
        if connectors is None
        else [chart_number(c, _places(currency)) for c in connectors],
        "notes": None if notes is None else list(notes),
    }
    return _chart(
        id=id,
        title=title,
        spec=spec,
        height=height,
        aria_label=aria_label,
        label_head=label_head,
    )


def chart_line(
    *,
    id: str,
    title: str,
    labels: Iterable[Label],
    datasets: Iterable[dict],
    currency: str,
    links: Sequence[Sequence[str | None]] | None = None,
    y_label: str = "",
    height: int = 280,
    aria_label: str = "",
    label_head: str = "",
) -> dict:
    """A line per dataset (e.g. a balance month by month)."""
    spec = {
        "type": "line",
        "labels": [_label(label) for label in labels],
        "datasets": [_dataset(d, _places(currency)) for d in datasets],
        "currency": currency,
        "y_label": y_label,
        "links": _links(links),
    }
    return _chart(
        id=id,
        title=title,
        spec=spec,
        height=height,
        aria_label=aria_label,
        label_head=label_head,
    )


def chart_bridge(
    *,
    id: str,
    title: str,
    opening,
    steps: Iterable[tuple[Label, object, str | None]],
    closing,
    currency: str,
    opening_label: Label = "Opening",
    closing_label: Label = "Closing",
    opening_url: str | None = None,
    closing_url: str | None = None,
    y_label: str = "",
    height: int = 280,
    aria_label: str = "",
    label_head: str = "",
) -> dict:
    """A bridge (roll-forward): the opening balance on zero, each ``(label, amount, url)``
    movement floating from the running total (green up, red down), the closing balance on
    zero. The closing is drawn as given: were it not the opening plus the movements, the
    gap would show."""
    steps = list(steps)
    spec = {
        "type": "bridge",
        "labels": [_label(opening_label), *(_label(s[0]) for s in steps), _label(closing_label)],
        "datasets": [
            {
                "label": title,
                "data": [
                    chart_number(opening, _places(currency)),
                    *(chart_number(s[1], _places(currency)) for s in steps),
                    chart_number(closing, _places(currency)),
                ],
            }
        ],
        "currency": currency,
        "y_label": y_label,
        "links": _links([[opening_url, *(s[2] for s in steps), closing_url]]),
    }
    if not any(spec["links"][0]):
        spec["links"] = None
    return _chart(
        id=id,
        title=title,
        spec=spec,
        height=height,
        aria_label=aria_label,
        label_head=label_head,
    )
