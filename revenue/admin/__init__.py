"""The revenue sub-ledger admin: thin screens over revenue.services and revenue.selectors."""

from . import (  # noqa: F401  (registers the admin classes; reports: close.md's "Reports")
    batches,
    contracts,
    inbound,
    journal,
    ledger,
    periods,
    reports,
    runs,
    settings,
)
