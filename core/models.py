"""Audit events every document writes, and gap-free document number sequences."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


class AuditAction(models.TextChoices):
    """What an audit event records (O8): a typed name instead of free text. The values are
    the words stored before the type existed, so older events read the same; the labels are
    what the history panels show."""

    CREATED = "created", "Created"
    CHANGED = "changed", "Changed"
    DELETED = "deleted", "Deleted"
    # document transitions: the FSM method's name
    ACTIVATE = "activate", "Activated"
    DEACTIVATE = "deactivate", "Deactivated (back to Draft)"
    FULFIL = "fulfil", "Fulfilled"
    FULFILLED_IN_PART = "fulfilled in part", "Fulfilled in part"
    POST = "post", "Posted"
    ISSUE = "issue", "Issued"
    VOID = "void", "Voided"
    SUBMIT = "submit", "Submitted"
    APPROVE = "approve", "Approved"
    CLOSE = "close", "Closed"
    CANCEL = "cancel", "Canceled"
    SUCCEED = "succeed", "Marked refunded"
    FAIL = "fail", "Marked failed"
    RETRY = "retry", "Retried"
    # orders, reductions and returns
    PRODUCT_ADDED = "product added", "Product added"
    PRODUCT_CHANGED = "product changed", "Product changed"
    PRODUCTS_ADDED = "products added", "Products added"
    PRODUCT_DELETED = "product deleted", "Product deleted"
    REDUCTION_CREATED = "reduction created", "Reduction created"
    REDUCTION_ACTIVATED = "reduction activated", "Reduction activated"
    REDUCTION_DEACTIVATED = "reduction deactivated", "Reduction deactivated"
    LINE_CANCELED = "line canceled", "Return line canceled"
    ITEMS_RETURNED = "items returned", "Items returned"
    SIMPLE_RETURN = "simple return", "Simple return"
    SIMPLE_CANCEL = "simple cancel", "Simple cancel"
    ENSURED = "ensured", "Refund prepared"
    STARTED = "started", "Started"
    FINISHED = "finished", "Finished"
    # revenue
    STAGE = "stage", "Staged"
    EDIT = "edit", "Edited"
    REVIEW = "review", "Review completed"
    DELETE = "delete", "Deleted from staging"
    WITHDRAW = "withdraw", "Withdrawn"
    HOLD = "hold", "Put on hold"
    RELEASE = "release", "Released from hold"
    CHANGE_REVENUE_DATES = "change revenue dates", "Revenue dates changed"
    OPEN = "open", "Opened"
    CLOSE_BLOCKED = "close_blocked", "Close blocked"
    ENABLE = "enable", "Enabled"
    DISABLE = "disable", "Disabled"
    SET = "set", "Set"


class AuditEvent(models.Model):
    """One thing that happened to one document (O8): who, when, what, from, to, why.

    Append-only. Any document (order, invoice, return, revenue line) points at it through
    its content type and primary key, so every later document reuses this table.
    """

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField("document", max_length=200)
    action = models.CharField(max_length=50, choices=AuditAction.choices)
    from_state = models.CharField(max_length=30, blank=True)
    to_state = models.CharField(max_length=30, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_label = models.CharField(
        "actor", max_length=150, help_text="User name at the time, or the job that acted."
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    comment = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["content_type", "object_id", "at"])]

    def __str__(self) -> str:
        arrow = f" {self.from_state} → {self.to_state}" if self.to_state else ""
        return f"{self.object_repr}: {self.get_action_display()}{arrow} by {self.actor_label}"


class DocumentSequence(models.Model):
    """Next number of a human document series (ORD-000123). Incremented under a row lock."""

    name = models.CharField(max_length=20, unique=True)
    last_value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.last_value}"


class ReportExport(models.Model):
    """A report download written by a Celery worker (close.md M6): too many rows to write
    while the browser waits, so the admin shows its progress, then a link to the file."""

    class Status(models.TextChoices):
        QUEUED = "QUEUED", "Queued"
        RUNNING = "RUNNING", "Running"
        DONE = "DONE", "Done"
        FAILED = "FAILED", "Failed"

    report = models.CharField(max_length=50, help_text="The report's slug (admin Reports).")
    fmt = models.CharField("format", max_length=10, default="xlsx")
    params = models.JSONField(default=dict, blank=True, help_text="The page's filters.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_estimate = models.PositiveBigIntegerField(default=0)
    rows_done = models.PositiveBigIntegerField(default=0)
    file = models.FileField(upload_to="reports/", blank=True)
    message = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    task_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.report} {self.fmt} #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def percent(self) -> int:
        """Rows written of the estimate; 99 until done (the estimate is only an estimate)."""
        if self.status == self.Status.DONE:
            return 100
        if not self.rows_estimate:
            return 0
        return min(99, int(100 * self.rows_done / self.rows_estimate))
