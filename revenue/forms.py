"""Admin forms of the revenue sub-ledger. They only collect input: the services decide."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.functional import cached_property
from django.utils.html import format_html

from core.widgets import DateInput

from .models import InboundLine, ProfileSetting
from .models.choices import LineStatus, TranType
from .services.inbound import EDITABLE_FIELDS
from .services.parsing import FIELD_OF, ext_ssp_refusal

FLAG_CHOICES = [("", "—"), ("Y", "Y"), ("N", "N")]
REVIEW_CHOICES = [("N", "N"), ("Y", "Y")]


class PlainTextWidget(forms.Widget):
    """Shows a value that cannot be changed here, without an input."""

    def render(self, name, value, attrs=None, renderer=None):
        return format_html('<span class="revenue-readonly">{}</span>', value or "—")


# --- inbound staging (I1, I4, I5) --------------------------------------------------------


class InboundUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV or JSON file",
        help_text=(
            "A CSV with a header row (UTF-8) or a JSON array of objects, with the interchange "
            "column names (TRAN_TYPE, SO_LINE_ID, EXT_SLL_PRC…). Every row is staged; values "
            "that cannot be parsed stay on their line as INB-000 errors."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.json,text/csv,application/json"}),
    )


class InboundLineForm(forms.ModelForm):
    """The typed fields of a staged line (I4). Saved through ``inbound_line_update``."""

    cancel_flag = forms.ChoiceField(label="CANCEL_FLAG", choices=FLAG_CHOICES, required=False)
    return_flag = forms.ChoiceField(label="RETURN_FLAG", choices=FLAG_CHOICES, required=False)
    rord_review_completed = forms.ChoiceField(
        label="RORD Review Completed",
        choices=REVIEW_CHOICES,
        required=False,
        help_text="Y skips the date checks RPRO-00353 and RPRO-00356 for this RORD line at "
        "the next collection.",
    )

    class Meta:
        model = InboundLine
        fields = EDITABLE_FIELDS
        widgets = {
            "curr": forms.TextInput(attrs={"size": 4}),
            "f_cur": forms.TextInput(attrs={"size": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            value = self.initial.get(name)
            if isinstance(field, forms.DecimalField) and isinstance(value, Decimal):
                # 5, not 5.000000; a Decimal still, so that an untouched value is unchanged
                self.initial[name] = Decimal(format(value.normalize(), "f"))
        review = self.fields.get("rord_review_completed")
        if review is not None and self.instance.tran_type != TranType.RORD:
            review.disabled = True
            review.widget = PlainTextWidget()
            review.help_text = "Only RORD lines carry a review flag."

    def clean(self):
        """A2 on the values as edited, so that the form shows the refusal on its field
        (``inbound_line_update`` makes the same check)."""
        cleaned = super().clean()
        values = {
            name: cleaned.get(name, getattr(self.instance, name)) for name in FIELD_OF.values()
        }
        refusal = ext_ssp_refusal(values, edited=self.changed_data)
        if refusal is not None:
            self.add_error(*refusal)
        return cleaned

    def unparsed_fields(self) -> set[str]:
        """The fields whose value as received did not parse (INB-000, I2)."""
        columns = {str(error.get("field") or "") for error in self.instance.parse_errors or ()}
        return {name for name in EDITABLE_FIELDS if name.upper() in columns} & set(self.fields)

    @cached_property
    def changed_data(self) -> list[str]:
        """I4: a field whose received value did not parse is part of every save, with the
        value the form shows. What the garbage parsed to is mostly empty (a date, a number
        or a flag that could not be read), so clearing the field "changed" nothing: the
        edit left it out and the line kept its parse error, never retried."""
        unparsed = self.unparsed_fields()
        return [
            name
            for name, bound in self._bound_items()
            if bound._has_changed() or (name in unparsed and not bound.field.disabled)
        ]


class InboundReviewListForm(forms.ModelForm):
    """The inline RORD Review Completed column of the inbound list (I5)."""

    rord_review_completed = forms.ChoiceField(
        label="RORD Review Completed", choices=REVIEW_CHOICES, required=False
    )
    can_review = True

    class Meta:
        model = InboundLine
        fields = ("rord_review_completed",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        line = self.instance
        open_line = line.status not in (LineStatus.COLLECTED, LineStatus.WITHDRAWN)  # I4
        editable = self.can_review and line.tran_type == TranType.RORD and open_line
        if not editable:
            field = self.fields["rord_review_completed"]
            field.disabled = True
            field.widget = PlainTextWidget()
            if line.tran_type != TranType.RORD:
                self.initial["rord_review_completed"] = ""


def review_list_form(*, can_review: bool) -> type[InboundReviewListForm]:
    return type("InboundReviewListForm", (InboundReviewListForm,), {"can_review": can_review})


# --- SO lines (S10) -------------------------------------------------------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Kept in the line's history.",
    )


class DatesChangeForm(ReasonForm):
    start_date = forms.DateField(label="New revenue start", widget=DateInput())
    end_date = forms.DateField(label="New revenue end", widget=DateInput())
    field_order = ["start_date", "end_date", "reason"]


# --- periods (S1, S2) -----------------------------------------------------------------------


class PeriodOpenForm(forms.Form):
    period = forms.CharField(
        label="First open period",
        max_length=6,
        help_text="YYYYMM, e.g. 202601. Only while the ledger has no entries.",
        widget=forms.TextInput(attrs={"size": 8, "placeholder": "YYYYMM", "autofocus": True}),
    )


# --- settings (V rules, P6) -----------------------------------------------------------------


class ProfileSettingForm(forms.ModelForm):
    """A choice list when the setting has allowed values (Y/N), a text box otherwise."""

    class Meta:
        model = ProfileSetting
        fields = ("value",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = self.instance.allowed_values if self.instance.pk else []
        if allowed:
            self.fields["value"] = forms.ChoiceField(
                label="value", choices=[(v, v) for v in allowed]
            )
        else:
            self.fields["value"].widget.attrs["size"] = 8
