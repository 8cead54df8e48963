from django import forms

from core.widgets import DateInput


class TransitionReasonForm(forms.Form):
    """Asked before a transition that undoes work (O8 keeps the reason)."""

    comment = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Kept in the document's history.",
    )


class ReductionForm(forms.Form):
    """R5, R6: one quantity per original product; start and end dates for recurring ones.
    The form only parses: every rule is checked by ``reduction_order_create``."""

    effective_date = forms.DateField(
        label="Effective date",
        required=False,
        widget=DateInput(),
        help_text="Empty: today.",
    )
    comment = forms.CharField(
        label="Reason",
        required=False,
        widget=forms.TextInput(attrs={"size": 60}),
        help_text="Kept in the history of both orders.",
    )

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            self.fields[f"quantity_{item.pk}"] = forms.DecimalField(
                label=f"Line {item.line_number}: quantity to reduce",
                required=False,
                max_digits=16,
                decimal_places=2,
                widget=forms.NumberInput(attrs={"size": 8, "step": "any", "class": "contra-qty"}),
            )
            if item.charge_type == "RECURRING":
                for edge in ("start", "end"):
                    self.fields[f"{edge}_date_{item.pk}"] = forms.DateField(
                        label=f"Line {item.line_number}: {edge} date",
                        required=False,
                        widget=DateInput(),
                    )

    def lines(self, line_class) -> list:
        """The entered lines (an empty quantity is skipped by the service)."""
        data = self.cleaned_data
        return [
            line_class(
                item_id=item.pk,
                quantity=data.get(f"quantity_{item.pk}"),
                start_date=data.get(f"start_date_{item.pk}"),
                end_date=data.get(f"end_date_{item.pk}"),
            )
            for item in self.items
            if data.get(f"quantity_{item.pk}") not in (None, "")
        ]


class CancelProductForm(forms.Form):
    """C1, C2: which recurring product ends, and its last billed day."""

    item = forms.TypedChoiceField(label="Order product", coerce=int)
    terminated_date = forms.DateField(
        label="Terminated date",
        widget=DateInput(),
        help_text="The last day billed; inside the product's service dates.",
    )
    activate = forms.BooleanField(
        label="Activate now",
        required=False,
        initial=True,
        help_text="Lower the quantities, send RORD lines to revenue and credit what "
        "was billed beyond the terminated date.",
    )
    comment = forms.CharField(
        label="Reason", required=False, widget=forms.TextInput(attrs={"size": 60})
    )

    def __init__(self, *args, items, **kwargs):
        super().__init__(*args, **kwargs)
        self.items = {item.pk: item for item in items}
        self.fields["item"].choices = [
            (
                item.pk,
                f"Line {item.line_number}: {item.product.name} × {item.quantity.normalize():f} "
                f"({item.service_start_date} – {item.service_end_date})",
            )
            for item in items
        ]

    @property
    def chosen_item(self):
        return self.items.get(self.cleaned_data.get("item"))
