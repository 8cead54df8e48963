"""I3, I4 and A2 under bad input, through the admin change form of a stopped inbound line.

- A2: an SSP whose Ext SSP does not fit the SO line's EXT_SSP is stopped at staging and
  refused in an edit, naming SSP_PRICE / SSP_PCT and A2 (collection stopped such a line
  with INB-999 and the text of a Python exception).
- I3, I4: an optional field whose received value did not parse can be cleared: the form
  hands the empty value to the service, which stores it and retries the line (both
  dropped it as "unchanged": it equals what the garbage parsed to).
"""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from revenue.models import CollectionRun, InboundBatch, InboundLine
from revenue.services.collection import collection_collect
from revenue.services.inbound import inbound_line_update, inbound_stage

SO_ROW = {
    "TRAN_TYPE": "SO",
    "SO_NUM": "X",
    "SO_DATE": "2026-01-01",
    "ORD_QTY": "1",
    "EXT_LST_PRC": "100",
    "EXT_SLL_PRC": "100",
    "CURR": "USD",
    "F_CUR": "USD",
    "START_DATE": "2026-01-01",
    "END_DATE": "2026-12-31",  # 12 term months (A2)
    "REV_METHOD": "RATABLE_MONTHLY",
}


@pytest.fixture
def open_period(db):
    call_command("revenue_period", "open", "202601", stdout=io.StringIO())


def staged(line_id: str, **cells: str) -> InboundLine:
    row = {**SO_ROW, "SO_LINE_ID": line_id, **cells}
    # an uploaded line: lines the order services stage are not edited here (I4)
    return inbound_stage(rows=[row], source=InboundBatch.SourceKind.UPLOAD).lines.get()


def change_url(line: InboundLine) -> str:
    return reverse("admin:revenue_inboundline_change", args=[line.pk])


def form_data(client, line: InboundLine) -> dict:
    """What the change form posts back untouched (its initial values)."""
    form = client.get(change_url(line)).context["adminform"].form
    values = {name: form.initial.get(name) for name in form.fields}
    return {name: "" if value is None else str(value) for name, value in values.items()}


def save(client, line: InboundLine, **edits: str):
    return client.post(change_url(line), {**form_data(client, line), **edits, "_save": "Save"})


def collected(line: InboundLine) -> InboundLine:
    collection_collect(trigger=CollectionRun.Trigger.API)
    line.refresh_from_db()
    return line


# --- A2: an SSP that gives an Ext SSP beyond EXT_SSP ------------------------------------
HUGE = "9999999999999"  # 13 digits: what a staged decimal may have (I2)


@pytest.mark.parametrize(
    "edits, field",
    [
        ({"ssp_price": HUGE, "ord_qty": HUGE}, "ssp_price"),  # ≈ 1.2E+27
        ({"ssp_pct": HUGE, "ext_lst_prc": HUGE}, "ssp_pct"),  # ≈ 1.0E+24
    ],
)
def test_a2_an_ssp_beyond_ext_ssp_is_refused_at_entry(open_period, admin_client, edits, field):
    """A2: the form answers again with the error on the SSP field, naming it (the rule in
    words, not its ID), and
    saves nothing; a sensible SSP then saves and the line is collected (it stopped with
    INB-999 "InvalidOperation: [<class 'decimal.InvalidOperation'>]")."""
    line = staged("X-1", EXT_SLL_PRC="1,00")  # stopped: INB-000 on EXT_SLL_PRC
    before = InboundLine.objects.values().get(pk=line.pk)

    response = save(admin_client, line, ext_sll_prc="100", **edits)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    assert errors[field][0].startswith(f"{field.upper()}: Ext SSP = ")
    assert "more than EXT_SSP holds (at most 16 digits before '.')" in errors[field][0]
    assert InboundLine.objects.values().get(pk=line.pk) == before

    sensible = {name: "10" if name == field else value for name, value in edits.items()}
    assert save(admin_client, line, ext_sll_prc="100", **sensible).status_code == 302
    line = collected(line)
    assert line.status == "COLLECTED" and line.errors == []


def test_a2_inbound_line_update_refuses_it_too(open_period, admin_user):
    """The service behind the form (I4) runs the same check: a ValidationError on SSP_PCT,
    nothing saved."""
    line = staged("X-2", EXT_LST_PRC=HUGE)
    before = InboundLine.objects.values().get(pk=line.pk)
    with pytest.raises(ValidationError) as refused:
        inbound_line_update(line=line, changes={"ssp_pct": Decimal(HUGE)}, actor=admin_user)
    assert list(refused.value.message_dict) == ["ssp_pct"]
    assert refused.value.message_dict["ssp_pct"][0].startswith("SSP_PCT: Ext SSP = ")
    assert InboundLine.objects.values().get(pk=line.pk) == before


