from django import forms


class TransitionReasonForm(forms.Form):
    """Asked before a transition that undoes work (O8 keeps the reason)."""

    comment = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Kept in the order's history.",
    )
