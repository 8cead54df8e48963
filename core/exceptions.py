"""Refusals of business rules: they carry the rule ID, the field and the facts."""

from __future__ import annotations

from typing import Any


class BusinessRuleRefused(Exception):
    """A user's request breaks a rule of the spec (O2, R7, ...).

    ``str()`` reads ``"O2: <message>"`` so a page can show it as it is; ``field`` names
    the form field at fault when there is one (forms attach the error to it).
    """

    def __init__(self, *, rule: str, message: str, field: str | None = None, **facts: Any):
        self.rule = rule
        self.message = message
        self.field = field
        self.facts = facts
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


class BusinessRulesRefused(BusinessRuleRefused):
    """Several refusals found in one check: nothing was saved."""

    def __init__(self, refusals: list[BusinessRuleRefused]):
        self.refusals = refusals
        first = refusals[0]
        super().__init__(rule=first.rule, message=first.message, field=first.field)

    def __str__(self) -> str:
        return "; ".join(f"{r.rule}: {r.message}" for r in self.refusals)
