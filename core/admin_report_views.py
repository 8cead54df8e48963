"""The pages of the admin's "Reports" (close.md): one template for every registered report.

A page is the filters (a GET form: a bad value is a form error, never a 500), the identity
the figures prove, the totals per currency, a chart where the report has one, and the rows
a page at a time (50), every figure linked to the journal rows behind it. A report that
pages over groups (the waterfall by contract…) reads only the page's groups; its totals
come from ``AdminReport.totals``. Downloads: CSV streamed, XLSX written at once when small
and by a Celery task with a progress bar when large (``core.report_exports``).
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from itertools import islice
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.template.response import TemplateResponse
from django.urls import reverse

from core.exceptions import BusinessRuleRefused
from core.parsing import ascii_int

from .admin_reports import AdminReport, admin_report_get, admin_report_options, admin_reports_for

WORD = re.compile(r"^[a-z_]{1,20}$")  # a status word: styled (report-severity-blocker)
PER_PAGE = 50
CSV_BATCH = 1000  # rows per chunk of a streamed CSV
XLSX_CONTENT = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def report_allowed(request, slug: str) -> AdminReport:
    """The registered report ``slug`` if the user may see it: 404 / 403 otherwise."""
    report = admin_report_get(slug)
    if report is None:
        raise Http404("No such report.")
    if not report.allowed(request.user):
        raise PermissionDenied
    return report


# --- cells ---------------------------------------------------------------------------------


def figure_text(amount, currency: str) -> str:
    """An amount as the page prints it: the currency's minor unit (JPY 0 decimals),
    thousands separators, the ASCII minus sign, never ``-0.00``."""
    from revenue.reports.base import amount_text

    return format(Decimal(amount_text(amount, currency)), ",f")


def period_text(period) -> str:
    period = int(period)
    return f"{period // 100:04d}-{period % 100:02d}"


@dataclass
class Cell:
    text: str = ""
    url: str = ""
    number: bool = False
    negative: bool = False
    zero: bool = False
    css: str = ""


@dataclass
class Table:
    head: list[Cell]
    rows: list[list[Cell]] = field(default_factory=list)


def flat_columns(columns) -> list[tuple]:
    """One (column, period sub-key) per printed cell: a ``periods`` column spreads."""
    from revenue.reports.base import PERIODS

    cells = []
    for column in columns:
        if column.kind == PERIODS:
            cells += [(column, key) for key in column.subkeys]
        else:
            cells.append((column, None))
    return cells


def table_of(columns, rows, link=None) -> Table:
    from revenue.reports.base import AMOUNT, COUNT, PERIOD, PERIODS

    cells = flat_columns(columns)
    head = [
        Cell(
            period_text(sub) if sub else column.label,
            number=column.kind in (AMOUNT, PERIODS, COUNT),
        )
        for column, sub in cells
    ]
    table = Table(head)
    for row in rows:
        line = []
        for column, sub in cells:
            value = row.get(column.key)
            if sub is not None:
                value = (value or {}).get(sub)
            url = link(row, column.key, sub) if link else ""
            if value is None:
                line.append(Cell("", url))
            elif column.kind in (AMOUNT, PERIODS):
                line.append(
                    Cell(
                        figure_text(value, row["currency"]),
                        url,
                        number=True,
                        negative=Decimal(value) < 0,
                        zero=Decimal(value) == 0,
                    )
                )
            elif column.kind == COUNT:
                line.append(Cell(str(int(value)), url, number=True))  # ids, line numbers
            elif column.kind == PERIOD:
                line.append(Cell(period_text(value), url))
            else:
                text = str(value)
                css = f"report-{column.key}-{text}" if WORD.match(text) else ""
                line.append(Cell(text, url, css=css))
        table.rows.append(line)
    return table


def total_columns(columns):
    from revenue.reports.base import AMOUNT, PERIODS, Column

    return [Column("currency", "Currency")] + [
        c.as_total for c in columns if c.kind in (AMOUNT, PERIODS)
    ]


# --- a page of rows ------------------------------------------------------------------------


class _Counted:
    """What Paginator needs of a streamed report: how many rows, and the kept page."""

    def __init__(self, count: int, start: int, rows: list[dict]):
        self._count, self.start, self.rows = count, start, rows

    def count(self) -> int:
        return self._count

    def __getitem__(self, item: slice):
        return self.rows[item.start - self.start : item.stop - self.start]


def page_number(request) -> int:
    """``?p=``: a page number (past the last page: the last one), else the first."""
    number = ascii_int(request.GET.get("p", "1")[:12])
    return 1 if number is None else max(1, min(number, 10**9))


def streamed_page(rows, number: int):
    """Read the report's rows once: keep page ``number`` (or the last page when there are
    fewer), count all of them. The totals are summed on the way."""
    start = (number - 1) * PER_PAGE
    kept: list[dict] = []
    last: list[dict] = []
    count = 0
    for count, row in enumerate(rows, start=1):
        if (count - 1) % PER_PAGE == 0:
            last = []
        last.append(row)
        if start < count <= start + PER_PAGE:
            kept.append(row)
    pages = max(1, math.ceil(count / PER_PAGE))
    if number > pages:
        number, kept = pages, last if count else []
    start = (number - 1) * PER_PAGE
    return Paginator(_Counted(count, start, kept), PER_PAGE).page(number)


@dataclass
class ReportPage:
    """What the template and a chart builder read."""

    report: object  # revenue.reports.base.Report
    options: dict
    totals: list[dict]
    page: object
    rows: list[dict]
    sections: list[dict] = field(default_factory=list)


def report_page_build(admin_report: AdminReport, options: dict, number: int) -> ReportPage:
    if admin_report.groups is not None:
        keys = admin_report.groups(**options)
        page = Paginator(keys, PER_PAGE).get_page(number)
        built = admin_report.builder(**options, groups=list(page.object_list))
        rows = list(built.rows)
        totals = admin_report.totals(**options) if admin_report.totals else []
    else:
        built = admin_report.builder(**options)
        page = streamed_page(built.rows, number)
        rows = list(page.object_list)
        totals = admin_report.totals(**options) if admin_report.totals else built.total_rows()
    sections = []
    for section in built.sections:
        shown = list(islice(section.rows, PER_PAGE + 1))
        # a section read only in part holds a database cursor open (PostgreSQL: a named
        # one): close it now, at a safe point. Left to the garbage collector, psycopg
        # closes it from inside a later query on the same connection and waits for ever.
        close = getattr(section.rows, "close", None)
        if close is not None:
            close()
        sections.append(
            {"section": section, "rows": shown[:PER_PAGE], "more": len(shown) > PER_PAGE}
        )
    return ReportPage(built, {**options, "period": built.period}, totals, page, rows, sections)


def report_view(site, request, slug: str):
    admin_report = report_allowed(request, slug)
    form, options = admin_report_options(admin_report, request.GET)
    context = {
        **site.each_context(request),
        "title": admin_report.title,
        "subtitle": None,
        "admin_report": admin_report,
        "form": form,
        "reports": admin_reports_for(request.user),
    }
    if options is not None:
        try:
            context.update(_page_context(admin_report, form, options, request))
        except BusinessRuleRefused as refusal:
            name = refusal.field if refusal.field in form.fields else None
            form.add_error(name, refusal.message)
    return TemplateResponse(request, "admin/reports/report.html", context)


def _page_context(admin_report, form, options, request) -> dict:
    built = report_page_build(admin_report, options, page_number(request))
    link = admin_report.links(built.rows, built.options) if admin_report.links else None
    total_link = admin_report.links(built.totals, built.options) if admin_report.links else None
    charts = admin_report.chart(built) if admin_report.chart else None
    if isinstance(charts, dict):
        charts = [charts]
    query = form.query()
    page = built.page
    return {
        "built": built,
        "report": built.report,
        "page": page,
        "page_range": list(page.paginator.get_elided_page_range(page.number))
        if page.paginator.num_pages > 1
        else [],
        "rows": table_of(built.report.columns, built.rows, link),
        "totals": table_of(total_columns(built.report.columns), built.totals, total_link),
        "sections": [
            {
                **s,
                "table": table_of(s["section"].columns, s["rows"]),
            }
            for s in built.sections
        ],
        "charts": charts or [],
        "query": urlencode(query),
        "params": [(k, v) for k, v in built.report.params.items()],
    }


# --- downloads ----------------------------------------------------------------------------


def csv_chunks(report):
    """The report as ``revenue_report KIND --format csv`` writes it, a batch of rows at a
    time: the same writer, so the download and the command give the same bytes; memory
    holds one batch."""
    from revenue.reports.output import write_text

    out = io.StringIO()
    write_text(replace(report, rows=[]), fmt="csv", out=out)
    yield out.getvalue()
    rows = iter(report.rows)
    while batch := list(islice(rows, CSV_BATCH)):
        out = io.StringIO()
        write_text(replace(report, rows=batch), fmt="csv", out=out)
        yield out.getvalue().split("\n", 1)[1]  # without the header again


def download_name(report, fmt: str) -> str:
    """``waterfall-202602-asc606.csv``: the kind, the period and the basis (M1–M3)."""
    basis = getattr(report, "basis", "")
    return f"{report.kind}-{report.period}{'-' + basis if basis else ''}.{fmt}".replace("_", "-")


def download_view(site, request, slug: str):
    from .report_exports import ASYNC_ROWS, report_export_request

    admin_report = report_allowed(request, slug)
    fmt = request.GET.get("format", "")
    if fmt not in ("csv", "xlsx"):
        return HttpResponseBadRequest("format: give csv or xlsx.")
    form, options = admin_report_options(admin_report, request.GET)
    page_url = reverse("admin:report", args=[slug])
    if options is None:
        messages.error(request, "The filters are not valid: nothing was downloaded.")
        return HttpResponseRedirect(f"{page_url}?{urlencode(form.query())}")
    try:
        if fmt == "xlsx":
            estimate = admin_report.estimate(**options) if admin_report.estimate else 0
            if estimate and estimate > ASYNC_ROWS:
                export = report_export_request(
                    report=admin_report, query=form.query(), estimate=estimate, user=request.user
                )
                return HttpResponseRedirect(reverse("admin:report_export", args=[export.pk]))
        report = admin_report.builder(**options)
        if fmt == "csv":
            response = StreamingHttpResponse(
                csv_chunks(report), content_type="text/csv; charset=utf-8"
            )
        else:
            from revenue.reports.output import write_xlsx

            out = io.BytesIO()
            write_xlsx(report, out)
            response = HttpResponse(out.getvalue(), content_type=XLSX_CONTENT)
    except BusinessRuleRefused as refusal:
        messages.error(request, refusal.message)
        return HttpResponseRedirect(f"{page_url}?{urlencode(form.query())}")
    response["Content-Disposition"] = f'attachment; filename="{download_name(report, fmt)}"'
    return response


def reports_index_view(site, request):
    """Every report the user may open (the "Reports" heading's own page)."""
    context = {
        **site.each_context(request),
        "title": "Reports",
        "subtitle": None,
        "reports": admin_reports_for(request.user),
    }
    return TemplateResponse(request, "admin/reports/index.html", context)


# --- large downloads: progress, then the file ---------------------------------------------


def _export_allowed(request, export_id: int):
    from .models import ReportExport

    export = ReportExport.objects.filter(pk=export_id).first()
    if export is None:
        raise Http404("No such download.")
    return export, report_allowed(request, export.report)


def export_view(site, request, export_id: int):
    """A large download being written: a progress bar (``?state=1``: the same as JSON,
    polled by the page), then a link to the file."""
    from django.http import JsonResponse

    from .report_exports import report_export_state

    export, admin_report = _export_allowed(request, export_id)
    state = report_export_state(export)
    if request.GET.get("state") == "1":
        return JsonResponse(state)
    context = {
        **site.each_context(request),
        "title": f"{admin_report.title}: download",
        "subtitle": None,
        "admin_report": admin_report,
        "export": export,
        "state": state,
        "estimate_text": f"{export.rows_estimate:,}",
        "done_text": f"{export.rows_done:,}",
        "report_url": f"{reverse('admin:report', args=[admin_report.slug])}?"
        f"{urlencode(export.params)}",
    }
    return TemplateResponse(request, "admin/reports/export.html", context)


def export_file_view(site, request, export_id: int):
    from django.http import FileResponse

    export, _ = _export_allowed(request, export_id)
    if export.status != export.Status.DONE or not export.file:
        raise Http404("The file is not written yet.")
    try:
        handle = export.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is no longer there.") from None
    content = XLSX_CONTENT if export.fmt == "xlsx" else "text/csv; charset=utf-8"
    name = export.file.name.rsplit("/", 1)[-1]
    return FileResponse(handle, as_attachment=True, filename=name, content_type=content)
