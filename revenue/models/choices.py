"""Enumerations shared by the revenue models, services and exports (interchange.md)."""

from django.db import models


class TranType(models.TextChoices):
    SO = "SO", "SO (sales order line)"
    INV = "INV", "INV (invoice line)"
    CM = "CM", "CM (credit memo)"
    CM_R = "CM-R", "CM-R (credit memo for a return)"
    RORD = "RORD", "RORD (reduction order line)"
    CM_RO = "CM-RO", "CM-RO (credit memo for a reduction)"


BILLING_TYPES = (TranType.INV, TranType.CM, TranType.CM_R, TranType.CM_RO)
CREDIT_TYPES = (TranType.CM, TranType.CM_R, TranType.CM_RO)
# I7: the order of the phases of a collection run.
COLLECTION_PHASES = (
    (TranType.SO,),
    (TranType.INV,),
    (TranType.CM, TranType.CM_R),
    (TranType.RORD,),
    (TranType.CM_RO,),
)


class RevMethod(models.TextChoices):
    IMMEDIATE = "IMMEDIATE", "Immediate"
    RATABLE_MONTHLY = "RATABLE_MONTHLY", "Ratable monthly"
    RATABLE_DAILY = "RATABLE_DAILY", "Ratable daily"


class LineStatus(models.TextChoices):
    NEW = "NEW", "New"
    COLLECTED = "COLLECTED", "Collected"
    ERROR = "ERROR", "Stopped (error)"
    WITHDRAWN = "WITHDRAWN", "Withdrawn"


class Source(models.TextChoices):
    SO = "SO", "SO (not billed)"
    INV = "INV", "INV (billed)"


class RowKind(models.TextChoices):
    """Why a schedule row exists. The journal's entry type follows from it and the sign."""

    RELEASE = "RELEASE", "Release"
    CATCH_UP = "CATCH_UP", "Catch-up from closed periods"
    SO_UPDATE = "SO_UPDATE", "SO update delta"
    CONVERSION = "CONVERSION", "Billing: source SO ↔ INV"
    HOLD = "HOLD", "Hold (manual deferral)"
    DATE_CHANGE = "DATE_CHANGE", "Revenue dates changed"
    REVERSAL = "REVERSAL", "Reduction reversal (RORD / CM-R)"


class Account(models.TextChoices):
    """S3: the sub-ledger accounts."""

    CONTRACT_LIABILITY = "CONTRACT_LIABILITY", "Contract liability"
    REVENUE = "REVENUE", "Revenue"
    CONTRA_AR = "CONTRA_AR", "Contra AR"
    AR = "AR", "Accounts receivable"
    ADJ_LIABILITY = "ADJ_LIABILITY", "Adjustment liability"
    ADJ_REVENUE = "ADJ_REVENUE", "Adjustment revenue"


class EntryType(models.TextChoices):
    INITIAL = "INITIAL", "Initial (billing)"
    RELEASE = "RELEASE", "Release"
    REVERSAL = "REVERSAL", "Reversal"
    CONTRA = "CONTRA", "Contra"
    CONTRA_REVERSAL = "CONTRA_REVERSAL", "Contra reversal"
    CATCH_UP = "CATCH_UP", "Catch-up"


class YesNo(models.TextChoices):
    YES = "Y", "Y"
    NO = "N", "N"
