"""Refusals of business rules: they carry the rule ID, the field and the facts.

``Refusal`` is the one shape of a "no" in every app: what a service raises
(``BusinessRuleRefused`` carries one), what stops a staged revenue line (stored on the line
as ``Refusal.as_dict()``), what a page shows next to a field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Refusal:
    """Why a rule says no: ``rule`` the spec's ID (for code, tests, logs and API error
    codes), ``field`` the field or column at fault ("" for the whole record), ``message``
    the sentence a user reads, ``code`` a code an accountant looks up (revenue's validation
    codes such as RPRO-00353; "" where there is none)."""

    rule: str
    message: str
    field: str = ""
    code: str = ""

    @classmethod
    def stop(cls, *, code: str, rule: str, field: str = "", detail: str) -> Refusal:
        """A coded refusal's usual message: "CODE: detail" (the code an accountant looks
        up beside the sentence; the rule ID stays in ``rule``)."""
        return cls(code=code, rule=rule, field=field, message=f"{code}: {detail}")

    def as_dict(self) -> dict[str, str]:
        """As stored on a staged line (``errors``, ``parse_errors``): code, rule, field,
        message."""
        return {"code": self.code, "rule": self.rule, "field": self.field, "message": self.message}


class BusinessRuleRefused(Exception):
    """A user's request breaks a rule of the spec (O2, R7, ...).

    ``str()`` is the sentence a user reads (pages show it as it is); ``bracketed`` adds the
    rule ID for commands and logs ("cannot activate: add a product [O2]", as the interface
    spec has it); ``field`` names the form field at fault when there is one (forms attach
    the error to it).
    """

    def __init__(self, *, rule: str, message: str, field: str | None = None, **facts: Any):
        self.rule = rule
        self.message = message
        self.field = field
        self.facts = facts
        super().__init__(str(self))

    def __str__(self) -> str:
        return self.message

    @property
    def bracketed(self) -> str:
        return f"{self.message} [{self.rule}]"

    @property
    def refusal(self) -> Refusal:
        return Refusal(rule=self.rule, message=self.message, field=self.field or "")

    @classmethod
    def of(cls, refusal: Refusal, **facts: Any) -> BusinessRuleRefused:
        return cls(rule=refusal.rule, message=refusal.message, field=refusal.field or None, **facts)


class BusinessRulesRefused(BusinessRuleRefused):
    """Several refusals found in one check: nothing was saved."""

    def __init__(self, refusals: list[BusinessRuleRefused]):
        self.refusals = refusals
        first = refusals[0]
        super().__init__(rule=first.rule, message=first.message, field=first.field)

    def __str__(self) -> str:
        return "; ".join(r.message for r in self.refusals)

    @property
    def bracketed(self) -> str:
        return "; ".join(r.bracketed for r in self.refusals)
