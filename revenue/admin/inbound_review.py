"""I5 made obvious: the RORD lines stopped by V6 (RPRO-00353) or V7 (RPRO-00356), a quick
link to them, and one action that marks them reviewed and starts a collection (I6).

The flag goes through ``inbound_review_set`` (audited; refuses non-RORD and collected
lines by name) and the run through ``collection_request`` (Celery, after commit).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from core.exceptions import BusinessRuleRefused

from ..models import InboundLine
from ..models.choices import LineStatus
from ..selectors_ledger import REVIEW_CODES, rords_awaiting_review
from ..services.collection import collection_request
from ..services.inbound import inbound_review_set
from .common import MORE_AFTER

AWAITING, UNMARKED, MARKED = "awaiting", "unmarked", "marked"


class RordReviewFilter(admin.SimpleListFilter):
    """RORDs stopped by V6 / V7, all of them or split by their review flag."""

    title = "RORD review (RPRO-00353 / RPRO-00356)"
    parameter_name = "rord_review"

    def lookups(self, request, model_admin):
        return [
            (AWAITING, "RORDs awaiting review"),
            (UNMARKED, "… not marked yet (N)"),
            (MARKED, "… marked Y, to be collected"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value not in (AWAITING, UNMARKED, MARKED):
            return queryset
        lines = rords_awaiting_review(queryset)
        if value == UNMARKED:
            return lines.exclude(rord_review_completed="Y")
        if value == MARKED:
            return lines.filter(rord_review_completed="Y")
        return lines


def review_counts() -> dict:
    """How many RORDs stopped by V6 / V7 wait, and how many are not marked yet (1 query)."""
    return rords_awaiting_review().aggregate(
        total=Count("pk"), unmarked=Count("pk", filter=~Q(rord_review_completed="Y"))
    )


def lines_named(lines) -> str:
    """'#12 RORD SO103-1, #13 RORD SO104-1' (the first few, then a count)."""
    shown = format_html_join(", ", "{}", ((str(x),) for x in lines[:MORE_AFTER]))
    more = len(lines) - MORE_AFTER
    return format_html("{} and {} more", shown, more) if more > 0 else shown


class RordReviewMixin:
    """For InboundLineAdmin: the quick link's context and *review and collect now*."""

    def has_collect_permission(self, request) -> bool:
        return request.user.has_perm("revenue.collect_now")

    def review_context(self, request) -> dict:
        base = reverse("admin:revenue_inboundline_changelist")
        name = RordReviewFilter.parameter_name
        return {
            "review": review_counts(),
            "review_url": f"{base}?{name}={AWAITING}",
            "review_active": request.GET.get(name, ""),
            "review_codes": REVIEW_CODES,
            "can_review": self.has_review_permission(request),
        }

    @admin.action(description="Mark RORD Review Completed and collect now", permissions=["review"])
    def review_and_collect(self, request, queryset):
        """I5 then I6: the flag on each line (V6 and V7 are skipped for it from then on),
        then one collection run, linked in the message. Refused lines are named."""
        accepted, problems = [], []
        for line in queryset.order_by("pk"):
            try:
                inbound_review_set(line_ids=[line.pk], value="Y", actor=request.user)
            except BusinessRuleRefused as refusal:
                problems.append(refusal.message)
            else:
                accepted.append(line.pk)
        self.message_refusals(request, problems, what="line(s)")
        if not accepted:
            return
        lines = list(InboundLine.objects.filter(pk__in=accepted).order_by("pk"))
        due = [x for x in lines if x.status == LineStatus.NEW or x.retry]
        stuck = [x for x in lines if x not in due]
        if stuck:
            self.message_user(
                request,
                "Not retried: "
                + "; ".join(f"{x} is stopped by {x.error_codes}" for x in stuck[:MORE_AFTER])
                + ". The review skips RPRO-00353 and RPRO-00356 only: edit the line to retry it.",
                level=messages.WARNING,
            )
        if not due:
            return
        names = lines_named(due)
        if not self.has_collect_permission(request):
            self.message_user(
                request,
                format_html(
                    "RORD Review Completed = Y on {}. You may not start a collection "
                    "(permission “Can start a collection run”): the next scheduled "
                    "collection collects them.",
                    names,
                ),
                level=messages.WARNING,
            )
            return
        run = collection_request(actor=request.user)
        url = reverse("admin:revenue_collectionrun_change", args=[run.pk])
        self.message_user(
            request,
            format_html(
                "RORD Review Completed = Y on {}; collection run {} queued to collect "
                'them (RPRO-00353 and RPRO-00356 skipped). <a href="{}">Follow its progress ›</a>',
                names,
                run.pk,
                url,
            ),
            level=messages.SUCCESS,
        )
