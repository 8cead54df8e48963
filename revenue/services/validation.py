"""V1–V16: the validation registry applied to staged lines, a batch at a time.

Everything a rule needs about other lines (their SO line, duplicates, collected RORDs)
is loaded once per batch by ``ValidationContext``; ``line_errors`` itself runs no query.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count

from ..models import InboundLine, SoLine, ValidationRule
from ..models.choices import LineStatus, TranType
from .refusals import LineRefusal

MANDATORY_SO = ("ext_lst_prc", "ext_sll_prc", "ord_qty", "curr", "f_cur", "so_line_id")
MANDATORY_BILL = (
    "ext_sll_prc",
    "curr",
    "f_cur",
    "so_line_id",
    "inv_line_id",
    "inv_date",
    "inv_num",
)
MANDATORY = {
    TranType.SO: (*MANDATORY_SO, "so_date"),
    TranType.INV: (*MANDATORY_SO, "inv_qty", "inv_line_id", "inv_date", "inv_num"),
    TranType.RORD: (*MANDATORY_SO, "so_date", "orig_so_line_id"),
    TranType.CM_RO: (*MANDATORY_BILL, "orig_so_line_id"),
    TranType.CM: MANDATORY_BILL,
    TranType.CM_R: MANDATORY_BILL,
}
WAITING = "INB-004"

# The registry's code of each V rule (``settings.REGISTRY``, tested to agree), so that
# ``grep -n V9`` reaches its check.
V1 = "INB-001"  # mandatory fields
V2 = "RPRO-00030"  # a RORD names its ORIG_SO_LINE_ID
V3_SELL, V3_LIST = "RPRO-00058", "INB-002"  # a RORD's prices are negative
V4 = "RPRO-00072"  # ORD_QTY > 0
V5 = "INB-003"  # a RORD has no CANCEL_FLAG / RETURN_FLAG
V6 = "RPRO-00353"  # inside the SO line's dates
V7 = "RPRO-00356"  # the SO line's dates or hold were changed by hand
V8 = "RPRO-00082"  # the SO line's currency
V9 = "RPRO-00357"  # no more than the SO line's net sell price
V10 = "RPRO-00620"  # the SO line was not returned in full
V11 = "RPRO-00683"  # a CM-RO has a collected RORD
V12 = WAITING  # the SO line is collected (else the line waits)
V13 = "INB-005"  # a line id once per batch, same values across batches
V14 = "INB-006"  # ORD_QTY within the SO line's quantity net of returns
V15 = "INB-007"  # SSP_PCT / SSP_PRICE not negative, and not both on one line
V16 = "INB-008"  # SSP_PCT needs a list price; only SO lines carry an SSP


def rules_enabled() -> dict[str, ValidationRule]:
    return {rule.code: rule for rule in ValidationRule.objects.filter(enabled=True)}


@dataclass
class ValidationContext:
    rules: dict[str, ValidationRule]
    so_lines: dict[str, SoLine]
    conflicts: set[tuple[int, str, str]] = field(default_factory=set)
    has_rord: set[int] = field(default_factory=set)  # SO lines with a collected RORD
    # TRAN_TYPE → the enabled rules that check it (``ValidationRule.types`` parsed once)
    by_type: dict[str, dict[str, ValidationRule]] = field(default_factory=dict)

    def __post_init__(self):
        for code, rule in self.rules.items():
            for kind in rule.types:
                self.by_type.setdefault(kind, {})[code] = rule

    @classmethod
    def load(
        cls, *, lines: list[InboundLine], so_lines: dict[str, SoLine], rules
    ) -> ValidationContext:
        ctx = cls(rules=rules, so_lines=so_lines)
        if "INB-005" in rules:
            keys = {line.line_key for line in lines if line.line_key}
            batches = {line.batch_id for line in lines}
            groups = (
                InboundLine.objects.filter(batch_id__any=batches, line_key__any=keys)
                .exclude(status=LineStatus.WITHDRAWN)  # I4: never compared (V13)
                .values_list("batch_id", "tran_type", "line_key")
                .annotate(n=Count("content_hash", distinct=True))
                .filter(n__gt=1)
                .order_by()
            )
            ctx.conflicts = {(b, t, k) for b, t, k, _ in groups}
        cm_ro_refs = {line.ref_line_id for line in lines if line.tran_type == TranType.CM_RO}
        if cm_ro_refs:
            pks = [so.pk for ref in cm_ro_refs if (so := so_lines.get(ref)) is not None]
            ctx.has_rord = set(
                InboundLine.objects.filter(
                    line_id__any=pks, tran_type=TranType.RORD, status=LineStatus.COLLECTED
                )
                .values_list("line_id", flat=True)
                .distinct()
            )
        return ctx


def _error(rule: ValidationRule, message: str, field: str = "") -> dict[str, str]:
    detail = f"{rule.message}{': ' + message if message else ''}"
    return LineRefusal.stop(code=rule.code, rule=rule.rule, field=field, detail=detail).as_dict()


def line_errors(line: InboundLine, ctx: ValidationContext) -> list[dict[str, str]]:
    """Every enabled rule that ``line`` fails, in registry order (plus its parse errors)."""
    kind = line.tran_type
    errors = list(line.parse_errors)
    if not kind:
        return errors
    reviewed = kind == TranType.RORD and line.rord_review_completed == "Y"
    checks = ctx.by_type.get(kind, {})

    def rule(code: str) -> ValidationRule | None:
        found = checks.get(code)
        if found is not None and reviewed and found.skipped_when_reviewed:
            return None  # I5: only V6 / V7 are skipped
        return found

    broken = {e.get("field") for e in errors}
    if r := rule(V1):
        missing = [
            name.upper()
            for name in MANDATORY[kind]
            if name.upper() not in broken and getattr(line, name) in (None, "")
        ]
        if missing:
            errors.append(_error(r, f"{', '.join(missing)} missing", missing[0]))
    esp, elp = line.ext_sll_prc, line.ext_lst_prc
    if (r := rule(V2)) and not line.orig_so_line_id:
        errors.append(_error(r, "", "ORIG_SO_LINE_ID"))
    if (r := rule(V3_SELL)) and esp is not None and esp >= 0:
        errors.append(_error(r, f"got {esp}", "EXT_SLL_PRC"))
    if (r := rule(V3_LIST)) and elp is not None and elp >= 0:
        errors.append(_error(r, f"got {elp}", "EXT_LST_PRC"))
    if (r := rule(V4)) and line.ord_qty is not None and line.ord_qty <= 0:
        errors.append(_error(r, f"got {line.ord_qty}", "ORD_QTY"))
    if (r := rule(V5)) and (line.cancel_flag or line.return_flag):
        flags = f"CANCEL_FLAG '{line.cancel_flag}', RETURN_FLAG '{line.return_flag}'"
        errors.append(_error(r, flags, "CANCEL_FLAG" if line.cancel_flag else "RETURN_FLAG"))
    if (r := rule(V13)) and (line.batch_id, kind, line.line_key) in ctx.conflicts:
        key = "SO_LINE_ID" if kind in (TranType.SO, TranType.RORD) else "INV_LINE_ID"
        errors.append(_error(r, f"{line.line_key} in batch {line.batch_id}", key))
    _ssp_rules(line, rule, errors, broken)

    if kind == TranType.SO or not line.ref_line_id:
        return errors
    so = ctx.so_lines.get(line.ref_line_id)
    if so is None:
        if r := rule(V12):
            ref = "ORIG_SO_LINE_ID" if kind in (TranType.RORD, TranType.CM_RO) else "SO_LINE_ID"
            errors.append(_error(r, line.ref_line_id, ref))
        return errors
    _so_line_rules(line, so, ctx, rule, errors)
    return errors


def _ssp_rules(line: InboundLine, rule, errors, broken) -> None:
    """V15 and V16 (carve.md K1): SSP inputs that would make a wrong carve. One refusal per
    rule, its message saying every way the line breaks it. A list price that did not parse
    is left to its own error (I2)."""
    pct, price = line.ssp_pct, line.ssp_price
    given = [
        (name, value)
        for name, value in (("SSP_PCT", pct), ("SSP_PRICE", price))
        if value is not None
    ]
    if (r := rule(V15)) and given:
        found = [
            (name, f"{name} may not be negative: got {_qty(value)}")
            for name, value in given
            if value < 0
        ]
        if len(given) == 2:
            both = f"got SSP_PCT {_qty(pct)} and SSP_PRICE {_qty(price)}"
            found.append(("SSP_PRICE", f"give SSP_PCT or SSP_PRICE, not both: {both}"))
        if found:
            errors.append(_error(r, "; ".join(m for _, m in found), found[0][0]))
    if (r := rule(V16)) and given:
        if line.tran_type != TranType.SO:
            shown = " and ".join(f"{name} {_qty(value)}" for name, value in given)
            detail = f"only SO lines carry an SSP: got {shown} with TRAN_TYPE {line.tran_type}"
            errors.append(_error(r, detail, given[0][0]))
        elif pct is not None and not line.ext_lst_prc and "EXT_LST_PRC" not in broken:
            # "without a list price": EXT_LST_PRC missing or 0
            elp = "missing" if line.ext_lst_prc is None else _qty(line.ext_lst_prc)
            detail = f"SSP_PCT needs a list price: got SSP_PCT {_qty(pct)} with EXT_LST_PRC {elp}"
            errors.append(_error(r, detail, "SSP_PCT"))


def _so_line_rules(line, so: SoLine, ctx, rule, errors) -> None:
    start = line.start_date or line.so_date
    if (r := rule(V6)) and (
        (start and start < so.start_date) or (line.end_date and line.end_date > so.end_date)
    ):
        dates = f"{start or '?'}–{line.end_date or '?'} vs {so.start_date}–{so.end_date}"
        errors.append(_error(r, dates, "END_DATE"))
    if (r := rule(V7)) and so.marked_for_v7:
        why = "dates changed" if so.dates_changed else "held / released by hand"
        errors.append(_error(r, f"{so.so_line_id}: {why}"))
    if (r := rule(V8)) and line.curr and line.curr != so.currency:
        errors.append(_error(r, f"{line.curr} vs {so.currency}", "CURR"))
    if (r := rule(V9)) and line.ext_sll_prc is not None:
        remaining = so.net_sll_prc
        if abs(line.ext_sll_prc) > abs(remaining):
            errors.append(_error(r, f"{abs(line.ext_sll_prc)} > {remaining}", "EXT_SLL_PRC"))
    if (r := rule(V10)) and so.return_flag == "Y":
        errors.append(_error(r, so.so_line_id))
    if (r := rule(V14)) and line.ord_qty is not None and so.quantity is not None:
        net_qty = so.quantity - so.returned_qty  # V14: returns lower it, RORDs do not
        if line.ord_qty > net_qty:
            ordered, returned = _qty(so.quantity), _qty(so.returned_qty)
            detail = (
                f"{_qty(line.ord_qty)} > {_qty(net_qty)} ({ordered} ordered, {returned} returned)"
            )
            errors.append(_error(r, detail, "ORD_QTY"))
    # a CM-RO whose RORD is still staged never gets here: it waits for it (I7)
    if (r := rule(V11)) and so.pk not in ctx.has_rord:
        errors.append(_error(r, so.so_line_id, "ORIG_SO_LINE_ID"))


def _qty(value) -> str:
    """A quantity (or an SSP) without trailing zeros: 12, 2.5, -5."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
