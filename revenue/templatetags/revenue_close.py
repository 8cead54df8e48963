"""M4 on the admin's home page: the monthly auto-close did not close the open period."""

from django import template
from django.urls import reverse

from ..reports.checklist import close_blocked_open

register = template.Library()


@register.inclusion_tag("admin/revenue/period/close_blocked_notice.html", takes_context=True)
def close_blocked_notice(context) -> dict:
    """The last blocked auto-close of the open period (2 indexed queries), for users who
    may see periods; nothing once the period closed."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("revenue.view_period"):
        return {"event": None}
    event = close_blocked_open()
    if event is None:
        return {"event": None}
    return {
        "event": event,
        "period_url": reverse("admin:revenue_period_change", args=[event.object_id]),
        "close_url": reverse("admin:revenue_period_close"),
        "can_close": user.has_perm("revenue.close_period"),
    }
