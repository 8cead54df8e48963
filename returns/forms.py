"""Forms of the order page's return flows: *Create RMA…* (T1–T5), *Simple return…* (T12)
and *Simple cancel…* (T13).

They only parse what was typed, with errors in plain words; every business rule is
checked by the returns services, whose refusals land on the field they name
(``quantity_<order product>``, ``reason_<order product>``, a fee row's field) or on top."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django import forms

from core.exceptions import BusinessRuleRefused, BusinessRulesRefused
from orders.models import OrderItem, Product

from .models import FeeAmountType, ReturnReason
from .services import FeeInput
from .services.fees import fee_problems

BLANK = [("", "---------")]


@dataclass(frozen=True)
class Flow:
    """What differs between the three flows: rules, words and the quantity offered."""

    key: str
    title: str
    rule: str  # quantities and lines
    reason_rule: str
    quantity_label: str
    available_label: str
    available_attr: str  # the OrderItem property that caps the quantity
    submit_label: str

    def available(self, item: OrderItem) -> Decimal:
        return getattr(item, self.available_attr)

    def offers(self, item: OrderItem) -> bool:
        """The products the form lists: fulfilled ones to return, open ones to cancel."""
        if self.available_attr == "available_to_cancel":
            return item.available_to_cancel > 0
        return item.fulfilled_quantity > 0


RMA = Flow(
    "create-rma",
    "Create a return order (RMA)",
    "T2",
    "T3",
    "Quantity expected",
    "Available to return",
    "available_to_return",
    "Create RMA",
)
SIMPLE_RETURN = Flow(
    "simple-return",
    "Simple return",
    "T12",
    "T12",
    "Quantity to return",
    "Available to return",
    "available_to_return",
    "Return now",
)
SIMPLE_CANCEL = Flow(
    "simple-cancel",
    "Simple cancel",
    "T13",
    "T13",
    "Quantity to cancel",
    "Available to cancel",
    "available_to_cancel",
    "Cancel now",
)


def _decimal_field(*, label: str, decimal_places: int, **kwargs) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        max_digits=16,
        decimal_places=decimal_places,
        widget=forms.TextInput(attrs={"size": 7, "class": "contra-qty", "inputmode": "decimal"}),
        error_messages={
            "invalid": "Enter a number",
            "max_digits": "No more than %(max)s digits",
            "max_decimal_places": "No more than %(max)s decimal places",
            "max_whole_digits": "No more than %(max)s digits before the point",
        },
        **kwargs,
    )


def _reason_field(*, label: str, blank_label: str = "---------") -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        required=False,
        choices=[("", blank_label), *ReturnReason.choices],
        error_messages={"invalid_choice": "%(value)s is not a reason for return"},
    )


class ReturnItemsForm(forms.Form):
    """Per listed order product a quantity and a reason, and the header's comment."""

    comment = forms.CharField(
        label="Comment",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 70}),
        help_text="Kept in the history.",
    )

    def __init__(self, *args, items: list[OrderItem], flow: Flow, **kwargs):
        super().__init__(*args, **kwargs)
        self.items, self.flow = items, flow
        for item in items:
            self.fields[f"quantity_{item.pk}"] = _decimal_field(
                label=f"{item.so_line_id}: {flow.quantity_label.lower()}",
                decimal_places=2,
            )
            self.fields[f"reason_{item.pk}"] = _reason_field(label=f"{item.so_line_id}: reason")

    def entered(self) -> dict[int, tuple[Decimal, str]]:
        """Quantity and reason of each product with a quantity typed in."""
        data = self.cleaned_data
        default_reason = data.get("reason") or ""
        return {
            item.pk: (data[f"quantity_{item.pk}"], data.get(f"reason_{item.pk}") or default_reason)
            for item in self.items
            if data.get(f"quantity_{item.pk}") is not None
        }


class RmaCreateForm(ReturnItemsForm):
    reason = _reason_field(label="Reason for return")
    then = forms.ChoiceField(
        label="Then",
        choices=[("submit", "Submit now"), ("draft", "Save as draft")],
        initial="submit",
        widget=forms.RadioSelect(attrs={"class": "radiolist inline"}),
        help_text="A draft can be checked and submitted later from the RMA's page.",
        error_messages={"invalid_choice": "choose Submit now or Save as draft"},
    )

    field_order = ["reason", "comment", "then"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = "The RMA's reason; a product left empty takes it."


class SimpleFlowForm(ReturnItemsForm):
    ensure_refund = forms.BooleanField(
        label="Ensure the refund",
        required=False,
        initial=True,
        help_text="Refund the credit memo less the fee invoice at once (pending until "
        "the gateway pays).",
    )


class FeeProductField(forms.ModelChoiceField):
    """Offers the active fee products; any product is read so T4 can say why it is not
    one (``fee_problems``)."""

    def label_from_instance(self, obj):
        return obj.name


class FeeForm(forms.Form):
    """T4: one fee on one of the listed order products."""

    item = forms.TypedChoiceField(
        label="On product",
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={
            "invalid_choice": "Order product %(value)s is not one of this order's "
            "products listed above"
        },
    )
    amount = _decimal_field(label="Amount", decimal_places=4)
    amount_type = forms.ChoiceField(
        label="Amount type",
        choices=FeeAmountType.choices,
        initial=FeeAmountType.AMOUNT_WITH_TAX,
        error_messages={
            "invalid_choice": "%(value)s is not an amount type",
            "required": "Choose an amount type",
        },
    )
    description = forms.CharField(
        label="Description",
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"size": 22}),
        error_messages={"max_length": "No more than %(limit_value)d characters"},
    )
    fee_product = FeeProductField(
        label="Fee product",
        queryset=Product.objects.all(),
        required=False,
        error_messages={"invalid_choice": "Product %(value)s does not exist"},
    )
    reason = _reason_field(label="Reason", blank_label="The product's")

    def __init__(self, *args, items: list[OrderItem], fee_products: list[Product], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(item.pk, f"{item.so_line_id} · {item.product.name}") for item in items]
        self.fields["item"].choices = BLANK + choices
        if len(items) == 1:
            self.fields["item"].initial = items[0].pk
        self.fields["fee_product"].choices = BLANK + [(p.pk, p.name) for p in fee_products]
        if len(fee_products) == 1:
            self.fields["fee_product"].initial = fee_products[0].pk

    def clean(self):
        data = super().clean()
        if "item" in data and data["item"] is None:
            self.add_error("item", "Choose the order product this fee is charged on")
        return data

    def fee_input(self) -> FeeInput:
        data = self.cleaned_data
        return FeeInput(
            amount=data.get("amount"),
            amount_type=data.get("amount_type") or "",
            fee_product=data.get("fee_product"),
            description=data.get("description") or "",
            reason=data.get("reason") or "",
        )


