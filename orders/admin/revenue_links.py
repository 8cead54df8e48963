"""From a document's page to what it staged in revenue (I4; interchange.md emission table).

Every order, reduction order, invoice, credit memo and RMA page gets an object tool
"Revenue lines (N)": the revenue admin's Inbound list filtered to the lines the document
staged (``?document=<number>``: billing lines by INV_NUM, SO and RORD lines by SO_NUM);
orders and reduction orders also "SO lines in revenue (N)": the sub-ledger's SO lines of
their products (or of the products a reduction reduces). The counts are two index reads
whatever the number of lines; users who may not open revenue's lists see neither tool.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

from revenue.selectors_documents import document_numbers, document_revenue_counts

from ..models import OrderItem, OrderKind
from .extensions import ObjectTool


def _may_view(user, model: str) -> bool:
    return user.has_perm(f"revenue.view_{model}") or user.has_perm(f"revenue.change_{model}")


def revenue_tools(
    request, *, numbers: Iterable[str], so_line_ids: Iterable[str] = ()
) -> list[ObjectTool]:
    """The page's "Revenue lines (N)" and "SO lines in revenue (N)" tools."""
    numbers, ids = document_numbers(numbers), document_numbers(so_line_ids)
    user = request.user
    show_lines = bool(numbers) and _may_view(user, "inboundline")
    show_so_lines = bool(ids) and _may_view(user, "soline")
    if not (show_lines or show_so_lines):
        return []
    try:
        lines_url = reverse("admin:revenue_inboundline_changelist")
        so_lines_url = reverse("admin:revenue_soline_changelist")
    except NoReverseMatch:  # the revenue admin is not installed
        return []
    lines, so_lines = document_revenue_counts(
        numbers=numbers if show_lines else (), so_line_ids=ids if show_so_lines else ()
    )
    tools = []
    if show_lines:
        tools.append(
            ObjectTool(
                label=f"Revenue lines ({lines})",
                url=f"{lines_url}?{urlencode({'document': ','.join(numbers)})}",
                id="revenue-lines",
                title=f"The transaction lines {', '.join(numbers)} staged in revenue (Inbound)",
            )
        )
    if show_so_lines:
        tools.append(
            ObjectTool(
                label=f"SO lines in revenue ({so_lines})",
                url=f"{so_lines_url}?{urlencode({'so_line_id__in': ','.join(ids)})}",
                id="revenue-so-lines",
                title="Their SO lines in the revenue sub-ledger: schedules, recognized and "
                "deferred revenue",
            )
        )
    return tools


def order_so_line_ids(order) -> list[str]:
    """The SO line ids of an order's products (``<number>-<line>``), or, for a reduction
    order, of the products it reduces. One query."""
    items = OrderItem.objects.filter(order=order).order_by("line_number")
    if order.kind == OrderKind.REDUCTION:
        rows = items.filter(original_order_item__isnull=False).values_list(
            "original_order_item__order__number", "original_order_item__line_number"
        )
        return [f"{number}-{line}" for number, line in rows]
    return [f"{order.number}-{line}" for line in items.values_list("line_number", flat=True)]
