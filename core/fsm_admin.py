"""Status buttons of every document admin, each one through the document's service.

``TransitionAdminMixin`` (before ``admin.ModelAdmin``) is the one way Contra's admins run
transitions. An admin declares what it allows::

    @admin.register(Refund)
    class RefundAdmin(TransitionAdminMixin, admin.ModelAdmin):
        transitions = {"succeed": refund_transition_of("succeed"), ...}

Each entry maps a transition's name to a service called as
``service(obj=…, name=…, user=…, comment=…)``. The mixin shows the buttons of those
transitions only, to users who may change the document (and hold ``transition_permission``
when the admin names one), runs a transition only through its service, and answers a
refusal with messages in words; a name that is not declared (in the transition form's URL
or in a posted change form) is a message, never a 500. django-fsm's ``FSMAdminMixin``
draws the buttons and the transition form (a reason, when the transition asks for one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django import forms
from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django_fsm.admin import FSMAdminMixin, FSMTransitionContext

from .exceptions import BusinessRuleRefused, BusinessRulesRefused
from .lifecycle import DryRun, transition_dry_run
from .models import AuditAction, AuditEvent


def refusals_of(error: BusinessRuleRefused) -> list[BusinessRuleRefused]:
    return error.refusals if isinstance(error, BusinessRulesRefused) else [error]


def message_refusal(model_admin, request, error: BusinessRuleRefused, prefix: str = "") -> None:
    """Each refusal of ``error`` as an error message."""
    for problem in refusals_of(error):
        model_admin.message_user(request, f"{prefix}{problem}", level=messages.ERROR)


def services_of(services: Mapping[str, Callable], *, keyword: str) -> dict[str, Callable]:
    """Transition services that take the document as ``keyword`` (``invoice=…``), each as
    a button's service."""

    def button(service: Callable) -> Callable:
        def run(*, obj, name: str, user, comment: str = ""):
            return service(**{keyword: obj}, user=user, comment=comment)

        return run

    return {name: button(service) for name, service in services.items()}


def transition_done_message(obj, name: str) -> str:
    """ "RF-000001: marked refunded." — the transition in words, as the history says it."""
    try:
        label = AuditAction(name).label
    except ValueError:
        label = name
    return f"{obj}: {label[:1].lower()}{label[1:]}."


def status_path_steps(obj, path: tuple[str, ...], field: str = "status") -> list[dict]:
    """The steps of ``path`` with their state for ``obj``: done, current, todo; a status
    off the path (Canceled, Void, Failed) ends it as "off", the steps before it greyed."""
    labels = dict(obj._meta.get_field(field).flatchoices)
    current = getattr(obj, field)
    if current not in path:
        steps = [{"label": labels.get(s, s), "state": "todo"} for s in path]
        return [*steps, {"label": labels.get(current, current), "state": "off"}]
    reached = path.index(current)
    return [
        {
            "label": labels.get(s, s),
            "state": "done" if i < reached else "current" if i == reached else "todo",
        }
        for i, s in enumerate(path)
    ]


class TransitionConfirmForm(forms.Form):
    """The confirmation of a transition that moves money or stages revenue lines."""

    comment = forms.CharField(
        label="Note (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Kept in the document's history.",
    )


def event_sentence(event: AuditEvent) -> str | None:
    """What one audit event of a dry run says to a user, or None when nothing worth it."""
    data = event.data or {}
    if event.action == AuditAction.STAGE:
        count = data.get("lines", 0)
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(data.get("types", {}).items()))
        plural = "s" if count != 1 else ""
        return f"stages {count} revenue line{plural}{f' ({kinds})' if kinds else ''}"
    if event.action == AuditAction.WITHDRAW:
        count = len(data.get("lines", []))
        plural = "s" if count != 1 else ""
        return f"withdraws {count} staged revenue line{plural} (revenue never collected them)"
    if event.action == AuditAction.CREATED:
        return None  # said by what follows (issued, posted …)
    label = event.get_action_display()
    return f"{event.object_repr}: {label[:1].lower()}{label[1:]}"


