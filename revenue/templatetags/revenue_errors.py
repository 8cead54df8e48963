"""``{{ error|error_text }}``: a staged line's stored error as its page shows it, beside
its code (the rule ID stays in the stored error)."""

from django import template

from ..admin.staging import error_text as _error_text

register = template.Library()


@register.filter
def error_text(error: dict) -> str:
    return _error_text(error) if isinstance(error, dict) else str(error)
