"""``Idempotency-Key`` on every POST of the API (interchange.md): scoped to the caller and
the path, kept 24 hours. A retry with the same key and body gets the first response again
(nothing is done twice); the same key with another body gets 422; a retry while the first
is still running gets 409. A first request that failed on the server (5xx) is forgotten, so
it can be retried. Records older than 24 hours are deleted by an hourly beat job
(``idempotent_requests_purge``), not by the requests: a keyed POST only forgets an expired
record of its own key."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.utils import timezone

from .models import IdempotentRequest

HEADER = "HTTP_IDEMPOTENCY_KEY"
KEPT = timedelta(hours=24)
PREFIX = "/api/"


def _scope(request) -> str:
    """Who sends it: the token (hashed, never stored) or the session's user."""
    token = request.META.get("HTTP_AUTHORIZATION", "")
    user = getattr(request, "user", None)
    who = token or (f"user:{user.pk}" if user is not None and user.is_authenticated else "")
    return hashlib.sha256(who.encode()).hexdigest()


def _problem(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"code": code, "detail": detail, "errors": {}}, status=status)


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.META.get(HEADER, "").strip()
        if request.method != "POST" or not key or not request.path.startswith(PREFIX):
            return self.get_response(request)
        if len(key) > 255:
            return _problem(400, "idempotency_key", "Idempotency-Key: at most 255 characters")
        scope, body = _scope(request), hashlib.sha256(request.body).hexdigest()
        found = self._claim(scope=scope, path=request.path, key=key, body=body)
        if isinstance(found, HttpResponse):
            return found
        try:
            response = self.get_response(request)
        except BaseException:
            found.delete()
            raise
        if response.status_code >= 500 or getattr(response, "streaming", False):
            found.delete()  # not kept: a server failure may be retried, a stream not replayed
            return response
        found.state = IdempotentRequest.State.DONE
        found.status_code = response.status_code
        found.content_type = response.get("Content-Type", "")[:100]
        found.content = response.content
        found.save(update_fields=["state", "status_code", "content_type", "content"])
        return response

    def _claim(self, *, scope: str, path: str, key: str, body: str):
        """The new record of this request, or the response a retry gets. A record of this
        key older than ``KEPT`` that the hourly purge has not deleted yet is forgotten
        here (that row alone), and this request is a first one."""
        expired = timezone.now() - KEPT
        for _attempt in range(2):
            try:
                with transaction.atomic():
                    return IdempotentRequest.objects.create(
                        scope=scope, path=path, key=key, body_hash=body
                    )
            except IntegrityError:
                pass
            first = IdempotentRequest.objects.filter(scope=scope, path=path, key=key).first()
            if first is None or first.created_at >= expired:
                break
            IdempotentRequest.objects.filter(pk=first.pk, created_at__lt=expired).delete()
        if first is None:  # expired and deleted in between: a conflict, try again
            return _problem(409, "idempotency_key", "the first request is still running")
        if first.body_hash != body:
            return _problem(
                422,
                "idempotency_key",
                "this Idempotency-Key was used with another body: use a new key",
            )
        if first.state == IdempotentRequest.State.RUNNING:
            return _problem(409, "idempotency_key", "the first request is still running")
        replay = HttpResponse(
            bytes(first.content), status=first.status_code, content_type=first.content_type
        )
        replay["Idempotent-Replay"] = "true"
        return replay


def idempotent_requests_purge(*, now=None) -> int:
    """The hourly beat job's work (``api.tasks``): delete the records kept longer than
    ``KEPT`` (24 hours). Returns how many. Safe to run twice."""
    cutoff = (now or timezone.now()) - KEPT
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted
