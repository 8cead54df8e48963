"""Charts on Chart.js: the spec builders of revenue.admin.chartjs, the include that puts a
chart on a page (its assets once per page) and the vendored library as a static file."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.template import Context, Template
from djmoney.money import Money

from revenue.admin.chartjs import chart_bar, chart_bridge, chart_line, chart_number
from tests.charts import by_label, chart_spec

D = Decimal
PAGE = Template(
    '{% for chart in charts %}{% include "admin/revenue/includes/chart.html" with chart=chart %}'
    "{% endfor %}"
)


def page(*charts) -> str:
    return PAGE.render(Context({"charts": list(charts)}))


def test_amounts_go_into_the_spec_as_decimal_strings_of_the_currency():
    """Decimal, Money, int and str in; the currency's decimals out; never a float."""
    assert chart_number(D("1234.5"), 2) == "1234.50"
    assert chart_number(Money("12.345", "USD"), 2) == "12.35"
    assert chart_number(1200, 0) == "1200"
    assert chart_number("-0.00", 2) == "0.00"  # no "-0.00"
    assert chart_number(None, 2) is None
    with pytest.raises(TypeError):
        chart_number(0.1, 2)


def test_chart_bar_spec_table_and_links():
    chart = chart_bar(
        id="chart-test",
        title="Deferred revenue",
        labels=["2026-01", ("Feb", "2026")],
        datasets=[
            {"label": "USD", "data": [D("1000.5"), None], "stack": "a", "color": "#123456"},
            {"label": "Moves", "data": [(D("0"), D("-25")), D("7")]},
        ],
        currency="USD",
        stacked=True,
        links=[["/a/?period=202601", None], [None, "/b/"]],
        y_label="USD",
    )
    spec = chart["spec"]
    assert spec["type"] == "bar" and spec["stacked"] is True and spec["decimals"] == 2
    assert spec["labels"] == ["2026-01", ["Feb", "2026"]]
    assert by_label(spec)["USD"] == {
        "label": "USD",
        "data": ["1000.50", None],
        "stack": "a",
        "color": "#123456",
    }
    assert by_label(spec)["Moves"]["data"] == [["0.00", "-25.00"], "7.00"]
    assert "overlay" not in spec and "horizontal" not in spec  # off: left out
    table = chart["table"]
    assert table["head"] == ["", "USD", "Moves"]
    assert table["rows"][0] == {
        "label": "2026-01",
        "cells": [
            {"text": "1,000.50", "url": "/a/?period=202601"},
            {"text": "-25.00", "url": None},
        ],
    }
    assert table["rows"][1]["label"] == "Feb 2026"
    assert chart["aria_label"] == "Deferred revenue (USD)"


def test_chart_bridge_opening_movements_closing_in_jpy():
    """A roll-forward: 1,000 + 300 − 120 = 1,180 JPY (no decimals for JPY)."""
    chart = chart_bridge(
        id="rollforward-JPY",
        title="Contract liability roll-forward",
        opening=D("1000"),
        steps=[("Billed", D("300"), "/billed/"), ("Recognized", D("-120"), None)],
        closing=D("1180"),
        currency="JPY",
        closing_url="/closing/",
    )
    spec = chart["spec"]
    assert spec["type"] == "bridge" and spec["decimals"] == 0
    assert spec["labels"] == ["Opening", "Billed", "Recognized", "Closing"]
    assert spec["datasets"][0]["data"] == ["1000", "300", "-120", "1180"]
    assert spec["links"] == [[None, "/billed/", None, "/closing/"]]
    assert [row["cells"][0]["text"] for row in chart["table"]["rows"]] == [
        "1,000",
        "300",
        "-120",
        "1,180",
    ]


def test_chart_ids_must_be_usable_as_element_ids():
    with pytest.raises(ValueError, match="chart id"):
        chart_line(id="2 bad", title="x", labels=[], datasets=[], currency="USD")


def test_include_renders_canvas_spec_and_table_and_loads_the_assets_once():
    usd, eur = (
        chart_bar(
            id=f"chart-{c}",
            title=f"Revenue <{c}>",
            labels=["2026-01"],
            datasets=[{"label": "Recognized", "data": [D("10")]}],
            currency=c,
            links=[["/rows/?a=1&b=2"]],
        )
        for c in ("USD", "EUR")
    )
    html = page(usd, eur)
    assert html.count("revenue/vendor/chart.umd.min.js") == 1
    assert html.count("revenue/charts.js") == 1 and html.count("revenue/charts.css") == 1
    assert chart_spec(html, "chart-USD")["datasets"][0]["data"] == ["10.00"]
    assert chart_spec(html, "chart-EUR")["currency"] == "EUR"
    assert 'aria-label="Revenue &lt;USD&gt; (USD)"' in html
    assert 'role="img"' in html and 'style="height:280px"' in html
    assert '<div class="visually-hidden"><table>' in html
    assert '<a href="/rows/?a=1&amp;b=2">10.00</a>' in html


def test_include_renders_nothing_without_a_chart():
    html = page(None)
    assert "<canvas" not in html and "chart.umd.min.js" not in html


def test_chart_js_is_a_static_file_collectstatic_picks_up(tmp_path, settings):
    """Served offline by whitenoise: never from a CDN."""
    vendored = finders.find("revenue/vendor/chart.umd.min.js")
    assert vendored is not None
    with open(vendored, encoding="utf-8") as handle:
        assert handle.read(40).startswith("/*!\n * Chart.js v4.6.1")
    assert finders.find("revenue/vendor/chart.js.LICENSE.md") is not None
    assert finders.find("revenue/charts.js") is not None
    settings.STATIC_ROOT = tmp_path
    call_command("collectstatic", interactive=False, verbosity=0)
    assert (tmp_path / "revenue/vendor/chart.umd.min.js").exists()
    assert (tmp_path / "revenue/vendor/chart.umd.min.js.gz").exists()  # compressed (whitenoise)
    assert (tmp_path / "revenue/charts.js").exists()


def test_charts_js_documents_the_spec_it_reads():
    with open(finders.find("revenue/charts.js"), encoding="utf-8") as handle:
        source = handle.read()
    for key in ('"type"', '"labels"', '"datasets"', '"currency"', '"stacked"', '"links"'):
        assert key in source.split("*/", 1)[0]
    assert "JSON.parse(source.textContent)" in source and "eval(" not in source
