"""``array_param``: an array parameter sent as its text when that is cheaper to build than
psycopg's element-by-element quoting, and the same array on the server either way; the
``__any`` lookup that uses it finds the same rows as ``__in``."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection, models

from core.lookups import array_param
from revenue.models import Period


def test_ints_decimals_and_nulls_become_the_arrays_text():
    assert array_param([1, 2, None, 2**62]) == "{1,2,NULL,4611686018427387904}"
    assert array_param([Decimal("-0.10"), Decimal("12.345"), Decimal("1E+2")]) == (
        "{-0.10,12.345,1E+2}"
    )
    assert array_param([]) == "{}"
    assert array_param(iter([3, 4])) == "{3,4}"


def test_strings_dates_and_bools_become_the_arrays_text():
    """Strings always quoted (the empty string and the word NULL stay strings), quotes and
    backslashes escaped; dates in ISO; an aware datetime with its offset; bools as t / f."""
    assert array_param(["a", 'b"c', "d\\e", "", "NULL", "x,y {z}"]) == (
        '{"a","b\\"c","d\\\\e","","NULL","x,y {z}"}'
    )
    assert array_param([date(2026, 12, 7), None]) == "{2026-12-07,NULL}"
    moment = datetime(2026, 12, 7, 2, 30, 0, 125, tzinfo=UTC)
    assert array_param([moment]) == '{"2026-12-07T02:30:00.000125+00:00"}'
    assert array_param([True, False]) == "{t,f}"


class Kind(models.TextChoices):
    A = "A"


@pytest.mark.parametrize(
    "values",
    [[1.5], [Kind.A], [datetime(2026, 12, 7, 2, 30)], ["nul\x00"], [b"raw"]],
)
def test_other_values_are_left_to_the_driver(values):
    """Floats are not Decimals, a str subclass (a Choices member) is not a str, a naive
    datetime has no offset to write, a NUL is psycopg's to refuse: the list goes to psycopg
    as it is."""
    assert array_param(values) == values
    assert array_param(tuple(values)) == values


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL arrays")
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ([1, None, -5, 2**62], "bigint"),
        ([Decimal("-0.10"), Decimal("12.345"), None, Decimal("1E+2")], "numeric"),
        ([Decimal("0.005"), Decimal("-1.239")], "numeric(18, 2)"),
        (["a", 'b"c', None, "", "NULL", "back\\slash", " pad ", "x,y {z}", "é"], "text"),
        (["ab", "", None], "varchar(3)"),
        ([date(2026, 12, 7), None, date(1, 1, 1)], "date"),
        ([datetime(2026, 12, 7, 2, 30, 0, 125, tzinfo=UTC), None], "timestamptz"),
        ([True, None, False], "boolean"),
        (['{"a": [1, "b\\"c"]}', "null"], "jsonb"),
    ],
)
def test_the_server_reads_the_same_array_either_way(values, kind):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT %s::{kind}[], %s::{kind}[]", [array_param(values), values])
        fast, slow = cursor.fetchone()
    assert fast == slow


@pytest.mark.django_db
def test_any_finds_what_in_finds():
    Period.objects.bulk_create(Period(id=p, status="CLOSED") for p in (202401, 202402, 202403))
    wanted = [202403, 202401, 202401, 209912]
    assert set(Period.objects.filter(id__any=wanted)) == set(Period.objects.filter(id__in=wanted))
    assert Period.objects.filter(id__any=wanted).count() == 2
