"""The admin's "Reports": every app's reports under one heading of the site (close.md).

An app registers each report from its admin package::

    admin_report_register(
        "waterfall", title="Revenue waterfall", builder=..., permission="revenue.view_...",
        filters=WaterfallForm, chart=waterfall_chart, ...
    )

and the site (``config.admin.ContraAdminSite``) adds its pages (``reports/<slug>/``, the
downloads) and lists the reports a user may see under "Reports" on the index. The pages
themselves are ``core.admin_report_views``; a report is a ``revenue.reports.base.Report``
(columns, streamed rows, per-currency totals), whichever app builds it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django import forms


class ReportFilters(forms.Form):
    """The GET filters of a report page: bound to the query string, each field missing from
    it taking its ``initial`` (the default the command takes too), so that the page with no
    query shows the default report and a download repeats exactly what the page shows.

    ``options()`` are the cleaned values as the builder takes them ("" → None)."""

    def __init__(self, query=None, **kwargs):
        super().__init__(**kwargs)
        self.prepare()
        query = query or {}
        data = {}
        for name, field in self.fields.items():
            value = query.get(name)
            if value is None:
                value = self.get_initial_for_field(field, name)
            data[name] = "" if value is None else str(value)
        self.data = data
        self.is_bound = True

    def prepare(self) -> None:
        """Set the fields' choices and initial values (a subclass reads them here)."""

    def options(self) -> dict:
        return {k: (None if v in ("", None) else v) for k, v in self.cleaned_data.items()}

    def query(self) -> dict[str, str]:
        """The filters as a query string's items (download links, the pager)."""
        return {k: v for k, v in self.data.items() if v not in ("", None)}


# (row, column key, period sub-key or None) → the URL of the rows behind that figure, or ""
FigureLink = Callable[[dict, str, str | None], str]


@dataclass(frozen=True)
class AdminReport:
    """One report of the admin.

    - ``builder(**options)`` → the report; ``options`` are the ``filters`` form's
      cleaned data (and ``groups=[...]`` when the report pages over ``groups``);
    - ``permission``: what a user needs to see the page and its downloads;
    - ``filters``: a ``forms.Form`` of the page's GET filters (a bad value is a form
      error on the page, never a 500);
    - ``chart(page)`` → the context of ``admin/revenue/includes/chart.html`` or None;
    - ``totals(**options)`` → the per-currency totals (default: the report's own, after
      its rows were read);
    - ``groups(**options)`` → an ordered, sliceable sequence (a queryset) of the group
      keys the rows table pages over, so that a page reads only its groups' rows; None:
      the page reads the report's rows and shows a slice of them;
    - ``group_noun``: what one of those keys is, in the rows' heading ("60 groups");
    - ``links(rows, options)`` → a ``FigureLink`` for those rows (one call per table, so
      that the links of a page cost at most one query);
    - ``estimate(**options)`` → about how many rows a full download writes (a large one
      is written by a Celery task with a progress bar), None when small.
    """

    slug: str
    title: str
    builder: Callable
    permission: str
    filters: type[forms.Form]
    chart: Callable | None = None
    totals: Callable[..., list[dict]] | None = None
    groups: Callable[..., Sequence] | None = None
    group_noun: str = "group"
    links: Callable[[list[dict], dict], FigureLink] | None = None
    estimate: Callable[..., int] | None = None
    description: str = ""
    order: int = 100

    def allowed(self, user) -> bool:
        return bool(user.is_active and user.is_staff and user.has_perm(self.permission))


_REGISTRY: dict[str, AdminReport] = {}


def admin_report_register(
    slug: str,
    *,
    title: str,
    builder: Callable,
    permission: str,
    filters: type[forms.Form],
    chart: Callable | None = None,
    **more,
) -> AdminReport:
    """Add (or replace) the report ``slug``: its page is ``admin:report`` with ``[slug]``."""
    report = AdminReport(
        slug=slug,
        title=title,
        builder=builder,
        permission=permission,
        filters=filters,
        chart=chart,
        **more,
    )
    _REGISTRY[slug] = report
    return report


def admin_report_get(slug: str) -> AdminReport | None:
    return _REGISTRY.get(slug)


def admin_report_options(report: AdminReport, query) -> tuple[ReportFilters, dict | None]:
    """The report's filters bound to ``query`` and, when they are valid, the options of its
    builder (None when the form has errors: the page shows them)."""
    form = report.filters(query)
    return form, (form.options() if form.is_valid() else None)


def admin_reports_for(user) -> list[AdminReport]:
    """The registered reports ``user`` may open, in their order."""
    return sorted(
        (report for report in _REGISTRY.values() if report.allowed(user)),
        key=lambda report: (report.order, report.title),
    )
