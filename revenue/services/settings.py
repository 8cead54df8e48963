"""The validation registry's defaults (V1–V16) and profile settings (P6, S2, carve.md K7)."""

from __future__ import annotations

from django.db import transaction

from core.exceptions import BusinessRuleRefused
from core.models import AuditAction
from core.parsing import ascii_int
from core.services import audit_record

from ..models import InboundLine, ProfileSetting, ValidationRule
from ..models.choices import LineStatus

ALL = "SO,INV,CM,CM-R,RORD,CM-RO"
# (rule, code, message, line types, default enabled, can disable, skipped when reviewed)
RULES = (
    ("V1", "INB-001", "Mandatory field missing", ALL, True, False, False),
    ("V2", "RPRO-00030", "RORD must carry ORIG_SO_LINE_ID", "RORD", True, True, False),
    ("V3", "RPRO-00058", "RORD EXT_SLL_PRC must be negative", "RORD", True, True, False),
    ("V3", "INB-002", "RORD EXT_LST_PRC must be negative", "RORD", True, True, False),
    ("V4", "RPRO-00072", "ORD_QTY must be greater than 0", "SO,RORD", True, True, False),
    ("V5", "INB-003", "RORD CANCEL_FLAG and RETURN_FLAG must be empty", "RORD", True, True, False),
    (
        "V6",
        "RPRO-00353",
        "RORD dates fall outside the SO line's dates",
        "RORD",
        False,
        True,
        True,
    ),
    (
        "V7",
        "RPRO-00356",
        "The SO line's revenue dates or release were changed by hand",
        "RORD",
        False,
        True,
        True,
    ),
    (
        "V8",
        "RPRO-00082",
        "Currency differs from the SO line's currency",
        "SO,INV,CM,CM-R,RORD,CM-RO",
        True,
        True,
        False,
    ),
    (
        "V9",
        "RPRO-00357",
        "Reduction is larger than the SO line's remaining net sell price",
        "RORD",
        True,
        True,
        False,
    ),
    (
        "V10",
        "RPRO-00620",
        "The SO line is already fully reduced or returned",
        "RORD,CM-R",
        True,
        True,
        False,
    ),
    (
        "V11",
        "RPRO-00683",
        "CM-RO for an SO line with no collected RORD",
        "CM-RO",
        True,
        True,
        False,
    ),
    (
        "V12",
        "INB-004",
        "The SO line is not collected yet: waiting",
        "INV,CM,CM-R,RORD,CM-RO",
        True,
        True,
        False,
    ),
    (
        "V13",
        "INB-005",
        "Duplicate line id of the same type with different content",
        ALL,
        True,
        True,
        False,
    ),
    (
        "V14",
        "INB-006",
        "RORD ORD_QTY is greater than the SO line's quantity net of returned quantity",
        "RORD",
        True,
        True,
        False,
    ),
    (
        "V15",
        "INB-007",
        "SSP_PCT and SSP_PRICE may not be negative, and a line takes one of them, not both",
        ALL,
        True,
        True,
        False,
    ),
    (
        "V16",
        "INB-008",
        "SSP_PCT needs a list price, and only SO lines carry an SSP",
        ALL,
        True,
        True,
        False,
    ),
)

# name, default, allowed, description
PROFILE = (
    (
        "CREATE_RORD_CONTRA_ENTRY",
        "N",
        "Y,N",
        "Book a contra AR entry when a RORD leaves more billed than sold.",
    ),
    (
        "AUTO_CLOSE_PERIOD",
        "N",
        "Y,N",
        "The monthly beat job closes the open period once its month has ended.",
    ),
    ("COLLECTION_BATCH_SIZE", "2000", "", "Lines per collection batch (one transaction each)."),
    (
        "REDUCTION_TREATMENT",
        "PROSPECTIVE",
        "PROSPECTIVE,RETROSPECTIVE",
        "How a reduction that gives back nothing recognised in closed periods moves a "
        "contract's carve: PROSPECTIVE spreads the remaining consideration over what is "
        "still to be delivered; RETROSPECTIVE re-shares the whole contract with a catch-up.",
    ),
)


def registry_seed() -> None:
    """Create missing rules and settings with their defaults; never overwrite choices."""
    for sort, (rule, code, message, types, enabled, can_disable, reviewed) in enumerate(RULES):
        ValidationRule.objects.get_or_create(
            code=code,
            defaults={
                "rule": rule,
                "message": message,
                "line_types": types,
                "enabled": enabled,
                "default_enabled": enabled,
                "can_disable": can_disable,
                "skipped_when_reviewed": reviewed,
                "sort": sort,
            },
        )
    for name, default, allowed, description in PROFILE:
        ProfileSetting.objects.get_or_create(
            name=name,
            defaults={
                "value": default,
                "default": default,
                "allowed": allowed,
                "description": description,
            },
        )


def rule_switch(*, code: str, enabled: bool, actor) -> ValidationRule:
    """Enable or disable a validation rule. V1 (INB-001) stays on. Lines stopped only by a
    rule that is now off are retried at the next collection."""
    with transaction.atomic():
        rule = ValidationRule.objects.select_for_update().filter(code=code.upper()).first()
        if rule is None:
            known = ", ".join(ValidationRule.objects.values_list("code", flat=True))
            raise BusinessRuleRefused(
                rule="V", message=f"unknown rule code '{code}' (known: {known})", field="code"
            )
        if not enabled and not rule.can_disable:
            raise BusinessRuleRefused(
                rule=rule.rule,
                message=f"{rule.code} checks mandatory fields and cannot be disabled",
                field="enabled",
            )
        if rule.enabled == enabled:
            return rule
        rule.enabled = enabled
        rule.save(update_fields=["enabled"])
        audit_record(
            document=rule,
            actor=actor,
            action=AuditAction.ENABLE if enabled else AuditAction.DISABLE,
            from_state="off" if enabled else "on",
            to_state="on" if enabled else "off",
        )
        if not enabled:
            InboundLine.objects.filter(
                status=LineStatus.ERROR, error_codes__contains=rule.code
            ).update(retry=True)
    return rule


def profile_get(name: str) -> str:
    setting = ProfileSetting.objects.filter(name=name).first()
    if setting is not None:
        return setting.value
    return next((default for n, default, _, _ in PROFILE if n == name), "")


def profile_set(*, name: str, value: str, actor) -> ProfileSetting:
    """Set a profile value; refuses unknown names and values outside the allowed list."""
    with transaction.atomic():
        setting = ProfileSetting.objects.select_for_update().filter(name=name.upper()).first()
        if setting is None:
            known = ", ".join(ProfileSetting.objects.values_list("name", flat=True))
            raise BusinessRuleRefused(
                rule="P6",
                message=f"unknown profile setting '{name}' (known: {known})",
                field="name",
            )
        value = value.strip().upper() if setting.allowed_values else value.strip()
        if setting.allowed_values and value not in setting.allowed_values:
            raise BusinessRuleRefused(
                rule="P6",
                message=f"{setting.name} must be one of {', '.join(setting.allowed_values)}",
                field="value",
            )
        number = ascii_int(value)  # '²', '٣', 5,000 digits: not a number
        if not setting.allowed_values and not (number is not None and 1 <= number <= 50000):
            raise BusinessRuleRefused(
                rule="P6", message=f"{setting.name} must be a whole number 1–50000", field="value"
            )
        old = setting.value
        if old != value:
            setting.value = value
            setting.save(update_fields=["value"])
            audit_record(
                document=setting,
                actor=actor,
                action=AuditAction.SET,
                from_state=old,
                to_state=value,
            )
    return setting
