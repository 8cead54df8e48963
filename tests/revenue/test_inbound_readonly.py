"""I4 (issue 17, part 5): lines staged by the order and returns services are fixed at their
source. On the Inbound screen every value of such a line is read-only, with a sentence that
says why and links to the document; a POST changes nothing and says why;
``inbound_line_update`` and ``inbound_line_delete`` refuse them (I4), so no other path
edits them. Lines from files (upload, ``revenue_import``, the demo's files) stay editable.
RORD Review Completed (I5) stays settable on service RORD lines: the accountant's review,
not the line's data.
"""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from core.exceptions import BusinessRuleRefused
from core.models import AuditEvent
from revenue.models import InboundBatch, InboundLine
from revenue.services.inbound import (
    inbound_line_delete,
    inbound_line_update,
    inbound_review_set,
    inbound_stage,
)
from tests.factories import make_order
from tests.orders.test_revenue_links import licences, reduce

pytestmark = pytest.mark.django_db
INBOUND = "/admin/revenue/inboundline/"

SO_ROW = {
    "TRAN_TYPE": "SO",
    "SO_NUM": "EXT-1",
    "SO_LINE_ID": "EXT-1-1",
    "SO_DATE": "2026-01-01",
    "ORD_QTY": "1",
    "EXT_LST_PRC": "10",
    "EXT_SLL_PRC": "10",
    "CURR": "USD",
    "F_CUR": "USD",
    "START_DATE": "2026-01-01",
    "END_DATE": "2026-01-01",
}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def change_url(line: InboundLine) -> str:
    return reverse("admin:revenue_inboundline_change", args=[line.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def row_of(line: InboundLine) -> dict:
    return InboundLine.objects.values().get(pk=line.pk)


@pytest.fixture
def service_line(db) -> InboundLine:
    """The SO line an order's activation staged (O9): a SERVICE batch."""
    order = make_order(activate=True)
    line = InboundLine.objects.get(so_num=order.number)
    assert line.batch.source == InboundBatch.SourceKind.SERVICE
    line.order = order
    return line


@pytest.fixture
def service_rord(db) -> InboundLine:
    """The RORD line a reduction order's activation staged (R9)."""
    call_command("revenue_period", "open", "202601", stdout=io.StringIO())
    reduction = reduce(licences())
    line = InboundLine.objects.get(tran_type="RORD", so_num=reduction.number)
    assert line.batch.source == InboundBatch.SourceKind.SERVICE
    line.reduction = reduction
    return line


def uploaded(source=InboundBatch.SourceKind.UPLOAD, **cells) -> InboundLine:
    return inbound_stage(rows=[{**SO_ROW, **cells}], source=source).lines.get()


# --- the page -----------------------------------------------------------------------------


def test_i4_a_service_line_page_is_read_only_and_says_why(admin_client, service_line):
    """Every value shown read-only (no input), no Save nor Delete, and the sentence with the
    link to the order."""
    order = service_line.order
    response = admin_client.get(change_url(service_line))
    assert response.status_code == 200
    html = response.content.decode()
    order_url = reverse("admin:orders_order_change", args=[order.pk])
    assert (
        f"Staged by the order service from "
        f'<a href="{order_url}" title="Open the order">{order.number}</a>: '
        "change the order instead. Every value is read-only here.</p>"
    ) in html
    form = response.context["adminform"].form
    assert list(form.fields) == []  # SO: not even the review flag (RORD lines only)
    for name in ("ext_sll_prc", "so_num", "start_date", "rord_review_completed"):
        assert f'name="{name}"' not in html
    assert 'name="_save"' not in html and 'name="_continue"' not in html
    assert "deletelink" not in html


def test_i4_a_post_to_a_service_line_changes_nothing_and_says_why(admin_client, service_line):
    before = row_of(service_line)
    response = admin_client.post(
        change_url(service_line),
        {"ext_sll_prc": "999", "customer": "Someone else", "_save": "Save"},
        follow=True,
    )
    assert response.status_code == 200
    assert row_of(service_line) == before
    order = service_line.order
    assert messages_of(response) == [
        f"#{service_line.pk} was staged by the order service from {order.number}: it cannot "
        "be edited here; change the order instead"
    ]
    assert not AuditEvent.objects.filter(object_id=str(service_line.pk), action="edit").exists()
    # a bare POST (no value at all) is refused just the same: nothing here may be saved
    response = admin_client.post(change_url(service_line), {"_save": "Save"}, follow=True)
    assert any("cannot be edited here" in m for m in messages_of(response))
    assert row_of(service_line) == before


def test_i4_a_service_line_cannot_be_deleted_from_the_admin(admin_client, service_line):
    delete_url = reverse("admin:revenue_inboundline_delete", args=[service_line.pk])
    assert admin_client.get(delete_url).status_code == 403
    selection = {
        "action": "delete_selected_lines",
        "_selected_action": [service_line.pk],
        "confirm": "yes",
    }
    response = admin_client.post(INBOUND, selection, follow=True)
    assert InboundLine.objects.filter(pk=service_line.pk).exists()
    assert any(
        "was staged by the order service" in m and "cannot be deleted here" in m
        for m in messages_of(response)
    )


# --- the service --------------------------------------------------------------------------


def test_i4_the_service_refuses_to_edit_or_delete_a_service_line(admin_user, service_line):
    before = row_of(service_line)
    with pytest.raises(BusinessRuleRefused) as refused:
        inbound_line_update(
            line=service_line, changes={"ext_sll_prc": Decimal("1")}, actor=admin_user
        )
    assert refused.value.rule == "I4"
    assert refused.value.message == (
        f"#{service_line.pk} was staged by the order service from {service_line.order.number}: "
        "it cannot be edited here; change the order instead"
    )
    with pytest.raises(BusinessRuleRefused) as refused:
        inbound_line_delete(line=service_line, actor=admin_user)
    assert refused.value.rule == "I4" and "cannot be deleted here" in refused.value.message
    assert row_of(service_line) == before


# --- lines from files stay editable -------------------------------------------------------


def test_i4_an_uploaded_line_is_still_editable_on_its_page(admin_client):
    line = uploaded()
    response = admin_client.get(change_url(line))
    html = response.content.decode()
    assert 'name="ext_sll_prc"' in html and 'name="_save"' in html
    assert "Staged by the order service" not in html
    assert "EXT-1" in html and ">EXT-1</a>" not in html  # a number Contra never had: text
    form = response.context["adminform"].form
    post = {name: "" if v is None else str(v) for name, v in form.initial.items()}
    post = {name: post.get(name, "") for name in form.fields}
    response = admin_client.post(
        change_url(line), {**post, "ext_sll_prc": "12", "_save": "Save"}, follow=True
    )
    assert response.status_code == 200
    line.refresh_from_db()
    assert line.ext_sll_prc == Decimal("12")
    assert AuditEvent.objects.filter(object_id=str(line.pk), action="edit").exists()


@pytest.mark.parametrize(
    "source",
    [
        InboundBatch.SourceKind.UPLOAD,
        InboundBatch.SourceKind.COMMAND,
        InboundBatch.SourceKind.DEMO,  # the demo's lines stand for a file: DEMO-SO-1001 …
    ],
)
def test_i4_lines_from_files_are_edited_and_deleted_by_the_service(admin_user, source):
    line = uploaded(source=source)
    line = inbound_line_update(line=line, changes={"customer": "Acme"}, actor=admin_user)
    assert line.customer == "Acme"
    inbound_line_delete(line=line, actor=admin_user)
    assert not InboundLine.objects.filter(pk=line.pk).exists()


# --- I5 on service RORD lines -------------------------------------------------------------


def test_i5_review_flag_stays_settable_on_a_service_rord_page(admin_client, service_rord):
    """The page offers the review flag alone; saving it sets Y (audited 'review'); a POST
    that also sends a value is refused whole."""
    html = admin_client.get(change_url(service_rord)).content.decode()
    assert 'name="rord_review_completed"' in html and 'name="_save"' in html
    assert 'name="ext_sll_prc"' not in html
    assert "Every value is read-only here except RORD Review Completed." in html
    reduction_url = reverse("admin:orders_reductionorder_change", args=[service_rord.reduction.pk])
    assert f'href="{reduction_url}"' in html

    refused = admin_client.post(
        change_url(service_rord),
        {"rord_review_completed": "Y", "ext_sll_prc": "-1", "_save": "Save"},
        follow=True,
    )
    assert any("cannot be edited here" in m for m in messages_of(refused))
    service_rord.refresh_from_db()
    assert service_rord.rord_review_completed == "N"

    before = row_of(service_rord)
    response = admin_client.post(
        change_url(service_rord), {"rord_review_completed": "Y", "_save": "Save"}, follow=True
    )
    assert response.status_code == 200
    after = row_of(service_rord)
    assert after["rord_review_completed"] == "Y"
    assert {k for k in after if after[k] != before[k]} <= {"rord_review_completed", "retry"}
    assert AuditEvent.objects.filter(object_id=str(service_rord.pk), action="review").exists()


def test_i5_review_action_and_inline_still_work_on_service_rord_lines(admin_client, service_rord):
    admin_client.post(INBOUND, {"action": "review_yes", "_selected_action": [service_rord.pk]})
    service_rord.refresh_from_db()
    assert service_rord.rord_review_completed == "Y"

    page = admin_client.get(INBOUND, {"tran_type__exact": "RORD"})
    formset = page.context["cl"].formset
    (form,) = formset.forms
    assert not form.fields["rord_review_completed"].disabled
    post = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(service_rord.pk),
        "form-0-rord_review_completed": "N",
        "_save": "Save",
    }
    admin_client.post(f"{INBOUND}?tran_type__exact=RORD", post, follow=True)
    service_rord.refresh_from_db()
    assert service_rord.rord_review_completed == "N"
    assert inbound_review_set(line_ids=[service_rord.pk], value="Y", actor=None) == 1
