"""One handler per TRAN_TYPE over an explicit ``BatchContext``.

A handler books one validated line and answers the refusals that stop it (empty: the
line is collected). ``HANDLERS`` is the only dispatch: no name is built at run time.
"""

from __future__ import annotations

from collections.abc import Callable

from ...models.choices import TranType
from ..refusals import LineRefusal
from .billing import billing_collect
from .context import BatchContext
from .reductions import cm_r_collect, cm_ro_collect, rord_collect
from .so import so_collect

Handler = Callable[[BatchContext, object], list[LineRefusal]]

HANDLERS: dict[str, Handler] = {
    TranType.SO: so_collect,
    TranType.INV: billing_collect,
    TranType.CM: billing_collect,
    TranType.RORD: rord_collect,
    TranType.CM_R: cm_r_collect,
    TranType.CM_RO: cm_ro_collect,
}

__all__ = ["HANDLERS", "BatchContext", "Handler"]
