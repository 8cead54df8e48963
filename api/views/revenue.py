"""The revenue sub-ledger's API (interchange.md "HTTP API"): thin views over revenue's
services and selectors; the same permissions as the admin."""

from __future__ import annotations

import io
import itertools

from django.db import transaction
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import BusinessRuleRefused
from core.parsing import ascii_int
from revenue.models import CollectionRun, InboundBatch, InboundLine, JournalEntry, Period, SoLine
from revenue.reports import KINDS, report_build
from revenue.reports.base import BASES, GROUPINGS
from revenue.reports.ledger import check_options
from revenue.reports.output import write_json
from revenue.selectors import EXPORTS
from revenue.services.collection import collection_request
from revenue.services.inbound import inbound_review_set, inbound_stage
from revenue.services.inbound_read import InboundFileRefused, inbound_rows_read
from revenue.services.manual import so_line_dates_change, so_line_hold, so_line_release
from revenue.services.periods import period_close, period_parse

from ..errors import TransitionRefused
from ..permissions import ModelPermissions

MAX_BODY_ROWS = 100_000


class InboundLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = InboundLine
        fields = [
            "id",
            "batch",
            "row_number",
            "status",
            "tran_type",
            "so_num",
            "so_line_id",
            "orig_so_line_id",
            "inv_num",
            "inv_line_id",
            "ext_sll_prc",
            "curr",
            "start_date",
            "end_date",
            "error_codes",
            "errors",
            "parse_errors",
            "waiting",
            "rord_review_completed",
            "collected_at",
            "raw",
        ]


class InboundLineViewSet(viewsets.ReadOnlyModelViewSet, mixins.CreateModelMixin):
    """Staged lines: GET lists them (filters ``status``, ``tran_type``, ``batch``,
    ``error_code``, ``so_line_id``); POST stages a JSON array (or a CSV body) of rows in
    the inbound format, as ``revenue_import`` does: rows that do not parse are kept,
    stopped with INB-000, and listed in the answer."""

    model = InboundLine
    serializer_class = InboundLineSerializer
    permission_classes = [ModelPermissions]
    write_permissions = {
        "create": ("revenue.add_inboundline",),
        "review": ("revenue.review_inboundline",),
    }

    def get_queryset(self):
        lines = InboundLine.objects.order_by("-id")
        params = self.request.query_params
        for name in ("status", "tran_type", "so_line_id"):
            if params.get(name):
                lines = lines.filter(**{name: params[name]})
        if params.get("batch"):
            batch = ascii_int(params["batch"])
            lines = lines.filter(batch_id=batch) if batch is not None else lines.none()
        if params.get("error_code"):
            lines = lines.filter(status="ERROR", error_codes__contains=params["error_code"])
        return lines

    @extend_schema(request={"application/json": {"type": "array", "items": {"type": "object"}}})
    def create(self, request, *args, **kwargs):
        rows = self._rows(request)
        batch = inbound_stage(
            rows=rows, source=InboundBatch.SourceKind.API, filename="", actor=request.user
        )
        stopped = batch.lines.exclude(parse_errors=[]).order_by("row_number")
        return Response(
            {
                "batch": batch.pk,
                "staged": batch.line_count,
                "parse_errors": [
                    {"row": line.row_number, "id": line.pk, "errors": line.parse_errors}
                    for line in stopped[:1000]
                ],
            },
            status=201,
        )

    def _rows(self, request) -> list[dict]:
        kind = (request.content_type or "").split(";")[0].strip()
        name = "upload.csv" if kind in ("text/csv", "application/csv") else "upload.json"
        try:
            rows = list(
                itertools.islice(
                    inbound_rows_read(stream=io.BytesIO(request.body), filename=name),
                    MAX_BODY_ROWS + 1,
                )
            )
        except InboundFileRefused as refusal:
            raise ValidationError({"body": [str(refusal)]}) from None
        if not rows:
            raise ValidationError({"body": ["no rows: send a JSON array of inbound rows"]})
        if len(rows) > MAX_BODY_ROWS:
            raise ValidationError(
                {"body": [f"at most {MAX_BODY_ROWS:,} rows a request: split the file"]}
            )
        return rows

    @extend_schema(request={"application/json": {"type": "object"}})
    @action(detail=False, methods=["post"])
    def review(self, request):
        """RORD Review Completed = Y (or N) on staged RORD lines: ``{"ids": [..],
        "value": "Y"}``."""
        ids = request.data.get("ids") if isinstance(request.data, dict) else None
        value = request.data.get("value", "Y") if isinstance(request.data, dict) else "Y"
        if not isinstance(ids, list) or not ids or not all(isinstance(i, int) for i in ids):
            raise ValidationError({"ids": ["a list of staged line ids (integers)"]})
        if value not in ("Y", "N"):
            raise ValidationError({"value": ["Y or N"]})
        changed = inbound_review_set(line_ids=ids, value=value, actor=request.user)
        return Response({"changed": changed})


class CollectionRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = CollectionRun
        fields = [
            "id",
            "trigger",
            "status",
            "period",
            "total",
            "processed",
            "collected",
            "stopped",
            "waiting",
            "created_at",
            "started_at",
            "finished_at",
            "message",
        ]


class CollectionRunViewSet(viewsets.ReadOnlyModelViewSet, mixins.CreateModelMixin):
    """Collection runs: GET their progress; POST starts one (a Celery worker runs it)."""

    model = CollectionRun
    serializer_class = CollectionRunSerializer
    permission_classes = [ModelPermissions]
    write_permissions = {"create": ("revenue.collect_now",)}
    queryset = CollectionRun.objects.order_by("-id")

    @extend_schema(request=None)
    def create(self, request, *args, **kwargs):
        run = collection_request(actor=request.user, trigger=CollectionRun.Trigger.API)
        return Response(CollectionRunSerializer(run).data, status=202)


class PeriodSerializer(serializers.ModelSerializer):
    class Meta:
        model = Period
        fields = ["id", "status", "opened_at", "closed_at", "trial_balance"]


class PeriodCloseSerializer(serializers.Serializer):
    through = serializers.CharField(required=False, help_text="YYYYMM: close up to it")
    force = serializers.BooleanField(required=False, default=False)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class PeriodViewSet(viewsets.ReadOnlyModelViewSet):
    """Periods; POST ``periods/close/`` closes the open one (S2, M4's checklist first)."""

    model = Period
    serializer_class = PeriodSerializer
    permission_classes = [ModelPermissions]
    write_permissions = {"close": ("revenue.close_period",)}
    queryset = Period.objects.order_by("-id")

    @extend_schema(request=PeriodCloseSerializer, responses=PeriodSerializer(many=True))
    @action(detail=False, methods=["post"])
    def close(self, request):
        form = PeriodCloseSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        through = form.validated_data.get("through")
        through = period_parse(through, field="through") if through else None  # else 400
        try:
            with transaction.atomic():
                closed = period_close(
                    actor=request.user,
                    through=through,
                    force=form.validated_data["force"],
                    reason=form.validated_data["reason"],
                )
        except BusinessRuleRefused as refusal:
            raise TransitionRefused(refusal) from None
        return Response(PeriodSerializer(closed, many=True).data)


class SoLineSerializer(serializers.ModelSerializer):
    ext_sll_prc = serializers.SerializerMethodField()
    currency = serializers.SerializerMethodField()

    class Meta:
        model = SoLine
        fields = [
            "so_line_id",
            "so_num",
            "customer",
            "item",
            "quantity",
            "currency",
            "ext_sll_prc",
            "rev_method",
            "start_date",
            "end_date",
            "rev_start_date",
            "rev_end_date",
            "return_flag",
            "hold",
            "dates_changed",
            "manually_released",
        ]

    def get_ext_sll_prc(self, line) -> str:
        return str(line.ext_sll_prc.amount)

    def get_currency(self, line) -> str:
        return str(line.ext_sll_prc.currency)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class DatesSerializer(ReasonSerializer):
    start_date = serializers.DateField()
    end_date = serializers.DateField()


