"""Order page extensions: other apps add object tools, panels and admin URLs to the order
page without the orders app knowing them (the orders app imports none of them).

An app registers an object with ``urls(model_admin)``, ``object_tools(request, order)``
and ``panels(request, order)`` (and optionally ``stylesheets``, static paths) from its
admin module; ``OrderAdmin`` and its change form loop over the registered ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class ObjectTool:
    """A link among the order page's object tools."""

    label: str
    url: str
    id: str
    title: str = ""


@dataclass(frozen=True)
class Panel:
    """A template included below the order's products; it reads ``panel.<key>``."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)


class OrderPageExtension(Protocol):
    def urls(self, model_admin) -> list: ...

    def object_tools(self, request, order) -> list[ObjectTool]: ...

    def panels(self, request, order) -> list[Panel]: ...


ORDER_PAGE_EXTENSIONS: list[OrderPageExtension] = []


def order_page_extension_register(extension: OrderPageExtension) -> OrderPageExtension:
    """Add ``extension`` once (an admin module imported twice registers it once)."""
    if extension not in ORDER_PAGE_EXTENSIONS:
        ORDER_PAGE_EXTENSIONS.append(extension)
    return extension


def extension_urls(model_admin) -> list:
    return [url for extension in ORDER_PAGE_EXTENSIONS for url in extension.urls(model_admin)]


def extension_context(request, order) -> dict:
    """The change form's ``extension_tools``, ``extension_panels`` and stylesheets."""
    tools: list[ObjectTool] = []
    panels: list[Panel] = []
    stylesheets: list[str] = []
    for extension in ORDER_PAGE_EXTENSIONS:
        tools += extension.object_tools(request, order)
        panels += extension.panels(request, order)
        for sheet in getattr(extension, "stylesheets", ()):
            if sheet not in stylesheets:
                stylesheets.append(sheet)
    return {
        "extension_tools": tools,
        "extension_panels": panels,
        "extension_stylesheets": stylesheets,
    }
