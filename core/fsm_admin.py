"""django-fsm's admin transitions made safe for every FSM admin of Contra.

django-fsm's ``FSMAdminMixin`` raises (a 500) on a transition name the model does not
have, whether it comes in the transition form's URL or in the change form's
``_fsm_transition_to``, and its transition form checks the transition's permission only.
Put ``FSMTransitionGuardMixin`` before ``FSMAdminMixin``: an unknown name becomes a
message, and the transition form needs the permission to change the document, like the
change form that posts the same transition.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.urls import reverse


def fsm_transition_names(obj, fields) -> set[str]:
    """Every transition of ``obj``'s FSM fields, whatever its state."""
    names: set[str] = set()
    for field in fields:
        transitions = getattr(obj, f"get_all_{field}_transitions", None)
        if callable(transitions):
            names.update(transition.name for transition in transitions())
    return names


class FSMTransitionGuardMixin:
    def _unknown_transition_redirect(self, request, obj, name: str) -> HttpResponseRedirect:
        self.message_user(request, f"{obj}: there is no action {name!r}.", messages.ERROR)
        opts = self.opts
        return HttpResponseRedirect(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        )

    def fsm_transition_view(self, request, object_id, transition_name, **kwargs):
        obj = self.get_object(request, object_id)
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        if transition_name not in fsm_transition_names(obj, self.fsm_fields):
            return self._unknown_transition_redirect(request, obj, transition_name)
        return super().fsm_transition_view(request, object_id, transition_name, **kwargs)

    def response_change(self, request, obj):
        name = request.POST.get(self.fsm_post_param)
        if name and name not in fsm_transition_names(obj, self.fsm_fields):
            return self._unknown_transition_redirect(request, obj, name)
        return super().response_change(request, obj)
