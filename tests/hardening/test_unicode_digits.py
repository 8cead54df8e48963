"""Issue 18: digits that are not ASCII ('²', '٣', '𝟗') and numbers of 5,000 digits.

``'²'.isdigit()`` is True and ``int('²')`` raises; ``int()`` of 5,000 digits raises too
(Python's limit on digits), and a long number is out of the database's range. Each place
that checked ``isdigit()`` then called ``int()`` answered 500 (or printed a traceback);
``core.parsing.ascii_int`` is now the one check: a bad value is an empty result, an
ignored filter or a clear message (exit 2 for a command)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from core.parsing import ascii_int
from returns.models import ReturnOrder
from revenue.models import CollectionRun, InboundBatch, InboundLine, JournalEntry
from revenue.services.settings import profile_get

HUGE = "9" * 5000
NOT_ASCII = ("²", "٣", "𝟗")
BAD_NUMBERS = (*NOT_ASCII, HUGE)


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)


def test_ascii_int_takes_ascii_digits_within_the_bound_only():
    assert ascii_int("123") == 123 and ascii_int("0") == 0 and ascii_int("9" * 18) == 10**18 - 1
    for bad in (*BAD_NUMBERS, "9" * 19, "", " 1", "1 ", "+1", "-1", "1.5", "1e3", None, 7):
        assert ascii_int(bad) is None, bad
    assert ascii_int("-4", signed=True) == -4 and ascii_int("-", signed=True) is None
    assert ascii_int("-²", signed=True) is None and ascii_int("123", max_digits=2) is None


# --- the admin ---------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["%C2%B2", HUGE])
def test_an_order_page_opened_on_a_unicode_digit_is_not_found(admin_client, demo, bad):
    """The order page redirects a reduction's id to the reduction page: '²' went on to
    ``ReductionOrder.objects.filter(pk='²')`` (ValueError, 500)."""
    response = admin_client.get(f"/admin/orders/order/{bad}/change/")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


@pytest.mark.parametrize("bad", BAD_NUMBERS)
def test_the_inbound_batch_filter_ignores_a_value_that_is_not_an_id(admin_client, demo, bad):
    url = reverse("admin:revenue_inboundline_changelist")
    response = admin_client.get(url, {"batch": bad})
    assert response.status_code == 200
    assert response.context["cl"].result_count == InboundLine.objects.count()
    batch = InboundBatch.objects.order_by("pk").first()  # an ASCII id still filters
    chosen = admin_client.get(url, {"batch": str(batch.pk)})
    assert chosen.context["cl"].result_count == batch.lines.count()


@pytest.mark.parametrize("bad", [*BAD_NUMBERS, "#²", f"#{HUGE}"])
def test_the_inbound_search_by_staging_id_skips_a_term_that_is_not_an_id(admin_client, demo, bad):
    url = reverse("admin:revenue_inboundline_changelist")
    response = admin_client.get(url, {"q": bad})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 0
    line = InboundLine.objects.order_by("pk").first()  # '#123' still finds line 123
    found = admin_client.get(url, {"q": f"#{line.pk}"})
    assert line in found.context["cl"].result_list


@pytest.mark.parametrize("bad", BAD_NUMBERS)
def test_the_journal_period_filter_ignores_a_value_that_is_not_a_period(admin_client, demo, bad):
    url = reverse("admin:revenue_journalentry_changelist")
    response = admin_client.get(url, {"period": bad})
    assert response.status_code == 200
    assert response.context["cl"].result_count == JournalEntry.objects.count()


@pytest.mark.parametrize("bad", ["20261²", "٢٠٢٦٠١", HUGE])
def test_the_journal_period_range_refuses_a_value_that_is_not_a_period(admin_client, demo, bad):
    url = reverse("admin:revenue_journalentry_changelist")
    response = admin_client.get(url, {"period__gte": bad})
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


@pytest.mark.parametrize("bad", BAD_NUMBERS)
def test_the_rma_order_number_filter_finds_no_order_for_unicode_digits(admin_client, demo, bad):
    url = reverse("admin:returns_returnorder_changelist")
    response = admin_client.get(url, {"order_number": bad})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 0
    rma = ReturnOrder.objects.select_related("order").order_by("pk").first()
    digits = rma.order.number.rpartition("-")[2].lstrip("0")  # '123' still finds ORD-000123
    found = admin_client.get(url, {"order_number": digits})
    assert rma in found.context["cl"].result_list


@pytest.mark.parametrize("bad", [*BAD_NUMBERS, "²,٣"])
def test_the_collection_progress_view_skips_ids_that_are_not_ids(admin_client, demo, bad):
    url = reverse("admin:revenue_collectionrun_progress")
    response = admin_client.get(url, {"ids": bad})
    assert response.status_code == 200 and response.json()["runs"] == []
    run = CollectionRun.objects.order_by("pk").first()  # the ASCII ids beside it still answer
    mixed = admin_client.get(url, {"ids": f"{run.pk},{bad}"})
    assert mixed.status_code == 200
    assert [state["id"] for state in mixed.json()["runs"]] == [run.pk]


# --- the commands (interchange.md: exit 2 with a clear message on bad arguments) ---------


@pytest.mark.parametrize("bad", ["20261²", "٢٠٢٦٠١", HUGE])
def test_closing_through_a_period_in_unicode_digits_exits_2(db, bad):
    with pytest.raises(CommandError) as refused:
        call_command("revenue_period", "close", "--through", bad, stdout=io.StringIO())
    assert refused.value.returncode == 2
    message = str(refused.value)
    assert message.startswith("--through: '") and "is not a period: use YYYYMM" in message
    assert len(message) < 200


@pytest.mark.parametrize("bad", BAD_NUMBERS)
def test_a_profile_number_in_unicode_digits_exits_2(db, bad):
    with pytest.raises(CommandError) as refused:
        call_command("revenue_profile", "COLLECTION_BATCH_SIZE", bad, stdout=io.StringIO())
    assert refused.value.returncode == 2
    assert str(refused.value) == "COLLECTION_BATCH_SIZE must be a whole number 1–50000 [P6]"
    assert profile_get("COLLECTION_BATCH_SIZE") == "2000"


@pytest.mark.parametrize("bad", BAD_NUMBERS)
def test_reviewing_a_line_id_in_unicode_digits_exits_2(db, bad):
    with pytest.raises(CommandError) as refused:
        call_command("revenue_review", bad, stdout=io.StringIO())
    assert refused.value.returncode == 2
    assert str(refused.value) == (f"LINE_ID must be a staging id (a whole number): {bad[:30]}")


@pytest.mark.parametrize("bad", BAD_NUMBERS)
def test_a_report_periods_count_in_unicode_digits_exits_2(db, bad):
    with pytest.raises(CommandError) as refused:
        call_command("revenue_report", "waterfall", "--periods", bad, stdout=io.StringIO())
    assert refused.value.returncode == 2
    assert "--periods" in str(refused.value) and "whole number of periods" in str(refused.value)


@pytest.mark.parametrize("bad", BAD_NUMBERS)
def test_a_collection_batch_size_in_unicode_digits_exits_2(db, bad):
    with pytest.raises(CommandError) as refused:
        call_command("revenue_collect", "--batch-size", bad, stdout=io.StringIO())
    assert refused.value.returncode == 2
    assert str(refused.value) == "--batch-size must be a whole number between 1 and 50000"


@pytest.mark.parametrize("name", ["revenue_journalentry_export", "revenue_inboundline_export"])
def test_an_export_given_a_parameter_its_list_refuses_says_so(admin_client, demo, name):
    """Found by the crawl's new querystrings: ``?ids=²`` on an export (a parameter its list
    does not know) raised IncorrectLookupParameters (500); the list's ``?e=1`` page now."""
    response = admin_client.get(reverse(f"admin:{name}"), {"ids": "²"})
    assert response.status_code == 302 and response["Location"].endswith("?e=1")
