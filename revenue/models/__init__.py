"""Revenue sub-ledger data (revenue.md): staging, rules, ledger, periods and runs."""

from .carve import CarveEntry, CarveEntryType, CarveVersion, Treatment
from .journal import BookedEntry, JournalEntry
from .ledger import ContraEntry, RevenueContract, ScheduleRow, SoLine
from .periods import Period
from .rules import ProfileSetting, ValidationRule
from .runs import CollectionRun
from .staging import InboundBatch, InboundLine
from .totals import LedgerTotal

__all__ = [
    "BookedEntry",
    "CarveEntry",
    "CarveEntryType",
    "CarveVersion",
    "CollectionRun",
    "ContraEntry",
    "InboundBatch",
    "InboundLine",
    "JournalEntry",
    "LedgerTotal",
    "Period",
    "ProfileSetting",
    "RevenueContract",
    "ScheduleRow",
    "SoLine",
    "Treatment",
    "ValidationRule",
]
