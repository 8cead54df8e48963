"""Reads that list pages share."""

from __future__ import annotations

from django.db.models import Count, IntegerField, Subquery
from django.db.models.functions import Coalesce


def correlated_count(rows):
    """How many ``rows`` there are per outer row, 0 when none: ``rows`` is a queryset
    filtered on ``OuterRef("pk")`` and reduced to that column by ``.order_by().values(…)``.
    A correlated subquery, so the database counts for the rows of the page only, not with
    a GROUP BY over the whole table; ``COUNT(*)``, so an index that holds the filter's
    columns answers without the table."""
    return Coalesce(
        Subquery(rows.annotate(n=Count("*")).values("n"), output_field=IntegerField()), 0
    )
