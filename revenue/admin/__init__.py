"""The revenue sub-ledger admin: thin screens over revenue.services and revenue.selectors."""

from . import batches, contracts, inbound, journal, ledger, periods, runs, settings  # noqa: F401
