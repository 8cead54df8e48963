"""The chart a page embeds (admin/revenue/includes/chart.html): its canvas and its JSON spec."""

from __future__ import annotations

import json
import re


def chart_spec(html: str, chart_id: str) -> dict:
    """The spec of chart ``chart_id`` as json_script put it in the page (its canvas must be
    there too)."""
    assert f'<canvas data-chart="{chart_id}"' in html
    found = re.search(
        rf'<script id="{re.escape(chart_id)}" type="application/json">(.*?)</script>', html, re.S
    )
    assert found, f"no JSON spec for chart {chart_id}"
    return json.loads(found.group(1))


def by_label(spec: dict) -> dict[str, dict]:
    """The datasets of a spec by their label."""
    return {dataset["label"]: dataset for dataset in spec["datasets"]}


def points(spec: dict, label: str) -> dict[str, object]:
    """A dataset's points that have a bar, by category label ('Nov 2026' for ['Nov', '2026'])."""
    data = by_label(spec)[label]["data"]
    names = [" ".join(x) if isinstance(x, list) else x for x in spec["labels"]]
    return {name: value for name, value in zip(names, data, strict=True) if value is not None}