FeeFormSet = forms.formset_factory(
    FeeForm, extra=2, can_delete=True, max_num=50, validate_max=True, absolute_max=100
)


class ReturnFlowForms:
    """The products form and the fees formset of one flow, read and refused together."""

    def __init__(self, data, *, items, flow: Flow, fee_products, form_class=None):
        form_class = form_class or (RmaCreateForm if flow is RMA else SimpleFlowForm)
        self.items, self.flow = items, flow
        self.by_pk = {item.pk: item for item in items}
        self.form = form_class(data, items=items, flow=flow)
        self.fees = FeeFormSet(
            data, prefix="fees", form_kwargs={"items": items, "fee_products": fee_products}
        )
        self._shown: set[str] = set()

    def is_valid(self) -> bool:
        form_ok = self.form.is_valid()
        return self.fees.is_valid() and form_ok

    def _kept_fee_forms(self):
        """The fee rows filled in, not removed, that parsed."""
        for fee_form in self.fees.forms:
            if not fee_form.is_valid():
                continue
            data = fee_form.cleaned_data
            if not data or data.get("DELETE") or not fee_form.has_changed():
                continue
            yield fee_form

    def lines(self, line_class) -> list | None:
        """The lines for the service (``ReturnLineInput`` or ``SimpleLineInput``), or None
        when a fee row cannot be placed or did not parse. Each fee row is checked by
        ``fee_problems`` (T4, T5) on its own row; the service checks them again with
        everything else. Needs a valid products form."""
        entered = self.form.entered()
        placed = self.fees.is_valid()
        fees: dict[int, list[FeeInput]] = defaultdict(list)
        for fee_form in self._kept_fee_forms():
            item = self.by_pk.get(fee_form.cleaned_data.get("item"))
            if item is None:  # FeeForm.clean refused it already
                placed = False
                continue
            if item.pk not in entered:
                what = self.flow.quantity_label.lower()
                verb = "canceled" if self.flow is SIMPLE_CANCEL else "returned"
                fee_form.add_error(
                    "item",
                    f"{item.so_line_id} has no {what}: a fee is charged on the "
                    f"units {verb} with it",
                )
                placed = False
                continue
            fee = fee_form.fee_input()
            fees[item.pk].append(fee)
            label = f"{item.so_line_id} ({item.product.name}), fee {len(fees[item.pk])}"
            for problem in fee_problems(fee=fee, label=label):
                fee_form.add_error(
                    problem.field if problem.field in fee_form.fields else None, str(problem)
                )
                self._shown.add(str(problem))
        if not placed:
            return None
        return [
            line_class(order_item=self.by_pk[pk], quantity=qty, reason=reason, fees=fees[pk])
            for pk, (qty, reason) in entered.items()
        ]

    def refuse(self, error: BusinessRuleRefused) -> None:
        """Each refusal on the field it names, else on top; fee refusals already shown on
        their rows are not repeated."""
        problems = error.refusals if isinstance(error, BusinessRulesRefused) else [error]
        for problem in problems:
            text = str(problem)
            if text in self._shown:
                continue
            field = problem.field if problem.field in self.form.fields else None
            self.form.add_error(field, text)

    @property
    def errors_count(self) -> int:
        count = sum(len(errors) for errors in self.form.errors.values())
        count += sum(len(e) for fee_form in self.fees.forms for e in fee_form.errors.values())
        return count + len(self.fees.non_form_errors())

    def rows(self) -> list[dict]:
        return [
            {
                "item": item,
                "available": self.flow.available(item),
                "quantity": self.form[f"quantity_{item.pk}"],
                "reason": self.form[f"reason_{item.pk}"],
            }
            for item in self.items
        ]

    def header_fields(self):
        names = [n for n in self.form.fields if not n.startswith(("quantity_", "reason_"))]
        return [self.form[name] for name in names]
