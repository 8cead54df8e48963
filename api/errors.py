"""Errors as the interchange spec has them: ``{"code", "detail", "errors"}`` — 400 for bad
input, 401 without credentials, 403 without the permission, 404 for an unknown object, 409
for a refused transition; ``code`` is the rule ID of a refused business rule, ``detail``
the sentence a user reads, ``errors`` the field(s) at fault. Never a 500 for a user's
mistake."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from core.exceptions import BusinessRuleRefused, BusinessRulesRefused


class TransitionRefused(exceptions.APIException):
    """A refused state change (409), carrying the service's refusal."""

    status_code = status.HTTP_409_CONFLICT

    def __init__(self, refusal: BusinessRuleRefused):
        self.refusal = refusal
        super().__init__(detail=str(refusal), code=refusal.rule)


def refusal_body(refusal: BusinessRuleRefused) -> dict:
    problems = refusal.refusals if isinstance(refusal, BusinessRulesRefused) else [refusal]
    errors: dict[str, list[str]] = {}
    for problem in problems:
        errors.setdefault(problem.field or "non_field_errors", []).append(problem.message)
    return {"code": refusal.rule, "detail": str(refusal), "errors": errors}


def _flatten(detail) -> dict[str, list[str]]:
    """DRF's error tree as ``{"field path": [messages]}``: nested serializers read
    ``order.account``, lists ``products[1].quantity`` (0-based, as in the request)."""
    errors: dict[str, list[str]] = {}

    def walk(node, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, int):
                    walk(value, f"{path}[{key}]")
                elif str(key) == "non_field_errors" and path:
                    walk(value, path)
                else:
                    walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list) and any(isinstance(m, (dict, list)) for m in node):
            for index, value in enumerate(node):
                walk(value, f"{path}[{index}]")
        else:
            messages = node if isinstance(node, list) else [node]
            if messages:
                errors.setdefault(path or "non_field_errors", []).extend(map(str, messages))

    walk(detail, "")
    return errors


def _sentence(errors: dict[str, list[str]], fallback: str) -> str:
    for field, messages in errors.items():
        if messages:
            where = "" if field == "non_field_errors" else f"{field}: "
            return f"{where}{messages[0]}"
    return fallback


def api_exception_handler(exc, context):
    if isinstance(exc, TransitionRefused):
        return Response(refusal_body(exc.refusal), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, BusinessRuleRefused):
        return Response(refusal_body(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "no such object")
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = exception_handler(exc, context)
    if response is None:
        return None  # a server failure: Django's 500 (logged), never a user's mistake
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        body = {"code": "invalid", "detail": _sentence(errors, "the request is invalid")}
        response.data = {**body, "errors": errors}
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        response.data = {
            "code": codes if isinstance(codes, str) else "error",
            "detail": str(detail),
            "errors": {},
        }
    return response
