"""The POST forms of an admin page, read from its HTML, and malformed submissions of them."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

MANAGEMENT = ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS")
SKIPPED_ACTIONS = ("/admin/logout/",)  # the header's log-out form ends the crawl's session
# malformed values, one family at a time (letters in numbers, huge, negative, bad dates,
# 10k characters, NUL bytes, unknown choices, markup and SQL)
FAMILIES = {
    "letters": "abc",
    "huge": "9" * 30,
    "negative": "-1",
    "bad-date": "2026-13-45",
    "long": "x" * 10_000,
    "nul": "a\x00b",
    "unknown-choice": "zzz-no-such-choice",
    "float": "1e400",
    "injection": "<script>alert(1)</script>'; DROP TABLE orders_order; --",
    # digits that are not ASCII, and more digits than int() reads (issue 18)
    "superscript": "²",
    "arabic-indic": "٣",
    "math-digit": "𝟗",
    "5000-digits": "9" * 5000,
}


@dataclass
class Form:
    action: str
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # name, type, value
    options: dict[str, list[str]] = field(default_factory=dict)  # select name → values
    buttons: list[tuple[str, str]] = field(default_factory=list)  # submit name, value
    files: list[str] = field(default_factory=list)

    @property
    def signature(self) -> tuple:
        return (
            _route_shape(self.action),
            tuple(sorted({_row_shape(n) for n, _, _ in self.fields})),
        )

    def baseline(self) -> dict[str, list[str]]:
        """What the browser sends unchanged (checked boxes, selected options)."""
        data: dict[str, list[str]] = {}
        for name, kind, value in self.fields:
            if kind in ("checkbox", "radio") and value is None:
                continue
            data.setdefault(name, []).append(value or "")
        return data

    def names(self, *, management: bool = False) -> list[str]:
        seen = dict.fromkeys(
            n for n, kind, _ in self.fields if n != "csrfmiddlewaretoken" and kind != "submit"
        )
        return [n for n in seen if management or not is_management(n)]


def is_management(name: str) -> bool:
    return name.endswith(MANAGEMENT)


def _row_shape(name: str) -> str:
    """``items-3-quantity`` → ``items-N-quantity``: one form of a formset stands for all."""
    return "-".join("N" if part.isdigit() else part for part in name.split("-"))


def _route_shape(url: str) -> str:
    path = urlsplit(url).path
    return "/".join("N" if part.isdigit() else part for part in path.split("/"))


class _FormParser(HTMLParser):
    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[Form] = []
        self.form: Form | None = None
        self.select: str | None = None
        self.selected: str | None = None
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            if (a.get("method") or "get").lower() == "post":
                self.form = Form(urljoin(self.page_url, a.get("action") or self.page_url))
            return
        if self.form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "image"):
                self.form.buttons.append((name, a.get("value") or ""))
            elif kind == "file":
                self.form.files.append(name)
            elif kind in ("checkbox", "radio"):
                checked = "checked" in a
                self.form.fields.append((name, kind, (a.get("value") or "on") if checked else None))
            else:
                self.form.fields.append((name, kind, a.get("value") or ""))
        elif tag == "button" and name and (a.get("type") or "submit").lower() == "submit":
            self.form.buttons.append((name, a.get("value") or ""))
        elif tag == "select" and name:
            self.select, self.selected = name, None
            self.form.options[name] = []
        elif tag == "option" and self.select:
            value = a.get("value", "")
            self.form.options[self.select].append(value)
            if "selected" in a:
                self.selected = value
        elif tag == "textarea" and name:
            self.textarea, self.text = name, ""

    def handle_data(self, data):
        if self.textarea:
            self.text += data

    def handle_endtag(self, tag):
        if self.form is None:
            return
        if tag == "select" and self.select:
            options = self.form.options[self.select]
            chosen = self.selected if self.selected is not None else (options or [""])[0]
            self.form.fields.append((self.select, "select", chosen))
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.form.fields.append((self.textarea, "textarea", self.text.strip("\n")))
            self.textarea = None
        elif tag == "form":
            if not self.form.action.endswith(SKIPPED_ACTIONS):
                self.forms.append(self.form)
            self.form = None


def page_forms(html: str, page_url: str) -> list[Form]:
    parser = _FormParser(page_url)
    parser.feed(html)
    return parser.forms


def submissions(form: Form, *, full: bool) -> list[tuple[str, dict]]:
    """(label, POST data) to send: empty, as rendered (each submit button), every field
    malformed per family, the management form broken, then one field at a time."""
    base = form.baseline()
    buttons = form.buttons or [("", "")]
    first = dict([buttons[0]]) if buttons[0][0] else {}
    out: list[tuple[str, dict]] = [("empty", {})]
    for name, value in dict.fromkeys(buttons):
        out.append((f"as rendered [{name}={value}]", {**base, **({name: value} if name else {})}))
    names = form.names()
    for family, bad in FAMILIES.items():
        out.append((f"all {family}", {**base, **first, **dict.fromkeys(names, bad)}))
    if not full:
        return out
    management = [n for n in form.names(management=True) if is_management(n)]
    if management:
        out.append(("management missing", {k: v for k, v in base.items() if k not in management}))
        out.append(("management letters", {**base, **first, **dict.fromkeys(management, "abc")}))
        out.append(("management huge", {**base, **first, **dict.fromkeys(management, "99999")}))
        out.append(("management negative", {**base, **first, **dict.fromkeys(management, "-1")}))
    families = list(FAMILIES.items())
    for index, name in enumerate(_spread(names, 24)):
        family, bad = families[index % len(families)]  # every family, field after field
        out.append((f"{name}={family}", {**base, **first, name: bad}))
        if name in form.options:
            out.append((f"{name}=unknown option", {**base, **first, name: "999999999"}))
    return out


def _spread(names: list[str], most: int) -> list[str]:
    """At most ``most`` names: every field of the main form, then formset rows sampled."""
    plain = [n for n in names if not any(part.isdigit() for part in n.split("-"))]
    rows = [n for n in names if n not in plain]
    seen, sampled = set(), []
    for name in rows:
        if _row_shape(name) not in seen:
            seen.add(_row_shape(name))
            sampled.append(name)
    return (plain + sampled)[:most]