class TransitionAdminMixin(FSMAdminMixin):
    fsm_fields = ["status"]
    change_form_template = "contra/fsm_change_form.html"
    # name → service(obj=…, name=…, user=…, comment=…), declared per admin
    transitions: Mapping[str, Callable] = {}
    # a permission needed on top of the change permission to see and use the buttons
    transition_permission: str | None = None
    # the statuses of the document's life, in order (the page's status path)
    status_path: tuple[str, ...] = ()
    # transitions that move money or stage revenue lines: confirmed on a page that says
    # what they will create (a dry run of the service, rolled back)
    confirm_transitions: frozenset[str] = frozenset()
    fsm_transition_form_template = "contra/fsm_transition_confirm.html"

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and self.status_path:
            context["status_path"] = status_path_steps(obj, self.status_path)
        return super().render_change_form(request, context, add, change, form_url, obj)

    @staticmethod
    def get_fsm_block_label(fsm_field_name):
        return "Change status"

    def may_transition(self, request, obj) -> bool:
        if obj is None or not self.has_change_permission(request, obj):
            return False
        permission = self.transition_permission
        return permission is None or request.user.has_perm(permission)

    def _get_fsm_extra_context(self, *, request, obj):
        """The declared transitions' buttons, for those who may use them (a list: the
        page reads it more than once)."""
        if not self.may_transition(request, obj):
            return []
        blocks = []
        for block in super()._get_fsm_extra_context(request=request, obj=obj):
            block.available_transitions = [
                t for t in block.available_transitions if t.name in self.transitions
            ]
            if block.available_transitions:
                blocks.append(block)
        return blocks

    def _back_to(self, obj) -> HttpResponseRedirect:
        opts = self.opts
        return HttpResponseRedirect(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        )

    def _unknown_transition(self, request, obj, name: str) -> HttpResponseRedirect:
        self.message_user(request, f"{obj}: there is no action {name!r}.", messages.ERROR)
        return self._back_to(obj)

    def _not_yours(self, request, obj, transition) -> HttpResponseRedirect:
        """A transition the user's permissions do not give: back to the document, saying
        so (the page shows only the buttons they may use)."""
        label = self.get_fsm_label(transition)
        self.message_user(
            request,
            f"{obj}: you do not have the permission to {label[:1].lower()}{label[1:]} "
            f"{self.opts.verbose_name_plural} (an administrator can give it).",
            messages.ERROR,
        )
        return self._back_to(obj)

    def response_change(self, request, obj):
        name = request.POST.get(self.fsm_post_param)
        if name and name not in self.transitions:
            return self._unknown_transition(request, obj, name)
        return super().response_change(request, obj)

    def get_fsm_transition_form(self, transition):
        form = super().get_fsm_transition_form(transition)
        if form is None and transition.name in self.confirm_transitions:
            return TransitionConfirmForm
        return form

    def fsm_transition_view(self, request, object_id, transition_name, **kwargs):
        """The page a transition asks first: what it will do (a dry run) and, when the
        transition takes one, a reason; for those who see its button."""
        obj = self.get_object(request, object_id)
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.may_transition(request, obj):
            raise PermissionDenied
        if transition_name not in self.transitions:
            return self._unknown_transition(request, obj, transition_name)
        transition = self._get_fsm_transition_by_name(obj=obj, transition_name=transition_name)
        if not transition.has_perm(obj, request.user):
            return self._not_yours(request, obj, transition)
        form_class = self.get_fsm_transition_form(transition) or TransitionConfirmForm
        form = form_class(data=request.POST if request.method == "POST" else None)
        change_url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk]
        )
        if request.method == "POST" and form.is_valid():
            self._apply_fsm_transition(
                obj=obj, transition_name=transition_name, request=request, kwargs=form.cleaned_data
            )
            return HttpResponseRedirect(change_url)  # done, or refused: the message says
        preview = None
        if transition_name in self.confirm_transitions:
            preview = self.transition_preview(request, object_id, transition_name)
        label = self.get_fsm_label(transition)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": f"{label}: {obj}",
            "transition": FSMTransitionContext(
                name=transition_name, label=label, help_text=self.get_help_text(transition)
            ),
            "transition_form": form,
            "preview": preview,
            "change_url": change_url,
        }
        return TemplateResponse(request, self.fsm_transition_form_template, context)

    def transition_preview(self, request, object_id, name: str) -> DryRun:
        """Run the transition's service as the button would, in a transaction rolled back
        at once, and describe what it did (``describe_transition``)."""
        service = self.transitions[name]
        obj = self.get_object(request, object_id)  # its own copy: the run changes it

        def run():
            return service(obj=obj, name=name, user=request.user, comment="")

        return transition_dry_run(run, lambda dry: self.describe_transition(dry, obj, name))

    def describe_transition(self, dry: DryRun, obj, name: str) -> list[str]:
        """Sentences of what a dry run did, from the audit events it wrote (not the
        transition of the document itself: the page's title says it). Admins add the
        money (``describe_money``)."""
        own = ContentType.objects.get_for_model(obj, for_concrete_model=False)
        lines = []
        for event in dry.events:
            mine = event.object_id == str(obj.pk) and event.content_type_id in {
                own.pk,
                ContentType.objects.get_for_model(obj).pk,
            }
            if mine and event.action == name:
                continue
            if sentence := event_sentence(event):
                lines.append(sentence)
        return [*self.describe_money(dry, obj, name), *lines]

    # --- list actions: the same transition on many documents, confirmed first -----------
    BULK_PREVIEW = 50  # documents previewed one by one; the rest are counted

    def bulk_transition(self, request, queryset, name: str, *, confirm: bool = True):
        """A list action running transition ``name`` on the selected documents: first (with
        ``confirm``) a page that says what it will do to each (dry runs), then each through
        its service; a refusal names its document and the others go on."""
        documents = list(queryset.order_by("pk"))
        if not documents:
            self.message_user(
                request, "None of the selected documents exists any more.", messages.WARNING
            )
            return None
        if confirm and request.POST.get("confirm") != "yes":
            return self._bulk_confirm_page(request, documents, name)
        done = 0
        for obj in documents:
            try:
                self.transitions[name](obj=obj, name=name, user=request.user, comment="")
            except BusinessRuleRefused as refusal:
                message_refusal(self, request, refusal, prefix=f"{obj}: ")
                continue
            done += 1
        if done:
            label = transition_done_message("", name).removeprefix(": ").rstrip(".")
            self.message_user(
                request,
                f"{label[:1].upper()}{label[1:]}: {done} of {len(documents)}.",
                messages.SUCCESS,
            )
        return None

    def _bulk_confirm_page(self, request, documents: list, name: str):
        rows = []
        for obj in documents[: self.BULK_PREVIEW]:
            dry = self.transition_preview(request, obj.pk, name)
            rows.append({"obj": obj, "dry": dry})
        transition = self._get_fsm_transition_by_name(obj=documents[0], transition_name=name)
        label = self.get_fsm_label(transition)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{label}: {len(documents)} {self.opts.verbose_name_plural}",
            "label": label,
            "rows": rows,
            "more": len(documents) - len(rows),
            "refused": sum(1 for row in rows if row["dry"].refusal),
            "action": request.POST.get("action", ""),
            "selected": [obj.pk for obj in documents],
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, "contra/bulk_transition_confirm.html", context)

    def describe_money(self, dry: DryRun, obj, name: str) -> list[str]:
        """The amounts a dry run moves, in sentences (none here; admins of documents with
        money say theirs)."""
        return []

    def _apply_fsm_transition(self, *, obj, transition_name, request, kwargs=None):
        service = self.transitions.get(transition_name)
        if service is None or not self.may_transition(request, obj):
            self._unknown_transition(request, obj, transition_name)
            return False
        fields = dict(kwargs or {})  # the transition form's fields: a reason, and what an
        comment = fields.pop("comment", "")  # admin's own form adds (a gateway reference)
        try:
            result = service(
                obj=obj, name=transition_name, user=request.user, comment=comment, **fields
            )
        except BusinessRuleRefused as refusal:
            self.transition_refused(request, obj, transition_name, refusal)
            return False
        self.transition_done(request, obj, transition_name, result)
        return True

    # hooks: what the page says after a transition (an admin may say more)
    def transition_refused(self, request, obj, name: str, refusal: BusinessRuleRefused) -> None:
        message_refusal(self, request, refusal)

    def transition_done(self, request, obj, name: str, result) -> None:
        self.message_user(request, transition_done_message(obj, name), level=messages.SUCCESS)
