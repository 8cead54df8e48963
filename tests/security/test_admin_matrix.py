"""Who may open which admin page and run which admin action.

For anonymous, staff without permissions, a member of *Ops*, a member of *Revenue
accountant* and a superuser, over every page of every registered ModelAdmin (see
``matrix.py``) and every admin action (POSTed on the changelist with one row selected):

- anonymous → the login page;
- a page the user's permissions open → what a permitted user gets (200, or the redirect
  of a POST-only view), a page they don't → 403 (django-fsm's transition forms redirect
  with a message); staff without permissions get nothing else;
- an action runs only for a user it is allowed to; for the others it never runs;
- never a 500.
"""

from __future__ import annotations

import functools

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from config.admin import ADMINISTRATION
from tests.factories import UserFactory, third_party_admin_objects

from .conftest import ROLES
from .matrix import (
    CUSTOM,
    NEVER,
    NEVER_DELETE,
    Page,
    admin_pages,
    custom_pages,
    object_of,
    perm,
    see,
)

LOGIN = "/admin/login/"


def client_for(user) -> Client:
    client = Client(raise_request_exception=False)  # a crash is a 500 to report, not raised
    if user is not None:
        client.force_login(user)
    return client


def permissions_of(user) -> tuple[set[str], bool]:
    if user is None:
        return set(), False
    return user.get_all_permissions(), user.is_superuser


def problem(role: str, what: str, response, expected) -> str | None:
    status = response.status_code
    if role == "anonymous":
        if status == 302 and response["Location"].startswith(LOGIN):
            return None
        return f"{what}: anonymous got {status}, not the login page"
    if status == 500 or status not in expected:
        return f"{what}: {role} got {status}, expected {' or '.join(map(str, expected))}"
    return None


@pytest.mark.parametrize("role", ROLES)
def test_admin_pages_answer_each_role_as_its_permissions_say(role, role_users, demo):
    user = role_users[role]
    client = client_for(user)
    perms, superuser = permissions_of(user)
    problems, seen = [], 0
    for page in admin_pages():
        response = getattr(client, page.method.lower())(page.url, page.data)
        allowed = page.allowed(perms, superuser)
        if role == "staff":
            assert not allowed, f"{page.label}: staff without permissions cannot be allowed"
        expected = page.ok if allowed else page.denied
        found = problem(role, f"{page.method} {page.url} ({page.label})", response, expected)
        problems += [found] if found else []
        seen += 1
    assert seen > 150  # every registered model's five pages and the custom ones
    assert not problems, "\n".join(problems)


def staff_with(username: str, *perms: str):
    """A staff user with exactly ``perms`` (``"app.codename"``)."""
    user = UserFactory(username=username, is_staff=True)
    for name in perms:
        app, codename = name.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app, codename=codename)
        )
    return user


def test_custom_pages_need_every_clause_of_their_requirement(db, demo):
    """A custom page with a combined requirement (``(("orders.fulfil_order",), VIEW_ORDER)``)
    is refused to a user who has all of it but one clause: its own permission without the
    right to view or change the object's model, or the reverse. No group is such a user,
    so the roles above never show it."""
    problems, seen = [], 0
    for name, spec in CUSTOM.items():
        if spec.requires == NEVER or len(spec.requires) < 2:
            continue
        page = custom_pages(name)[0]
        for missing in range(len(spec.requires)):
            perms = [clause[0] for i, clause in enumerate(spec.requires) if i != missing]
            user = staff_with(f"sec-{name}-{missing}"[:150], *perms)
            response = getattr(client_for(user), page.method.lower())(page.url, page.data)
            who = f"staff with only {', '.join(perms)}"
            found = problem(who, f"{page.method} {page.url} ({name})", response, page.denied)
            problems += [found] if found else []
            seen += 1
    assert seen >= 30  # every page acting on an object with a permission of its own
    assert not problems, "\n".join(problems)


# --- actions ----------------------------------------------------------------------------
REVIEW = (("revenue.review_inboundline",),)
SETTLE = (("returns.settle_refund",),)
SCHEDULE = (("revenue.manage_schedule",),)
CHANGE_TASK = (("django_celery_beat.change_periodictask",),)
ACTIONS = {
    ("orders.order", "activate_selected"): (("orders.activate_order",),),
    ("orders.order", "fulfil_selected"): (("orders.fulfil_order",),),
    ("orders.order", "bill_selected"): (("orders.bill_order",),),
    ("revenue.inboundline", "review_and_collect"): REVIEW,
    ("revenue.inboundline", "review_yes"): REVIEW,
    ("revenue.inboundline", "review_clear"): REVIEW,
    ("revenue.inboundline", "retry_selected"): (("revenue.change_inboundline",),),
    ("revenue.inboundline", "delete_selected_lines"): (("revenue.delete_inboundline",),),
    ("revenue.inboundline", "delete_selected"): NEVER,  # I4: through inbound_line_delete
    ("revenue.soline", "hold_selected"): SCHEDULE,
    ("revenue.soline", "release_selected"): SCHEDULE,
    ("returns.refund", "mark_refunded"): SETTLE,
    ("returns.refund", "mark_failed"): SETTLE,
    # django-celery-beat declares no permission for these; core/admin_thirdparty.py
    # asks for the right to change periodic tasks (whoever only sees the list may not)
    ("django_celery_beat.periodictask", "enable_tasks"): CHANGE_TASK,
    ("django_celery_beat.periodictask", "disable_tasks"): CHANGE_TASK,
    ("django_celery_beat.periodictask", "toggle_tasks"): CHANGE_TASK,
    ("django_celery_beat.periodictask", "run_tasks"): CHANGE_TASK,
}
NOT_RUN = {"run_tasks"}  # would send Celery messages: recorded, not run


