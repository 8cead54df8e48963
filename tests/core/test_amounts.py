"""Amounts as users read them (issue 17, plain words): one minus sign, and a zero without
one, never "-0.00" or "−$0.00" (core.amounts and the contra_money template filters)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template
from djmoney.money import Money

from core.amounts import amount_text, money_shown, money_text
from orders.admin.common import money_text as orders_money_text
from returns.admin.base import money_cell
from revenue.admin.common import amount_text as revenue_amount_text
from revenue.admin.common import money_html
from revenue.selectors import money_text as export_money_text

D = Decimal


@pytest.mark.parametrize(
    "amount, places, text",
    [
        (D("1234.5"), 2, "1,234.50"),
        (D("-1234.5"), 2, "-1,234.50"),
        (D("0"), 2, "0.00"),
        (D("-0"), 2, "0.00"),
        (D("-0.00"), 2, "0.00"),
        (D("-0.004"), 2, "0.00"),  # rounds to zero: no sign
        (D("-0.006"), 2, "-0.01"),
        (D("-1500"), 0, "-1,500"),
        (D("-0.4"), 0, "0"),
        (Money("-3000", "USD"), 2, "-3,000.00"),
    ],
)
def test_amount_text_has_one_minus_sign_and_no_signed_zero(amount, places, text):
    assert amount_text(amount, places) == text


def test_amount_text_without_grouping_for_exports():
    assert amount_text(D("-1234.5"), 2, grouping=False) == "-1234.50"
    assert amount_text(D("-0.001"), 2, grouping=False) == "0.00"
    assert export_money_text(D("-0.00")) == "0.00"
    assert export_money_text(Money("-12.5", "USD")) == "-12.50"
    assert export_money_text(None) == ""


def test_money_text_in_the_currency_minor_unit_and_negated():
    assert money_text(Money("3000", "USD")) == "3,000.00 USD"
    assert money_text(Money("-3000", "JPY")) == "-3,000 JPY"
    assert money_text(Money("5", "USD"), negate=True) == "-5.00 USD"
    assert money_text(Money("0", "USD"), negate=True) == "0.00 USD"
    assert money_text(Money("-0.00", "EUR")) == "0.00 EUR"
    assert orders_money_text(Money("-0.00", "USD")) == "0.00 USD"  # the confirmation pages


def test_money_shown_is_what_a_template_prints():
    assert str(Money(D("-0.00"), "USD")) == "-$0.00"  # Money's own text: the bug
    assert str(money_shown(Money(D("-0.00"), "USD"))) == "$0.00"
    assert str(money_shown(Money(D("-0.001"), "USD"))) == "$0.00"
    assert str(money_shown(Money(D("5"), "USD"), negate=True)) == "-$5.00"
    assert str(money_shown(Money(D("0"), "USD"), negate=True)) == "$0.00"
    assert str(money_shown(Money(D("-12.5"), "EUR"))) == "-€12.50"
    assert str(money_shown(Money(D("-0.4"), "JPY"))) == "¥0"
    assert money_shown(None) is None


def test_template_filters_print_a_credit_with_one_minus_sign():
    template = Template(
        "{% load contra_money %}"
        "{{ net|negated }}|{{ tax|negated }}|{{ zero|money }}|{{ x|negated }}"
    )
    html = template.render(
        Context(
            {
                "net": Money("27.00", "USD"),
                "tax": Money("0.00", "USD"),
                "zero": Money(D("-0.00"), "USD"),
                "x": "—",
            }
        )
    )
    assert html == "-$27.00|$0.00|$0.00|—"
    assert "−" not in html and "-$0.00" not in html


def test_admin_cells_never_show_a_signed_zero():
    assert revenue_amount_text(D("-0.001"), "USD") == "0.00"
    assert revenue_amount_text(D("-1200"), "USD") == "-1,200.00"
    assert revenue_amount_text(D("-1200.4"), "JPY") == "-1,200"
    assert "revenue-negative" not in money_html(D("-0.001"), "USD")
    assert ">0.00<" in money_html(D("-0.001"), "USD", code=False)
    assert "revenue-negative" in money_html(D("-1"), "USD")
    assert money_cell(Money(D("-0.00"), "USD")) == '<span class="contra-num">$0.00</span>'
    assert money_cell(None) == "—"
