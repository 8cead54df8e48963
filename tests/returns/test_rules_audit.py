"""T15: every refusal reads "<rule>: <message>" and names the line it is about (the order
product "ORD-…-n" or the return line "RMA-…-n"); every action leaves an audit event."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from core.exceptions import BusinessRuleRefused
from core.models import AuditEvent
from returns.services import (
    SimpleLineInput,
    return_line_cancel,
    return_order_transition,
    simple_cancel_submit,
    simple_return_submit,
)
from tests.factories import ProductFactory
from tests.returns.conftest import (
    audit_actions,
    create_rma,
    fee,
    open_line,
    process,
    refusals,
    rma_for,
)

pytestmark = pytest.mark.django_db
D = Decimal


def _t2(item, fee_product):
    create_rma(item, (5, "DAMAGED"))


def _t3(item, fee_product):
    create_rma(item, (1, "DAMAGED"))
    create_rma(item, (1, "DAMAGED"))


def _t4(item, fee_product):
    create_rma(item, (1, "DAMAGED", [fee(ProductFactory(is_fee=False), 5)]))


def _t5(item, fee_product):
    create_rma(item, (1, "DAMAGED", [fee(fee_product, 5, "PER_UNIT")]))


def _t6(item, fee_product):
    rma = rma_for(item, 2)
    process(rma, open_line(rma), 2, to_cancel=1)


def _t9(item, fee_product):
    rma = rma_for(item, 1, fees=[fee(fee_product, 30)])
    process(rma, open_line(rma), 1)


def _t11(item, fee_product):
    rma = rma_for(item, 2)
    return_order_transition(return_order=rma, name="close", user=None)


def _t11_fee(item, fee_product):
    rma = rma_for(item, 2, fees=[fee(fee_product, 5)])
    return_line_cancel(line=rma.lines.get(line_number=2), user=None)


def _t12(item, fee_product):
    simple_return_submit(
        order=item.order,
        lines=[SimpleLineInput(order_item=item, quantity=D(9), reason="OTHER")],
        user=None,
    )


def _t13(item, fee_product):
    simple_cancel_submit(
        order=item.order,
        lines=[SimpleLineInput(order_item=item, quantity=D(1), reason="OTHER")],
        user=None,
    )


@pytest.mark.parametrize(
    "rule, scenario",
    [
        ("T2", _t2),
        ("T3", _t3),
        ("T4", _t4),
        ("T5", _t5),
        ("T6", _t6),
        ("T9", _t9),
        ("T11", _t11),
        ("T11", _t11_fee),
        ("T12", _t12),
        ("T13", _t13),
    ],
)
def test_t15_refusals_carry_the_rule_and_name_the_line(tv1_item, fee_product, rule, scenario):
    """T15: the refusal carries its rule (``rule``; commands print it in brackets) and its
    text names the line in words, without the rule ID; the admin shows str(refusal) as it
    is."""
    with pytest.raises(BusinessRuleRefused) as refused:
        scenario(tv1_item, fee_product)
    problem = refusals(refused)[0]
    assert problem.rule == rule and str(problem) == problem.message
    assert not re.search(rf"\b{rule}\b", problem.message), problem.message
    assert problem.bracketed == f"{problem.message} [{rule}]"
    if rule in ("T6", "T11"):  # about a return line
        assert re.search(r"RMA-\d{6}-\d+", problem.message), problem.message
    else:  # about an order product
        assert tv1_item.so_line_id in problem.message, problem.message


def test_t15_every_action_is_audited_with_its_actor(tv1_item, fee_product, admin_user):
    """T15: create, submit, approve, items returned, line canceled, close on the RMA;
    ensured and succeed on the refund; all by the user who acted."""
    from returns.models import Refund
    from returns.services import refund_transition

    rma = create_rma(tv1_item, (3, "DAMAGED", [fee(fee_product, 5)]), submit=False, user=admin_user)
    for name in ("submit", "approve"):
        return_order_transition(return_order=rma, name=name, user=admin_user)
    processing = process(rma, open_line(rma), 2, user=admin_user)
    return_line_cancel(line=open_line(rma), user=admin_user, comment="not coming")
    return_order_transition(return_order=rma, name="close", user=admin_user)
    refund = Refund.objects.get(processing=processing)
    refund_transition(refund=refund, name="succeed", user=admin_user)
    assert audit_actions(rma) == [
        "created",
        "submit",
        "approve",
        "items returned",
        "line canceled",
        "close",
    ]
    assert audit_actions(refund) == ["ensured", "succeed"]
    events = AuditEvent.objects.filter(object_repr__in=[str(rma), str(refund)])
    assert {event.actor_id for event in events} == {admin_user.pk}
    canceled = events.get(action="line canceled")
    assert canceled.comment == "not coming" and canceled.data == {
        "lines canceled": [f"{rma}-3", f"{rma}-4"]
    }
