"""What the API keeps of a POST sent with an ``Idempotency-Key`` (interchange.md): its
scope (the caller's token or session user, and the path), a hash of its body, and the
first response, for 24 hours."""

from __future__ import annotations

from django.db import models


class IdempotentRequest(models.Model):
    class State(models.TextChoices):
        RUNNING = "RUNNING", "Running"
        DONE = "DONE", "Done"

    scope = models.CharField(max_length=64, help_text="Hash of the caller (token or user).")
    path = models.CharField(max_length=500)
    key = models.CharField(max_length=255)
    body_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=8, choices=State.choices, default=State.RUNNING)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    content = models.BinaryField(blank=True, default=b"")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "path", "key"], name="idempotent_request_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.path}"
