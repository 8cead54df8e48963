"""What the order, billing and returns resources share: money as text, lookups by number,
and a service's refusal turned into the API's answer with the request's field names."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.exceptions import BusinessRuleRefused, BusinessRulesRefused

from ..errors import TransitionRefused


@extend_schema_field(OpenApiTypes.DECIMAL)
class AmountField(serializers.Field):
    """A money value's amount as text ("12.50"); its currency is the document's."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value) -> str | None:
        return None if value is None else str(value.amount)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class TransitionOptionsSerializer(ReasonSerializer):
    """A transition's optional comment (kept in the audit trail)."""


def refusals_of(refusal: BusinessRuleRefused) -> list[BusinessRuleRefused]:
    return list(refusal.refusals) if isinstance(refusal, BusinessRulesRefused) else [refusal]


def renamed(
    refusal: BusinessRuleRefused, rename: Callable[[str | None], str | None]
) -> BusinessRuleRefused:
    """The same refusal(s), each field named as the request names it."""
    problems = [
        BusinessRuleRefused(rule=p.rule, message=p.message, field=rename(p.field))
        for p in refusals_of(refusal)
    ]
    if isinstance(refusal, BusinessRulesRefused) or len(problems) > 1:
        return BusinessRulesRefused(problems)
    return problems[0]


def _top(field: str | None) -> str:
    return re.split(r"[.\[]", field or "", maxsplit=1)[0]


def refuse(
    refusal: BusinessRuleRefused,
    *,
    rename: Callable[[str | None], str | None] = lambda field: field,
    inputs: Iterable[str] = (),
    conflict: bool = True,
):
    """Raise the refusal as the API answers it: a 400 (bad input) when every problem
    names a field of the request (``inputs``), or when ``conflict`` is False (creating
    something); else a 409 (a refused state change), ``code`` the rule ID."""
    refusal = renamed(refusal, rename)
    inputs = set(inputs)
    fields = [_top(p.field) for p in refusals_of(refusal)]
    if conflict and not (inputs and all(f in inputs for f in fields)):
        raise TransitionRefused(refusal) from None
    raise refusal from None


def id_renamer(
    patterns: dict[str, str], index_of: dict[int, int], collection: str
) -> Callable[[str | None], str | None]:
    """Service fields such as ``quantity_17`` (17 a row's id) as request paths
    ``lines[0].quantity``: ``patterns`` maps a field's prefix to its name in the request,
    ``index_of`` a row id to its place in ``collection``; other fields are kept."""

    def rename(field: str | None) -> str | None:
        for prefix, name in patterns.items():
            found = re.fullmatch(rf"{re.escape(prefix)}_(\d+)(?:_(\w+))?", field or "")
            if found:
                index = index_of.get(int(found.group(1)))
                where = collection if index is None else f"{collection}[{index}]"
                tail = found.group(2)
                return f"{where}.{name}" + (f".{tail}" if tail else "") if name else where
        return field

    return rename
