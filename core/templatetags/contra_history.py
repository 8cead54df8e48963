"""The history panel in words (templates/admin/includes/audit_history.html): the action's
label, statuses as their labels, and an event's facts as "name: value" text, never a
Python dict or list."""

from __future__ import annotations

from django import template
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist

register = template.Library()


@register.simple_tag
def state_label(event, value: str) -> str:
    """A status code of ``event``'s document as its label ("ACTIVATED" → "Activated")."""
    if not value:
        return ""
    model = ContentType.objects.get_for_id(event.content_type_id).model_class()
    try:
        field = model._meta.get_field("status") if model is not None else None
    except FieldDoesNotExist:
        field = None
    choices = dict(field.flatchoices) if field is not None else {}
    return str(choices.get(value, value))


def _text(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    if value is None or value == "":
        return "—"
    return str(value)


@register.filter
def facts(data) -> list[tuple[str, str]]:
    """An event's ``data`` as (name, text) pairs: nested values written out in words."""
    if not isinstance(data, dict):
        return [("", _text(data))] if data else []
    return [(str(key).replace("_", " "), _text(value)) for key, value in data.items()]
