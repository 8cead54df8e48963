"""The crawl's three passes: pages (with malformed ids and querystrings), forms (every POST
form found on them, submitted empty, as rendered and malformed) and admin actions."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from .crawl import (
    SKIPPED_ACTIONS,
    UNICODE_DIGITS,
    Crawler,
    changelist_queries,
    model_urls,
    samples,
    site_urls,
    superuser_request,
)
from .crawl_forms import Form, page_forms

BAD_SELECTIONS = (["abc"], ["999999999999"], ["9" * 30], ["-1"], ["1\x00"], [])
# what the custom pages read from their querystring (?ids= of the collection progress, ?p=
# of a report, ...): each given every kind of digits that are not ASCII at once
PAGE_PARAMS = ("ids", "p", "period", "through", "batch", "q", "page")


def every_url(user, *, malformed: bool = True) -> list[str]:
    urls = site_urls()
    for model, model_admin in admin.site._registry.items():
        urls += model_urls(model, model_admin, user, malformed=malformed)
    return list(dict.fromkeys(urls))


def crawl_pages(
    crawler: Crawler, user, *, queries: bool = True, malformed: bool = True
) -> list[Form]:
    """GET every URL (also with missing and malformed ids unless ``malformed`` is off);
    then every changelist with malformed querystrings. Returns the POST forms found."""
    forms: list[Form] = []
    urls = every_url(user, malformed=malformed)
    for url in urls:
        response = crawler.send("GET", url)
        crawler.counts["pages"] += 1
        if response is not None and _is_html(response):
            forms += page_forms(response.content.decode(), url)
    if not queries:
        return forms
    for url in [u for u in urls if _is_custom_page(u)]:
        for digits in UNICODE_DIGITS:
            query = dict.fromkeys(PAGE_PARAMS, digits)
            crawler.send("GET", url, query, f"unicode digits {digits[:8]!r}")
            crawler.counts["querystrings"] += 1
    for model, model_admin in admin.site._registry.items():
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        for query in changelist_queries(model, model_admin, user):
            if "__problem__" in query:
                crawler.problems.append(f"changelist of {model._meta.label}: {query}")
                continue
            crawler.send("GET", url, query, f"querystring {sorted(query)}")
            crawler.counts["querystrings"] += 1
    return forms


def _is_custom_page(url: str) -> bool:
    """A page of a ModelAdmin's own ``get_urls`` (not its list or Django's standard ones)."""
    path = url.split("?")[0]
    return path.count("/") >= 5 and not path.endswith(STANDARD_PAGES)


def _is_html(response) -> bool:
    return response.status_code == 200 and "html" in response.get("Content-Type", "")


def crawl_forms(
    crawler: Crawler, forms: list[Form], *, variants_per_shape: int = 2, full: bool = True
) -> None:
    """Each distinct form (its URL shape and field names) in full: empty, as rendered,
    every field malformed per family, the management form broken, one field at a time;
    a few more of the same shape (other objects, other states) in short. Deletions last."""
    seen: dict[tuple, int] = {}
    deletions = [f for f in forms if "/delete/" in f.action]
    for form in [f for f in forms if f not in deletions] + deletions:
        count = seen.get(form.signature, 0)
        seen[form.signature] = count + 1
        if count <= variants_per_shape:
            crawler.submit(form, full=full and count == 0)


STANDARD_PAGES = ("/add/", "/change/", "/delete/", "/history/")
BLIND = {"period": "abc", "transition": "zzz", "reason": "x" * 10_000, "confirm": "yes"}


def crawl_blind_posts(crawler: Crawler, user) -> None:
    """POST to every custom page, also those whose form is not on a page now (a button
    shown in another state, a POST-only view): empty, and with malformed usual fields."""
    for url in every_url(user):
        if not _is_custom_page(url) or "autocomplete" in url:
            continue  # site pages and the standard ones are posted through their forms
        crawler.send("POST", url, {}, "blind empty")
        crawler.send("POST", url, BLIND, "blind malformed")
        crawler.counts["blind"] += 1


def crawl_actions(crawler: Crawler, user, *, follow: bool = True) -> None:
    """Every admin action of every ModelAdmin, on one object at a time (each state), on
    several, on ids that are malformed or missing, with no selection, across all, with a
    malformed index; its confirmation page, when it has one, is submitted like a form."""
    deletions = []
    for model, model_admin in admin.site._registry.items():
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        pks = [str(obj.pk) for obj in samples(model, model_admin, user)]
        actions = model_admin.get_actions(superuser_request(user))
        for name in actions:
            if name in SKIPPED_ACTIONS:
                continue
            if name.startswith("delete"):
                deletions.append((url, name, pks))
                continue
            _action(crawler, url, name, pks, follow=follow)
        crawler.send("POST", url, {"action": "zzz", "index": "0", ACTION_CHECKBOX_NAME: pks[:1]})
        crawler.send("POST", url, {}, "empty action POST")
    for url, name, pks in deletions:
        _action(crawler, url, name, pks, follow=follow)


def _action(crawler: Crawler, url: str, name: str, pks: list[str], *, follow: bool) -> None:
    crawler.counts["actions"] += 1
    selections = [[pk] for pk in pks[:4]] + [pks[:3]] + [list(s) for s in BAD_SELECTIONS]
    for index, selected in enumerate(selections):
        data = {"action": name, "index": "0", ACTION_CHECKBOX_NAME: selected}
        response = crawler.send("POST", url, data, f"action {name} on {selected}")
        if follow and index == 0 and response is not None and _is_html(response):
            for form in page_forms(response.content.decode(), url):
                if form.baseline().get("action") == [name]:  # its confirmation page
                    crawler.submit(form, full=False)
    for extra in ({"select_across": "1"}, {"index": "abc"}, {"index": "99999"}):
        data = {"action": name, "index": "0", ACTION_CHECKBOX_NAME: pks[:1], **extra}
        if extra.get("select_across") and name.startswith("delete"):
            continue  # would empty the table the later pages are opened on
        crawler.send("POST", url, data, f"action {name} {extra}")