def action_requirement(label: str, name: str) -> tuple:
    if name == "delete_selected" and (label, name) not in ACTIONS:
        return NEVER if label in NEVER_DELETE else ((perm(label, "delete"),),)
    assert (label, name) in ACTIONS, (
        f"admin action {label} {name!r} is not in tests/security/test_admin_matrix.py "
        "ACTIONS: declare the permissions it needs"
    )
    return ACTIONS[(label, name)]


def spy(func, name: str, calls: list):
    @functools.wraps(func)
    def action(model_admin, request, queryset):
        calls.append(name)
        return None if name in NOT_RUN else func(model_admin, request, queryset)

    return action


def all_actions():
    """(model, its admin, action name, action function, the row to select) of every
    registered admin; the rows are chosen before any action changes them."""
    third_party_admin_objects()
    return [
        (model, model_admin, name, func, str(object_of(model, model_admin).pk))
        for model, model_admin in admin.site._registry.items()
        for func, name, _ in model_admin._get_base_actions()
    ]


def action_problems(role: str, user, monkeypatch, labels=None) -> tuple[list[str], int]:
    """Post every admin action (of the models in ``labels``, or all) as ``user``: the
    problems found against ACTIONS and how many actions were posted."""
    client = client_for(user)
    perms, superuser = permissions_of(user)
    calls: list[str] = []
    problems, seen = [], 0
    for model, model_admin, name, func, selected in all_actions():
        label = model._meta.label_lower
        if labels is not None and label not in labels:
            continue
        if name in dict(admin.site.actions):
            monkeypatch.setitem(admin.site._actions, name, spy(func, name, calls))
        else:
            monkeypatch.setattr(type(model_admin), name, spy(func, name, calls))
        requires = action_requirement(label, name)
        page = Page(f"{label} action {name}", "", (see(label), *requires))
        allowed = requires != NEVER and page.allowed(perms, superuser)
        may_see = superuser or any(p in perms for p in see(label))
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        calls.clear()
        response = client.post(
            url, {"action": name, ACTION_CHECKBOX_NAME: [selected], "index": "0"}
        )
        expected = (200, 302) if allowed or may_see else (403,)
        found = problem(role, f"POST {url} action {name}", response, expected)
        if found is None and role != "anonymous" and (calls == [name]) != allowed:
            found = f"{label} action {name}: {role} {'could not' if allowed else 'could'} run it"
        problems += [found] if found else []
        seen += 1
    return problems, seen


@pytest.mark.parametrize("role", ROLES)
def test_admin_actions_run_only_for_the_roles_allowed(role, role_users, demo, monkeypatch):
    problems, seen = action_problems(role, role_users[role], monkeypatch)
    assert seen >= len(ACTIONS)
    assert not problems, "\n".join(problems)


def test_admin_actions_are_refused_to_who_may_only_view_the_list(db, demo, monkeypatch):
    """A staff user who may only view a model's list (no group is such a user, so the roles
    above never show it) runs none of its actions that need more: the changelist answers
    (200 or 302) and the action does not run."""
    problems, seen = [], 0
    for label in sorted({label for label, _ in ACTIONS}):
        viewer = staff_with(f"sec-view-{label}", perm(label, "view"))
        found, posted = action_problems(f"viewer of {label}", viewer, monkeypatch, {label})
        problems, seen = problems + found, seen + posted
    assert seen >= len(ACTIONS)
    assert not problems, "\n".join(problems)


# --- the index and the app pages ------------------------------------------------------
APP_PAGES = {
    "staff": set(),
    "ops": {"orders", "returns", "core"},
    "accountant": {"orders", "returns", "revenue", "core"},
}


def index_groups(labels: set[str]) -> set[str]:
    """The index's headings for apps ``labels``: the internal ones (users, audit, Celery)
    under one "Administration" heading (config.admin.ADMINISTRATION), and "reports", the
    admin's Reports heading (core.admin_reports: M5 needs view_invoice), for any role
    that sees an app."""
    if not labels:
        return set()
    grouped = {label for label in labels if label not in ADMINISTRATION}
    return grouped | {"reports"} | ({"administration"} if labels & set(ADMINISTRATION) else set())


@pytest.mark.parametrize("role", ROLES)
def test_admin_index_and_app_pages_show_only_what_a_role_may_see(role, role_users, demo):
    """The index lists the apps a role has rights in (none for staff without permissions);
    an app's page answers 404 to a role without rights in it, as Django does."""
    client = client_for(role_users[role])
    labels = {model._meta.app_label for model in admin.site._registry}
    expected = labels if role == "superuser" else APP_PAGES.get(role, set())
    index = client.get(reverse("admin:index"))
    if role == "anonymous":
        assert index.status_code == 302 and index["Location"].startswith(LOGIN)
    else:
        assert index.status_code == 200
        shown = {app["app_label"] for app in index.context["app_list"]}
        assert shown == index_groups(expected)
    for label in sorted(labels):
        response = client.get(reverse("admin:app_list", args=[label]))
        wanted = (302,) if role == "anonymous" else (200,) if label in expected else (404,)
        assert response.status_code in wanted, f"{role} /admin/{label}/: {response.status_code}"
