"""Amounts in templates with one minus sign and no signed zero (core.amounts):
``{{ memo.net_total|negated }}`` prints a credit as what it takes off ("-$5.00", and
"$0.00" for a zero, never "−$0.00"); ``{{ value|money }}`` prints a Money as it is, a
negative zero without its sign."""

from __future__ import annotations

from django import template

from ..amounts import money_shown

register = template.Library()


@register.filter
def money(value):
    return money_shown(value) if hasattr(value, "currency") else value


@register.filter
def negated(value):
    return money_shown(value, negate=True) if hasattr(value, "currency") else value
