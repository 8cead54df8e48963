"""Plain words (issue 17): what the admin's pages show says a rule in words ("only
Activated orders can be fulfilled"); the spec's rule IDs (O6, T9, V6 …) stay in code,
tests, logs and the spec. Validation codes an accountant looks up (RPRO-00353, INB-004)
stay next to their sentence.

The superuser walks, on the demo data, every page of the admin (each ModelAdmin's list,
add, change and history pages and its own views, as the permission matrix lists them),
every order, reduction, RMA and staged inbound line page, the inbound list's review
filter, and the pages that refuse with a message (fulfil a Draft order, return items of
an RMA that is not Approved); the text a user reads on them (tags, comments, scripts,
styles and attribute values stripped) never shows a rule ID as a label ("O6: …"), in
parentheses ("(R9)", "(P2, P5)") or as a list ("T2, T10, T13", "P1–P5")."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from orders.models import Order, OrderStatus
from returns.models import ReturnOrder
from revenue.models import InboundLine, SoLine

from .matrix import admin_pages

RULE = r"(?<![\w-])(?:RV|[OBRCIVSPATMK])\d{1,2}\b"
RULE_ID = re.compile(
    rf"{RULE}\s*:"  # "O6: only Activated orders can be fulfilled"
    rf"|\((?:[^()]*?[\s,/])?{RULE}(?:[\s,/–][^()]*)?\)"  # "(R9)", "(P2, P5)", "(read-only, T6)"
    rf"|{RULE}\s*(?:,|–|/|\+)\s*{RULE}"  # "T2, T10, T13", "P1–P5", "V6 / V7", "S2 + M4"
)
HIDDEN = {"script", "style", "template", "head"}


class VisibleText(HTMLParser):
    """The text a browser shows: no tags, comments, scripts, styles or attribute values."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hidden = 0
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in HIDDEN:
            self.hidden += 1

    def handle_endtag(self, tag):
        if tag in HIDDEN and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def rule_ids_shown(html: str) -> list[str]:
    text = visible_text(html)
    return [text[max(0, m.start() - 50) : m.end() + 30] for m in RULE_ID.finditer(text)]


@pytest.mark.parametrize(
    "text",
    [
        "O6: only Activated orders can be fulfilled",
        "None: nothing billed was reduced (R9).",
        "Returned: out of the allocation pool (P2, P5)",
        "Returns T2, T10, T13",
        "Sell price P1–P5",
        "stopped by V6 / V7",
        "RMA lines processed (read-only, T6)",
        "Amounts (T9)",
        "S2 + M4: closing",
        "Refund (RV1)",
    ],
)
def test_the_pattern_finds_rule_ids_in_the_shapes_pages_used(text):
    assert rule_ids_shown(f"<p>{text}</p>")


@pytest.mark.parametrize(
    "html",
    [
        "<p>RPRO-00353: RORD dates fall outside the SO line's dates</p>",
        "<p>DEMO-R1: 2 units</p><p>(DEMO-R2)</p>",
        "<p>SO103-1 · SKU-P1, A4 paper</p>",
        '<p title="T9: refund">Refund</p><!-- O2: lock -->',
        "<script>const rule = 'O2: lock';</script><style>/* A4 (T9) */</style>",
        "<p>2026-01-31 10:00 · ORD-000012 (3 lines)</p>",
    ],
)
def test_the_pattern_leaves_codes_numbers_and_hidden_text_alone(html):
    assert rule_ids_shown(html) == []


def _get(client, url: str, problems: list[str], *, follow: bool = False):
    response = client.get(url, follow=follow)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    body = response.content.decode()
    if "text/html" in response.get("Content-Type", ""):
        problems += [f"{url}: …{hit}…" for hit in rule_ids_shown(body)]
    return response


def test_no_admin_page_shows_a_rule_id(admin_client, demo):
    problems: list[str] = []
    walked = 0
    for page in admin_pages():
        if page.method != "GET" or page.requires == (("<nobody>",),):
            continue
        response = admin_client.get(page.url)
        if response.status_code != 200:
            continue  # a redirect of a view that refuses on this object: walked below
        walked += 1
        if "text/html" in response.get("Content-Type", ""):
            hits = rule_ids_shown(response.content.decode())
            problems += [f"{page.label}: …{hit}…" for hit in hits]

    # every order, reduction, RMA and staged line of the demo, whatever its status
    for order in Order.objects.order_by("pk"):
        name = "reductionorder" if order.kind == "REDUCTION" else "order"
        _get(admin_client, reverse(f"admin:orders_{name}_change", args=[order.pk]), problems)
        walked += 1
    for rma in ReturnOrder.objects.order_by("pk"):
        _get(admin_client, reverse("admin:returns_returnorder_change", args=[rma.pk]), problems)
        walked += 1
    for line in InboundLine.objects.order_by("pk")[:60]:
        _get(admin_client, reverse("admin:revenue_inboundline_change", args=[line.pk]), problems)
        walked += 1
    for so_line in SoLine.objects.order_by("pk")[:20]:
        _get(admin_client, reverse("admin:revenue_soline_change", args=[so_line.pk]), problems)
        walked += 1
    inbound = reverse("admin:revenue_inboundline_changelist")
    for query in ("?rord_review=awaiting", "?status__exact=ERROR", "?error_code=RPRO-00353"):
        _get(admin_client, inbound + query, problems)
        walked += 1

    # pages that refuse say why in a message on the page they go back to
    draft = Order.objects.filter(kind="STANDARD", status=OrderStatus.DRAFT).first()
    assert draft is not None
    for name in ("fulfil_items", "reduce"):
        url = reverse(f"admin:orders_order_{name}", args=[draft.pk])
        response = _get(admin_client, url, problems, follow=True)
        assert [m.message for m in response.context["messages"]], url
        walked += 1
    not_approved = ReturnOrder.objects.exclude(status="APPROVED").first()
    assert not_approved is not None
    url = reverse("admin:returns_returnorder_return_items", args=[not_approved.pk])
    response = _get(admin_client, url, problems, follow=True)
    assert [m.message for m in response.context["messages"]], url

    assert walked > 100
    assert not problems, "rule IDs shown to users:\n" + "\n".join(problems)


def test_the_audit_trail_reads_in_words_not_dicts(admin_client, db):
    """History shows readable changes: the audit trail's pages give an event's statuses as
    their labels and its facts as "name: value", never a Python dict or JSON."""
    from core.models import AuditAction, AuditEvent
    from core.services import audit_record
    from tests.factories import OrderFactory

    order = OrderFactory()
    event = audit_record(
        document=order,
        actor=None,
        action=AuditAction.ACTIVATE,
        from_state="DRAFT",
        to_state="ACTIVATED",
        data={"lines": 2, "changed": {"quantity": ["1", "3"]}},
    )
    listing = admin_client.get(reverse("admin:core_auditevent_changelist"))
    text = visible_text(listing.content.decode())
    assert "Draft → Activated" in text and "DRAFT" not in text
    page = admin_client.get(reverse("admin:core_auditevent_change", args=[event.pk]))
    assert page.status_code == 200
    text = visible_text(page.content.decode())
    assert "lines: 2; changed: quantity 1, 3" in text
    assert "{" not in text and "Draft → Activated" in text
    assert AuditEvent.objects.get(pk=event.pk).data["lines"] == 2  # stored as it was
