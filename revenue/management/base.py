"""Shared behaviour of the revenue commands (interchange.md): a one-line summary last,
exit 2 with a clear message on bad arguments, 1 on a system failure."""

from django.core.management.base import BaseCommand, CommandError

from core.exceptions import BusinessRuleRefused

from ..services.inbound import InboundFileRefused


class RevenueCommand(BaseCommand):
    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except BusinessRuleRefused as refusal:  # the rule in words, its ID in brackets
            raise CommandError(refusal.bracketed, returncode=2) from None
        except InboundFileRefused as refusal:
            raise CommandError(str(refusal), returncode=2) from None

    def refuse(self, message: str):
        raise CommandError(message, returncode=2)
