"""The admin's model permissions, for the API: a user who cannot do it in the admin cannot
do it here. Reading needs view (or change); writing needs what each view names."""

from __future__ import annotations

from rest_framework.permissions import BasePermission


class ModelPermissions(BasePermission):
    """``view.model`` is read with ``view_<model>`` or ``change_<model>``; a write needs
    every permission in ``view.write_permissions`` (``"app.codename"``)."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if request.method in ("GET", "HEAD", "OPTIONS"):
            opts = view.model._meta
            return any(
                user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}")
                for action in ("view", "change")
            )
        needed = getattr(view, "write_permissions", {}).get(getattr(view, "action", ""), None)
        if needed is None:
            needed = getattr(view, "write_permission_default", ())
        return all(user.has_perm(name) for name in needed)
