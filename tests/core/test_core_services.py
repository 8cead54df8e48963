"""Shared services: cumulative-rounding splits, rounding, document numbers, audit."""

from decimal import Decimal

import pytest
from djmoney.money import Money
from hypothesis import given
from hypothesis import strategies as st

from core.services import currency_exponent, money_round, money_split, sequence_next


@given(
    amount=st.decimals(min_value=Decimal("-1000000"), max_value=Decimal("1000000"), places=2),
    weights=st.lists(
        st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1000"), places=4),
        min_size=1,
        max_size=40,
    ),
)
def test_money_split_parts_always_add_up_to_the_whole(amount, weights):
    """Conventions: every split uses cumulative rounding, so the parts add up exactly."""
    parts = money_split(total=Money(amount, "USD"), weights=weights)
    assert len(parts) == len(weights)
    assert sum((p.amount for p in parts), Decimal(0)) == amount
    assert all(p.amount == p.amount.quantize(Decimal("0.01")) for p in parts)


def test_money_split_cumulative_rounding_example():
    parts = money_split(total=Money("100.00", "USD"), weights=[1, 1, 1])
    assert [p.amount for p in parts] == [Decimal("33.33"), Decimal("33.34"), Decimal("33.33")]


def test_money_split_refuses_zero_weights():
    with pytest.raises(ValueError, match="weights add up to zero"):
        money_split(total=Money("1.00", "USD"), weights=[0, 0])


def test_money_round_uses_the_currency_minor_unit():
    assert currency_exponent("USD") == 2 and currency_exponent("JPY") == 0
    assert money_round(amount=Decimal("10.005"), currency="USD") == Decimal("10.01")
    assert money_round(amount=Decimal("10.5"), currency="JPY") == Decimal("11")


@pytest.mark.django_db
def test_sequence_next_counts_per_series():
    assert [sequence_next(name="X") for _ in range(3)] == [1, 2, 3]
    assert sequence_next(name="Y") == 1
