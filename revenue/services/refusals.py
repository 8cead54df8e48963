"""Why a staged line stops: one type for every refusal of a line (I2 parse errors, I7 and
V12 waiting, I9 system errors, the V rules of the registry), stored on the line as a dict
in ``errors`` / ``parse_errors`` (the staging page, ``revenue_export staging`` and the
error-code filter read them). It is the refusal type of every app (``core.exceptions``):
a line's refusal carries its validation code beside the rule."""

from __future__ import annotations

from core.exceptions import Refusal

LineRefusal = Refusal

__all__ = ["LineRefusal"]
