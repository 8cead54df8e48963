"""A transition name the model does not have, posted on any FSM admin's change form, is an
error message and a redirect back to the document (django-fsm alone raises: a 500)."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import RequestFactory
from django_fsm.admin import FSMAdminMixin

from .matrix import NO_SUCH_TRANSITION, object_of

FSM_ADMINS = [
    model_admin
    for model_admin in admin.site._registry.values()
    if isinstance(model_admin, FSMAdminMixin)
]


def test_every_fsm_admin_is_checked():
    labels = {model_admin.opts.label_lower for model_admin in FSM_ADMINS}
    assert {"orders.order", "orders.invoice", "revenue.period", "returns.refund"} <= labels


@pytest.mark.parametrize("model_admin", FSM_ADMINS, ids=lambda ma: ma.opts.label_lower)
def test_unknown_transition_on_the_change_form_is_a_message(model_admin, role_users, demo):
    document = object_of(model_admin.model, model_admin)
    request = RequestFactory().post("/", {model_admin.fsm_post_param: NO_SUCH_TRANSITION})
    request.user = role_users["superuser"]
    request._messages = CookieStorage(request)
    response = model_admin.response_change(request, document)
    assert response.status_code == 302
    assert str(document.pk) in response["Location"]
    assert any(NO_SUCH_TRANSITION in str(m) for m in get_messages(request))
