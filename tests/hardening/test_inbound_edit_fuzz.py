"""I3, I4 under bad input: editing a stopped line, through ``inbound_line_update`` and
through its admin change form.

- the service either saves (fixed columns lose their parse errors, a line without any is
  retried, I3) or refuses with an error that names the field (ValidationError,
  BusinessRuleRefused, or ValueError for a name that is not an editable column); nothing
  else escapes and a refused edit changes nothing;
- the change form answers the page again with the field errors, or saves and redirects;
  never a 500; the collection after the edits never raises.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.exceptions import BusinessRuleRefused
from revenue.models import InboundBatch, InboundLine
from revenue.services.inbound import EDITABLE_FIELDS, inbound_line_update, inbound_stage

from .inbound_cases import BAD_DATES, BAD_NUMBERS, INJECTIONS, SAFE_CHARS
from .inbound_checks import check_collected, shown

EDITS = settings(
    max_examples=60,
    deadline=None,
    # db, the client and the tally are shared by the examples on purpose (see ``tally``)
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_ids = itertools.count(1)
DECIMAL_FIELDS = {"ord_qty", "inv_qty", "ext_lst_prc", "ext_sll_prc", "ssp_pct", "ssp_price"}
DATE_FIELDS = {"so_date", "inv_date", "start_date", "end_date"}


def stopped_line() -> InboundLine:
    n = next(_ids)
    row = {
        "TRAN_TYPE": "SO",
        "SO_NUM": f"EDIT-{n}",
        "SO_LINE_ID": f"EDIT-{n}-1",
        "SO_DATE": "2026-13-01",
        "ORD_QTY": "--5",
        "EXT_LST_PRC": "1,000.00",
        "EXT_SLL_PRC": "NaN",
        "CURR": "US",
        "F_CUR": "USD",
        "START_DATE": "2026-01-01",
        "END_DATE": "2026-12-31",
        "CUSTOMER": "A\x00B",
    }
    # an uploaded line: lines the order services stage are not edited here (I4)
    batch = inbound_stage(rows=[row], source=InboundBatch.SourceKind.UPLOAD)
    line = batch.lines.get()
    assert line.status == "ERROR" and line.parse_errors
    return line


# --- the service ------------------------------------------------------------------------
def typed_value(name: str):
    if name in DECIMAL_FIELDS:
        return st.one_of(
            st.decimals(-(10**6), 10**6, places=2),
            st.sampled_from([Decimal("NaN"), Decimal("Infinity"), Decimal("1E+30"), None]),
            st.sampled_from([Decimal("0.0000001"), 1e400, float("nan"), 5, "abc", "1,000"]),
        )
    if name in DATE_FIELDS:
        return st.one_of(
            st.dates(date(1, 1, 1)),
            st.sampled_from([None, "2026-13-01", "abc", datetime(2026, 1, 1, 5), 20260101]),
        )
    return st.one_of(
        st.text(SAFE_CHARS, max_size=20),
        st.sampled_from([*INJECTIONS, "x" * 250, "A\x00B", "\ud800", None, 5, "ZZZZZZ"]),
    )


@st.composite
def changes(draw) -> dict:
    names = draw(st.lists(st.sampled_from(EDITABLE_FIELDS), min_size=1, max_size=5, unique=True))
    found = {name: draw(typed_value(name)) for name in names}
    if draw(st.integers(0, 9)) == 0:
        found[draw(st.sampled_from(["status", "raw", "rord_review_completed", "zzz"]))] = "Y"
    return found


def _names_a_field(problem: Exception, names) -> bool:
    text = str(getattr(problem, "message_dict", "") or problem)
    return any(name in text for name in names)


@EDITS
@given(edit=changes())
def test_i4_inbound_line_update_saves_or_refuses_naming_the_field(
    edit, open_period, admin_user, tally
):
    line = stopped_line()
    before = InboundLine.objects.values().get(pk=line.pk)
    try:
        updated = inbound_line_update(line=line, changes=edit, actor=admin_user)
    except (ValidationError, BusinessRuleRefused, ValueError) as refusal:
        if type(refusal) is ValueError:
            assert "not an editable staging field" in str(refusal), shown(edit)
        assert _names_a_field(refusal, edit), f"{refusal!r} names no field of {shown(edit)}"
        assert InboundLine.objects.values().get(pk=line.pk) == before, "a refusal saves nothing"
        tally["refused"] += 1
    else:
        updated.refresh_from_db()
        after = InboundLine.objects.values().get(pk=line.pk)
        fixed = {name.upper() for name in edit if after[name] != before[name]}
        assert not any(e.get("field") in fixed for e in updated.parse_errors), shown(edit)
        if updated.parse_errors:
            assert updated.status == "ERROR" and not updated.retry
        else:
            assert updated.retry, "I3: an edited line without parse errors is retried"
        tally["saved"] += 1
    tally["rows"] += 1


def test_i3_edits_then_collection_never_raises(open_period, admin_user):
    """A line fixed by an edit is collected; the still-broken ones stay stopped."""
    fixed, broken = stopped_line(), stopped_line()
    inbound_line_update(
        line=fixed,
        changes={
            "so_date": date(2026, 1, 1),
            "ord_qty": Decimal("5"),
            "ext_lst_prc": Decimal("1000"),
            "ext_sll_prc": Decimal("900"),
            "curr": "USD",
            "customer": "AB",
        },
        actor=admin_user,
    )
    inbound_line_update(line=broken, changes={"customer": "AB"}, actor=admin_user)
    check_collected([])
    fixed.refresh_from_db()
    broken.refresh_from_db()
    assert fixed.status == "COLLECTED"
    assert broken.status == "ERROR" and "INB-000" in broken.error_codes


# --- the admin change form --------------------------------------------------------------
def form_text(name: str):
    if name in DECIMAL_FIELDS:
        pool = [*BAD_NUMBERS, "5", "-12.50", "1e5", "9" * 21, ""]
    elif name in DATE_FIELDS:
        pool = [*BAD_DATES, "2026-03-01", "", "0001-01-01", "9999-12-31"]
    elif name in ("tran_type", "rev_method", "cancel_flag", "return_flag"):
        pool = ["SO", "RORD", "zzz", "", "IMMEDIATE", "Y", "N", "'; DROP TABLE x; --"]
    else:
        pool = [*INJECTIONS, "x" * 10_000, "A\x00B", "", "USD", "usd", "€€€"]
    return st.one_of(st.sampled_from(pool), st.text(SAFE_CHARS, max_size=12))


def baseline(form) -> dict:
    data = {}
    for name in form.fields:
        value = form.initial.get(name)
        data[name] = "" if value is None else str(value)
    return data


@EDITS
@given(data=st.data())
def test_i4_admin_edit_of_a_stopped_line_never_answers_500(data, open_period, admin_client, tally):
    line = stopped_line()
    url = reverse("admin:revenue_inboundline_change", args=[line.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    post = baseline(page.context["adminform"].form)
    for name in data.draw(st.lists(st.sampled_from(sorted(post)), min_size=1, max_size=6)):
        post[name] = data.draw(form_text(name), label=name)
    if data.draw(st.booleans(), label="drop a field"):
        post.pop(data.draw(st.sampled_from(sorted(post))), None)
    response = admin_client.post(url, {**post, "_save": "Save"})
    nul = any("\x00" in value for value in post.values())
    assert response.status_code in ((400,) if nul else (200, 302)), response.status_code
    if nul:
        assert b"NUL character" in response.content  # core.middleware, before the form
        tally["refused"] += 1
    elif response.status_code == 200:
        form = response.context["adminform"].form
        assert form.errors, "the page came back without saying what is wrong"
        tally["refused"] += 1
    else:
        line.refresh_from_db()
        assert line.status in ("NEW", "ERROR")
        tally["saved"] += 1
    tally["rows"] += 1
