"""Bad input to the admin: every page, form and action, never a 500.

On the demo data (``load_demo``), as a superuser (every page opens) and, for a subset, as
the ops clerk of ``tests/conftest.py``:

- every URL of the admin site — each registered ModelAdmin's pages and custom
  ``get_urls`` pages, the site's own — opened with existing ids (one object per state),
  a missing id and malformed ones ('abc', '999999999999', '1%00', digits that are not
  ASCII '²', '٣', '𝟗' and a 5,000-digit number, …), each FSM transition and a made-up one;
  each custom page with those digits in its querystring (?ids=, ?p=, ?period=, …);
- every changelist with malformed querystrings (?status=zzz, ?o=999, ?p=-1,
  ?date__gte=notadate, ?q=<5,000 characters>, ?q=#², and each of its filters' parameters,
  also given the non-ASCII digits);
- every POST form found on those pages (add / change forms, Record fulfilment, reduce,
  cancel product, create RMA, return items, simple return / cancel, period open / close,
  inbound upload and edit, reason and date forms, transitions, deletions), submitted
  empty, as rendered, with every field malformed (letters, huge, negative, bad dates,
  10,000 characters, NUL bytes, unknown choices), with a broken management form, and one
  field at a time;
- every admin action on one object per state, on several, on malformed and missing ids,
  with no selection, across all, with a malformed index, and its confirmation page.

The test client re-raises what a view raises: each request is caught and every
exception or answer ≥ 500 is listed with its URL and the product frame it came from.
"""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from tests.factories import third_party_admin_objects

from .crawl import Crawler
from .crawl_run import (
    crawl_actions,
    crawl_blind_posts,
    crawl_forms,
    crawl_pages,
)


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)
    third_party_admin_objects()


def crawler_for(user) -> Crawler:
    client = Client()  # raise_request_exception=True: Crawler.send catches and records
    client.force_login(user)
    return Crawler(client)


def report(crawler: Crawler, name: str) -> str:
    counts = dict(crawler.counts)
    print(f"\n{name}: {counts}, {len(crawler.problems)} problem(s)")
    return f"{len(crawler.problems)} request(s) failed:\n" + "\n".join(crawler.problems[:400])


def test_every_admin_page_and_querystring_answers_below_500(demo, admin_user):
    crawler = crawler_for(admin_user)
    crawl_pages(crawler, admin_user)
    assert crawler.counts["pages"] > 400 and crawler.counts["querystrings"] > 500
    assert not crawler.problems, report(crawler, "pages")
    report(crawler, "pages")


def test_every_admin_form_submitted_malformed_answers_below_500(demo, admin_user):
    crawler = crawler_for(admin_user)
    # the pages with malformed ids have no form: the page test opens them
    forms = crawl_pages(crawler, admin_user, queries=False, malformed=False)
    crawl_forms(crawler, forms)
    crawl_blind_posts(crawler, admin_user)
    assert crawler.counts["forms"] > 100 and crawler.counts["POST"] > 2000
    assert crawler.counts["blind"] > 50
    assert not crawler.problems, report(crawler, "forms")
    report(crawler, "forms")


def test_every_admin_action_with_bad_selections_answers_below_500(demo, admin_user):
    crawler = crawler_for(admin_user)
    crawl_actions(crawler, admin_user)
    assert crawler.counts["actions"] >= 15
    assert not crawler.problems, report(crawler, "actions")
    report(crawler, "actions")


def test_the_ops_clerk_crawl_answers_below_500(demo, ops_user):
    """A subset as a user with the order permissions only: every page, the forms in
    short, the actions without their confirmation pages."""
    crawler = crawler_for(ops_user)
    forms = crawl_pages(crawler, ops_user, queries=False)
    crawl_forms(crawler, forms, variants_per_shape=0, full=False)
    crawl_actions(crawler, ops_user, follow=False)
    assert crawler.counts["pages"] > 400
    assert not crawler.problems, report(crawler, "ops")
    report(crawler, "ops")
