"""Why a staged line stops: one type for every refusal of a line (I2 parse errors, I7 and
V12 waiting, I9 system errors, the V rules of the registry), stored on the line as a dict
in ``errors`` / ``parse_errors`` (the staging page, ``revenue_export staging`` and the
error-code filter read them)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class LineRefusal:
    code: str  # INB-000, INB-999, a registry code (RPRO-…, INB-…), WAITING's
    rule: str  # the spec rule: I2, I7, I9, V1 … V14
    field: str  # the column at fault, "" when the whole line is
    message: str  # in words, for the accountant

    @classmethod
    def stop(cls, *, code: str, rule: str, field: str = "", detail: str) -> LineRefusal:
        """The usual message: "CODE (RULE): detail"."""
        return cls(code=code, rule=rule, field=field, message=f"{code} ({rule}): {detail}")

    def as_dict(self) -> dict[str, str]:
        return asdict(self)