@pytest.mark.parametrize(
    "cells, fits",
    [
        # 1E+15 × 1 × 12 months = 1.2E+16: one digit more than EXT_SSP's 16
        ({"SSP_PRICE": "1000000000000", "ORD_QTY": "1000"}, False),
        ({"SSP_PRICE": "1000000000000", "ORD_QTY": "800"}, True),  # 9.6E+15
        # a one-day line has term 1 (A2)
        ({"SSP_PRICE": "1000000000000", "ORD_QTY": "1000", "END_DATE": "2026-01-01"}, True),
        ({"SSP_PCT": "100", "EXT_LST_PRC": HUGE}, True),
        ({"SSP_PCT": "1000000", "EXT_LST_PRC": "1000000000000"}, False),  # 1E+16
        ({"SSP_PCT": "999999.99", "EXT_LST_PRC": "1000000000000"}, True),  # 9999999999999900
    ],
)
def test_a2_the_limit_is_what_ext_ssp_holds(db, cells, fits):
    """EXT_SSP is numeric(18, 2): an Ext SSP below 10^16 fits; a row giving one at or above
    it is stopped at staging with INB-000 under A2, naming the SSP column and the value."""
    line = staged("X-3", **cells)
    if fits:
        assert line.status == "NEW" and line.parse_errors == []
        return
    column = "SSP_PRICE" if "SSP_PRICE" in cells else "SSP_PCT"
    assert line.status == "ERROR"
    assert [(e["code"], e["rule"], e["field"]) for e in line.parse_errors] == [
        ("INB-000", "A2", column)
    ]
    assert line.parse_errors[0]["message"].startswith(f"{column}: Ext SSP = ")
    assert "more than EXT_SSP holds (at most 16 digits before '.')" in line.errors[0]["message"]


def test_a2_an_edit_elsewhere_keeps_the_a2_error_and_a_fix_clears_it(open_period, admin_user):
    """I4 + A2: editing another field keeps the line stopped with its A2 error; lowering
    ORD_QTY (one of the Ext SSP's inputs) until it fits clears it and the line is collected."""
    line = staged("X-4", SSP_PRICE="1000000000000", ORD_QTY="1000")
    assert [e["rule"] for e in line.parse_errors] == ["A2"]
    line = inbound_line_update(line=line, changes={"customer": "Acme"}, actor=admin_user)
    assert line.status == "ERROR" and [e["rule"] for e in line.parse_errors] == ["A2"]
    line = inbound_line_update(line=line, changes={"ord_qty": Decimal("800")}, actor=admin_user)
    assert line.parse_errors == [] and line.status == "ERROR" and line.retry
    assert collected(line).status == "COLLECTED"


# --- I3, I4: clearing a value that did not parse -----------------------------------------
# optional on an SO line; what the received garbage parsed to is empty
GARBAGE = [
    ("INV_DATE", "2026-13-01", None),
    ("INV_QTY", "1,0", None),
    ("SSP_PCT", "abc", None),
    ("CANCEL_FLAG", "Q", ""),
]


@pytest.mark.parametrize("column, garbage, empty", GARBAGE)
def test_i4_the_form_hands_a_cleared_unparsed_field_to_the_service(
    open_period, admin_client, monkeypatch, column, garbage, empty
):
    """I4: saving the form with the field of a value that did not parse left empty sends
    that empty value to ``inbound_line_update``. It compared equal to the (empty) value
    parsed from the garbage, so the form dropped it from the edit and the service was not
    even called: the line kept its INB-000 and was never retried."""
    import revenue.admin.inbound as inbound_admin

    calls = []

    def spy(*, line, changes, actor):
        calls.append(changes)
        return inbound_line_update(line=line, changes=changes, actor=actor)

    monkeypatch.setattr(inbound_admin, "inbound_line_update", spy)
    line = staged("G-1", **{column: garbage})
    assert line.status == "ERROR" and [e["field"] for e in line.parse_errors] == [column]

    assert save(admin_client, line, **{column.lower(): ""}).status_code == 302
    assert calls == [{column.lower(): empty}]


@pytest.mark.parametrize("column, garbage, empty", GARBAGE)
def test_i3_i4_a_cleared_optional_value_is_stored_empty_and_the_line_retried(
    open_period, admin_client, column, garbage, empty
):
    """I3, I4: clearing an optional field whose value did not parse stores it empty,
    drops its parse error and retries the line, which the next collection collects."""
    line = staged("G-2", **{column: garbage})

    assert save(admin_client, line, **{column.lower(): ""}).status_code == 302

    line.refresh_from_db()
    assert getattr(line, column.lower()) == empty
    assert line.parse_errors == [] and line.retry
    assert collected(line).status == "COLLECTED"
