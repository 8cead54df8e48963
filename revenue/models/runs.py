"""Collection runs (I8): who started them, counts, status and progress."""

from django.conf import settings
from django.db import models


class CollectionRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "QUEUED", "Queued"
        RUNNING = "RUNNING", "Running"
        SUCCEEDED = "SUCCEEDED", "Succeeded"
        FAILED = "FAILED", "Failed"
        INTERRUPTED = "INTERRUPTED", "Interrupted"

    class Trigger(models.TextChoices):
        BEAT = "BEAT", "Celery beat"
        ADMIN = "ADMIN", "Collect now (admin)"
        COMMAND = "COMMAND", "revenue_collect"
        API = "API", "Service call"

    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    task_id = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    period = models.PositiveIntegerField(null=True, blank=True, help_text="Open period used.")
    total = models.PositiveIntegerField(default=0, help_text="Lines to look at when it started.")
    processed = models.PositiveIntegerField(default=0)
    collected = models.PositiveIntegerField(default=0)
    stopped = models.PositiveIntegerField(default=0, help_text="Stopped with errors.")
    waiting = models.PositiveIntegerField(default=0, help_text="Waiting for their SO line.")
    validated = models.PositiveIntegerField(
        default=0, help_text="Valid, kept NEW until their processing is available."
    )
    skipped = models.PositiveIntegerField(
        default=0, help_text="Left for later: another run held their contract."
    )
    batches = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        permissions = [("collect_now", "Can start a collection run")]

    def __str__(self) -> str:
        return f"Run {self.pk} ({self.get_status_display().lower()})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.SUCCEEDED:
            return 100
        if not self.total:
            return 0
        return min(100, round(100 * self.processed / self.total))

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)
