"""Every page of the admin site, every form on it and every admin action, sent existing,
missing and malformed ids, querystrings and POST data; every answer ≥ 500 and every
exception the test client re-raises is kept as a problem naming the request.

The pages are read from the admin site itself (each registered ModelAdmin's ``get_urls``,
custom pages included, and the site's own URLs), so a new page is crawled without being
declared here.
"""

from __future__ import annotations

import itertools
import re
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import RequestFactory

from .crawl_forms import FAMILIES, Form, submissions

PROJECT = Path(__file__).resolve().parents[2]
PRODUCT_DIRS = tuple(str(PROJECT / d) for d in ("core", "orders", "returns", "revenue", "config"))
# digits that are not ASCII ('²'.isdigit() is True, int('²') raises; int() reads '٣' and
# '𝟗') and a number longer than int() reads (4,300 digits) or a database integer holds
UNICODE_DIGITS = ("²", "٣", "𝟗", "9" * 5000)
# ids that are not there or not ids at all
NOT_THERE = (
    *("999999999999", "abc", "-1", "0", "1.5", quote("ä x"), "1%00", "9" * 30),
    *(quote(digits) for digits in UNICODE_DIGITS),
)
BAD_QUERY_VALUES = (
    "zzz",
    "notadate",
    "-1",
    "99999999999999999999999",
    "a\x00b",
    "x" * 2000,
    "1,2,abc",
    "2026-13-45",
    "",
)
GENERIC_QUERIES = (
    {"status": "zzz"},
    {"o": "999"},
    {"o": "-abc.1.x"},
    {"p": "-1"},
    {"p": "abc"},
    {"p": "999999999"},
    {"q": "x" * 5000},
    {"q": "a\x00b"},
    {"q": "'; DROP TABLE orders_order; --"},
    {"date__gte": "notadate"},
    {"id__in": "a,b"},
    {"all": ""},
    {"_popup": "1", "_to_field": "password"},
    {"e": "1"},
)
SKIPPED_ACTIONS = {"run_tasks"}  # django-celery-beat: sends Celery messages, no input


@dataclass
class Crawler:
    client: object
    problems: list[str] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)

    def send(self, method: str, url: str, data=None, label: str = ""):
        """One request in a savepoint (a failed one leaves the test's transaction usable);
        an exception or an answer ≥ 500 becomes a problem."""
        self.counts[method] += 1
        try:
            with transaction.atomic():
                response = getattr(self.client, method.lower())(url, data or {})
        except Exception as problem:  # the test client re-raises what the view raised
            self.problems.append(f"{method} {url} {label}: {_described(problem)}")
            return None
        if response.status_code >= 500:
            self.problems.append(f"{method} {url} {label}: answered {response.status_code}")
        return response

    def submit(self, form: Form, *, full: bool) -> int:
        sent = 0
        for label, data in submissions(form, full=full):
            self.send("POST", form.action, _with_files(form, data, label), label)
            sent += 1
        self.counts["forms"] += 1
        return sent


def _with_files(form: Form, data: dict, label: str) -> dict:
    if not form.files or label == "empty":
        return data
    content = FAMILIES.get(label.removeprefix("all "), "TRAN_TYPE\nSO\n").encode(
        errors="surrogatepass"
    )
    return {**data, **{name: SimpleUploadedFile("x.csv", content) for name in form.files}}


def _described(problem: Exception) -> str:
    frames = [
        f"{Path(f.filename).relative_to(PROJECT)}:{f.lineno} {f.name}"
        for f in traceback.extract_tb(problem.__traceback__)
        if f.filename.startswith(PRODUCT_DIRS)
    ]
    where = f" at {frames[-1]}" if frames else ""
    return f"{type(problem).__name__}: {str(problem)[:300]}{where}"


# --- which objects the pages are opened on ---------------------------------------------
def superuser_request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def samples(model, model_admin, user, *, most: int = 6) -> list:
    """Objects of ``model`` in as many different states (status, kind) as there are, the
    crawling user excluded (the crawl must not edit or delete itself)."""
    queryset = model_admin.get_queryset(superuser_request(user)).order_by("pk")
    if model is type(user):
        queryset = queryset.exclude(pk=user.pk)
    names = [f.name for f in model._meta.fields if f.name in ("status", "kind")]
    if not names:
        return list(queryset[:2])
    picked, seen = [], set()
    for obj in queryset[:500]:
        key = tuple(getattr(obj, name) for name in names)
        if key not in seen:
            seen.add(key)
            picked.append(obj)
        if len(picked) >= most:
            break
    return picked


def transitions_of(obj) -> list[str]:
    names = set()
    for f in obj._meta.fields:
        found = getattr(obj, f"get_all_{f.name}_transitions", None)
        if callable(found):
            names.update(t.name for t in found())
    return sorted(names)


def _related_ids(obj, param: str) -> list[str]:
    """``line_id`` → the ids of ``obj.lines`` (and of ``obj.processings`` for
    ``processing_id``): children of the object the URL names."""
    stem = param.removesuffix("_id")
    for name in (f"{stem}s", f"{stem}es"):
        manager = getattr(obj, name, None)
        if manager is not None and hasattr(manager, "values_list"):
            return [str(pk) for pk in manager.values_list("pk", flat=True)[:2]]
    return []


PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def _fill(route: str, values: dict[str, str]) -> str:
    return PARAM.sub(lambda m: values[m.group(2)], route)


def model_urls(model, model_admin, user, *, malformed: bool = True) -> list[str]:
    """Every URL of one ModelAdmin: each pattern with each sample object's id, missing and
    malformed ids, each transition (and a made-up one), each child id (and a missing one)."""
    prefix = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    objects = samples(model, model_admin, user)
    urls = []
    for pattern in model_admin.get_urls():
        route = str(pattern.pattern)
        params = [name for _, name in PARAM.findall(route)]
        if not params:
            urls.append(prefix + route)
            continue
        for obj in [*objects, *(NOT_THERE[:2] if malformed else ())]:
            real = not isinstance(obj, str)
            choices = {"object_id": [str(obj.pk) if real else obj]}
            for name in params:
                if name == "transition_name":
                    choices[name] = [*(transitions_of(obj) if real else ["cancel"]), "zzz"]
                elif name != "object_id":
                    choices[name] = [*(_related_ids(obj, name) if real else []), "999999999"]
            for combo in itertools.product(*(choices[name] for name in params)):
                urls.append(prefix + _fill(route, dict(zip(params, combo, strict=True))))
        if params == ["object_id"] and malformed:
            urls += [prefix + _fill(route, {"object_id": bad}) for bad in NOT_THERE[2:]]
    return urls


def site_urls() -> list[str]:
    """The site's own pages: index, app pages, password change, jsi18n, view on site,
    autocomplete (with good and malformed parameters), and paths that match nothing."""
    from django.contrib.contenttypes.models import ContentType

    labels = sorted({m._meta.app_label for m in admin.site._registry})
    urls = ["/admin/", "/admin/login/", "/admin/password_change/", "/admin/password_change/done/"]
    urls += ["/admin/jsi18n/", "/admin/zzz/", "/admin/orders/order/abc/change/extra/"]
    urls += [f"/admin/{label}/" for label in labels]
    some = ContentType.objects.get_for_model(next(iter(admin.site._registry)))
    urls += [f"/admin/r/{some.pk}/1/", f"/admin/r/{some.pk}/abc/", "/admin/r/abc/1/"]
    urls += ["/admin/r/999999/1/"]
    for model, model_admin in admin.site._registry.items():
        for name in model_admin.autocomplete_fields:
            base = f"app_label={model._meta.app_label}&model_name={model._meta.model_name}"
            urls += [f"/admin/autocomplete/?{base}&field_name={name}&term=a"]
            urls += [f"/admin/autocomplete/?{base}&field_name={name}&term={'x' * 3000}"]
            urls += [f"/admin/autocomplete/?{base}&field_name=zzz&term=a&page=-1"]
    urls += ["/admin/autocomplete/", "/admin/autocomplete/?app_label=zzz&model_name=x"]
    return urls


def changelist_queries(model, model_admin, user) -> list[dict]:
    """Malformed querystrings: the generic ones, then every parameter of the list's own
    filters and date hierarchy, each given a few malformed values (round robin)."""
    request = RequestFactory().get("/")
    request.user = user
    params: list[str] = []
    try:
        changelist = model_admin.get_changelist_instance(request)
        params += [p for spec in changelist.filter_specs for p in spec.expected_parameters()]
    except Exception as problem:  # the plain changelist page reports it too
        return [{"__problem__": _described(problem)}]
    queries = list(GENERIC_QUERIES)
    if model_admin.date_hierarchy:
        year, month, day = (f"{model_admin.date_hierarchy}__{p}" for p in ("year", "month", "day"))
        queries += [{year: value} for value in (*BAD_QUERY_VALUES, "9999", "0", "10000")]
        queries += [{year: "9999", month: "12"}, {year: "9999", month: "12", day: "31"}]
        queries += [{year: "2026", month: "13"}, {year: "2026", month: "2", day: "30"}]
        queries += [{month: "1"}, {year: "2026", day: "abc"}]
        queries += [{year: digits} for digits in UNICODE_DIGITS]
    queries += [{"q": text} for digits in UNICODE_DIGITS for text in (digits, f"#{digits}")]
    values = itertools.cycle(BAD_QUERY_VALUES)
    for param in dict.fromkeys(params):
        queries += [{param: next(values)} for _ in range(3)]
        queries += [{param: digits} for digits in UNICODE_DIGITS]
    return queries
