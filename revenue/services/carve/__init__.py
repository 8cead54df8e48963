"""Carve accounting (carve.md K1–K11): the SSP allocation booked as adjustment revenue.

``targets`` holds the rules' arithmetic (K2 retrospective targets, K7 prospective
placement and spread, K4 differences); ``load`` reads the ledger; ``book`` picks the
treatment (K6 or K7) and books the differences in the transaction of the change (I9);
``writer`` stores them (on PostgreSQL computing each part while the last is stored).
"""

from .book import (
    CarveEvent,
    carve_after_batch,
    carve_contracts,
    carve_in_scope,
    carve_rebuild,
)
from .load import CARVE_LINE_COLUMNS

__all__ = [
    "CARVE_LINE_COLUMNS",
    "CarveEvent",
    "carve_after_batch",
    "carve_contracts",
    "carve_in_scope",
    "carve_rebuild",
]
