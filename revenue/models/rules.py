"""The validation registry (V rules) and profile settings (P6 and friends)."""

from django.db import models


class ValidationRule(models.Model):
    """One validation of the registry: revenue accountants switch rules on and off."""

    code = models.CharField(max_length=20, primary_key=True)
    rule = models.CharField(
        "rule", max_length=4, help_text="The specification's rule ID, for developers (not shown)."
    )
    message = models.CharField(max_length=255)
    line_types = models.CharField(
        max_length=60, help_text="Comma-separated TRAN_TYPEs the rule checks."
    )
    enabled = models.BooleanField(default=True)
    default_enabled = models.BooleanField(default=True, editable=False)
    can_disable = models.BooleanField(default=True, editable=False)
    skipped_when_reviewed = models.BooleanField(
        default=False,
        editable=False,
        help_text="Skipped for RORD lines with RORD Review Completed = Y.",
    )
    sort = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["sort"]

    def __str__(self) -> str:
        return self.code

    @property
    def types(self) -> frozenset[str]:
        return frozenset(t.strip() for t in self.line_types.split(",") if t.strip())


class ProfileSetting(models.Model):
    """A named sub-ledger setting such as ``CREATE_RORD_CONTRA_ENTRY`` (Y/N)."""

    name = models.CharField(max_length=50, primary_key=True)
    value = models.CharField(max_length=50)
    default = models.CharField(max_length=50, editable=False)
    allowed = models.CharField(
        max_length=100, blank=True, editable=False, help_text="Comma-separated allowed values."
    )
    description = models.CharField(max_length=255, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} = {self.value}"

    @property
    def allowed_values(self) -> list[str]:
        return [v for v in self.allowed.split(",") if v]
