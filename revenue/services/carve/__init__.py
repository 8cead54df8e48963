"""Carve accounting (carve.md K1–K11): the SSP allocation booked as adjustment revenue.

``targets`` holds the rules' arithmetic (K2 retrospective targets, K7 prospective
placement and spread, K4 differences); ``book`` reads the ledger, picks the treatment
(K6 or K7) and books the differences in the transaction of the change (I9).
"""

from .book import (
    CARVE_LINE_COLUMNS,
    CarveEvent,
    carve_after_batch,
    carve_contracts,
    carve_in_scope,
    carve_rebuild,
)

__all__ = [
    "CARVE_LINE_COLUMNS",
    "CarveEvent",
    "carve_after_batch",
    "carve_contracts",
    "carve_in_scope",
    "carve_rebuild",
]
