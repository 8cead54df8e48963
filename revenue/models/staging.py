"""Inbound staging (I1–I5): every row as received plus its parsed values and errors."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from .choices import LineStatus, RevMethod, TranType

AMOUNT = {"max_digits": 20, "decimal_places": 6, "null": True, "blank": True}
TEXT = {"max_length": 100, "blank": True}


class InboundBatch(models.Model):
    """One arrival of lines: a file, an upload, a service call (I1)."""

    class SourceKind(models.TextChoices):
        UPLOAD = "UPLOAD", "Admin upload"
        COMMAND = "COMMAND", "revenue_import"
        SERVICE = "SERVICE", "Order / returns service"
        API = "API", "HTTP API"
        DEMO = "DEMO", "Demo data"

    source = models.CharField(max_length=10, choices=SourceKind.choices)
    filename = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    line_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(
        default=0, help_text="Rows with values that could not be parsed (INB-000)."
    )

    class Meta:
        verbose_name_plural = "inbound batches"
        ordering = ["-id"]

    def __str__(self) -> str:
        name = f" {self.filename}" if self.filename else ""
        return f"Batch {self.pk}{name}"


class InboundLine(models.Model):
    """A transaction line in staging. ``raw`` is the row as received; the typed columns are
    what could be parsed from it; ``parse_errors`` lists what could not (I2)."""

    batch = models.ForeignKey(
        InboundBatch,
        on_delete=models.PROTECT,
        related_name="lines",
        db_index=False,  # inbound_batch_key (batch, line_key) serves lookups by batch
    )
    row_number = models.PositiveIntegerField(help_text="Row in the file (1 = first data row).")
    raw = models.JSONField(default=dict)
    parse_errors = models.JSONField(default=list, blank=True)

    tran_type = models.CharField("TRAN_TYPE", max_length=5, choices=TranType.choices, blank=True)
    so_num = models.CharField("SO_NUM", **TEXT)
    so_line_id = models.CharField("SO_LINE_ID", **TEXT)
    orig_so_line_id = models.CharField("ORIG_SO_LINE_ID", **TEXT)
    so_date = models.DateField("SO_DATE", null=True, blank=True)
    inv_num = models.CharField("INV_NUM", **TEXT)
    inv_line_id = models.CharField("INV_LINE_ID", **TEXT)
    inv_date = models.DateField("INV_DATE", null=True, blank=True)
    customer = models.CharField("CUSTOMER", max_length=200, blank=True)
    item = models.CharField("ITEM", max_length=200, blank=True)
    ord_qty = models.DecimalField("ORD_QTY", **AMOUNT)
    inv_qty = models.DecimalField("INV_QTY", **AMOUNT)
    ext_lst_prc = models.DecimalField("EXT_LST_PRC", **AMOUNT)
    ext_sll_prc = models.DecimalField("EXT_SLL_PRC", **AMOUNT)
    curr = models.CharField("CURR", max_length=3, blank=True)
    f_cur = models.CharField("F_CUR", max_length=3, blank=True)
    start_date = models.DateField("START_DATE", null=True, blank=True)
    end_date = models.DateField("END_DATE", null=True, blank=True)
    rev_method = models.CharField(
        "REV_METHOD", max_length=16, choices=RevMethod.choices, blank=True
    )
    rc_key = models.CharField("RC_KEY", **TEXT)
    ssp_pct = models.DecimalField("SSP_PCT", **AMOUNT)
    ssp_price = models.DecimalField("SSP_PRICE", **AMOUNT)
    cancel_flag = models.CharField("CANCEL_FLAG", max_length=1, blank=True)
    return_flag = models.CharField("RETURN_FLAG", max_length=1, blank=True)
    rord_review_completed = models.CharField(
        "RORD Review Completed", max_length=1, default="N", blank=True
    )

    # derived on staging and on every edit
    line_key = models.CharField(
        max_length=100, blank=True, help_text="The line's own id for its type."
    )
    ref_line_id = models.CharField(
        max_length=100, blank=True, help_text="The SO line this line belongs to."
    )
    content_hash = models.CharField(max_length=32, blank=True)

    status = models.CharField(max_length=10, choices=LineStatus.choices, default=LineStatus.NEW)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(
        blank=True, help_text="Why the service that staged it took it back."
    )
    error_codes = models.CharField(max_length=255, blank=True)
    errors = models.JSONField(default=list, blank=True)
    waiting = models.BooleanField(
        default=False, help_text="Stopped only until its SO line is collected (INB-004)."
    )
    retry = models.BooleanField(
        default=False, help_text="Edited or reviewed since it was stopped: retried next run."
    )
    line = models.ForeignKey(
        "revenue.SoLine",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transactions",
        verbose_name="SO line",
    )
    run = models.ForeignKey(
        "revenue.CollectionRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
        help_text="The run that last validated or collected it.",
    )
    collected_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "inbound line"
        ordering = ["-id"]
        indexes = [
            # collection candidates: small once most lines are collected
            models.Index(fields=["tran_type", "id"], name="inbound_new", condition=Q(status="NEW")),
            models.Index(
                fields=["ref_line_id"], name="inbound_stopped", condition=Q(status="ERROR")
            ),
            # stopped lines by error code, read without the table (admin: the error-code
            # filter, RORDs awaiting review (I5) and their count; stopped lines only)
            models.Index(
                fields=["tran_type", "error_codes", "rord_review_completed", "id"],
                name="inbound_error_codes",
                condition=Q(status="ERROR"),
            ),
            # I7: an SO line's lines not collected yet (``pending_before``, once per batch)
            models.Index(
                fields=["ref_line_id", "tran_type"],
                name="inbound_open_ref",
                condition=~Q(status="COLLECTED"),
            ),
            models.Index(fields=["batch", "line_key"], name="inbound_batch_key"),
            # a batch's new and stopped lines (admin: the batch list's counts)
            models.Index(
                fields=["batch", "status"],
                name="inbound_open_batch",
                condition=~Q(status="COLLECTED"),
            ),
            models.Index(fields=["tran_type", "line_key"], name="inbound_type_key"),
            # lines still to look at, by type; collected lines (nearly all) stay out of it,
            # so that marking a line collected does not insert into it
            models.Index(
                fields=["status", "tran_type"],
                name="inbound_open_type",
                condition=~Q(status="COLLECTED"),
            ),
            # the lines a document staged (admin: ``?document=ORD-000001``, the document
            # pages' "Revenue lines (N)"): billing lines by INV_NUM, the others by SO_NUM;
            # the two indexes hold every line once between them
            models.Index(fields=["inv_num"], name="inbound_inv_document", condition=~Q(inv_num="")),
            models.Index(fields=["so_num"], name="inbound_so_document", condition=Q(inv_num="")),
        ]
        permissions = [("review_inboundline", "Can tick RORD Review Completed")]

    def __str__(self) -> str:
        kind = self.tran_type or self.raw.get("TRAN_TYPE", "?")
        return f"#{self.pk} {kind} {self.line_key or self.so_line_id}".strip()

    @property
    def is_collected(self) -> bool:
        return self.status == LineStatus.COLLECTED