class SoLineViewSet(viewsets.ReadOnlyModelViewSet):
    """SO lines of the sub-ledger by ``SO_LINE_ID``; POST ``hold/``, ``release/`` (S10)
    and ``dates/`` (new revenue start and end) through the services."""

    model = SoLine
    serializer_class = SoLineSerializer
    permission_classes = [ModelPermissions]
    lookup_field = "so_line_id"
    lookup_value_regex = "[^/]+"
    write_permission_default = ("revenue.manage_schedule",)
    queryset = SoLine.objects.order_by("so_line_id")

    def _act(self, request, service, form_class=ReasonSerializer):
        form = form_class(data=request.data)
        form.is_valid(raise_exception=True)
        line = self.get_object()
        options = dict(form.validated_data)
        if "start_date" in options:
            options["start"], options["end"] = options.pop("start_date"), options.pop("end_date")
        try:
            line = service(line=line, actor=request.user, **options)
        except BusinessRuleRefused as refusal:
            raise TransitionRefused(refusal) from None
        return Response(SoLineSerializer(line).data)

    @extend_schema(request=ReasonSerializer)
    @action(detail=True, methods=["post"])
    def hold(self, request, so_line_id=None):
        return self._act(request, so_line_hold)

    @extend_schema(request=ReasonSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, so_line_id=None):
        return self._act(request, so_line_release)

    @extend_schema(request=DatesSerializer)
    @action(detail=True, methods=["post"])
    def dates(self, request, so_line_id=None):
        return self._act(request, so_line_dates_change, DatesSerializer)


PAGE = OpenApiParameter("page", int, description="1-based page")
PAGE_SIZE = OpenApiParameter("page_size", int, description="rows a page (at most 1,000)")


class ExportView(APIView):
    """An export's rows (``revenue_export`` columns), a page at a time: ``{"count": null,
    "next": …, "results": [{column: value}]}`` in the export's order."""

    model = JournalEntry
    permission_classes = [ModelPermissions]
    kind = "journal"

    @extend_schema(parameters=[PAGE, PAGE_SIZE], responses={200: dict})
    def get(self, request):
        page = ascii_int(request.query_params.get("page", "1"))
        size = ascii_int(request.query_params.get("page_size", "100"))
        if page is None or page < 1:
            raise ValidationError({"page": ["a page number from 1"]})
        if size is None or not 1 <= size <= 1000:
            raise ValidationError({"page_size": ["from 1 to 1,000 rows a page"]})
        columns, producer = EXPORTS[self.kind]
        rows = list(itertools.islice(producer(), (page - 1) * size, page * size + 1))
        more = len(rows) > size
        url = request.build_absolute_uri(request.path)
        return Response(
            {
                "next": f"{url}?page={page + 1}&page_size={size}" if more else None,
                "previous": f"{url}?page={page - 1}&page_size={size}" if page > 1 else None,
                "results": [
                    {c: _plain(v) for c, v in zip(columns, row, strict=True)} for row in rows[:size]
                ],
            }
        )


def _plain(value):
    return value if isinstance(value, (int, str)) or value is None else str(value)


class JournalView(ExportView):
    kind = "journal"


class ScheduleView(ExportView):
    model = SoLine
    kind = "schedule"


class ReportView(APIView):
    """A month-end report as ``revenue_report --format json`` gives it (close.md M1–M4):
    ``period``, ``through``, ``periods``, ``by``, ``currency``, ``basis`` as query
    parameters. A bad ``basis`` is a 400 naming it, whatever the report."""

    model = JournalEntry
    permission_classes = [ModelPermissions]

    @extend_schema(
        responses={200: dict},
        parameters=[
            OpenApiParameter("period", str, description="YYYYMM (default: the open period)"),
            OpenApiParameter("through", str, description="rollforward: the last period"),
            OpenApiParameter("periods", int, description="waterfall: periods ahead (1–120)"),
            OpenApiParameter("by", str, enum=list(GROUPINGS)),
            OpenApiParameter("currency", str, description="ISO 4217 code, e.g. USD"),
            OpenApiParameter(
                "basis",
                str,
                enum=list(BASES),
                description="waterfall, rollforward, balances: asc606 (default, with the "
                "carve) or contractual",
            ),
        ],
    )
    def get(self, request, kind: str):
        if kind not in KINDS:
            raise NotFound(f"no report {kind!r}: one of {', '.join(KINDS)}")
        params = request.query_params
        options = {name: params.get(name) for name in ("by", "currency", "basis")}
        if options["basis"]:
            check_options(basis=options["basis"])  # 400, errors {"basis": [...]}
        for name in ("period", "through"):
            if params.get(name):
                options[name] = period_parse(params[name], field=name)
        if params.get("periods"):
            periods = ascii_int(params["periods"])
            if periods is None or not 1 <= periods <= 120:
                raise ValidationError({"periods": ["a whole number of periods from 1 to 120"]})
            options["periods"] = periods
        report = report_build(kind, **{k: v for k, v in options.items() if v})
        out = io.StringIO()
        write_json(report, out)
        return HttpResponse(out.getvalue(), content_type="application/json")
