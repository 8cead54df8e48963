"""The admin home page as a work queue: what needs someone today, from every app.

Each app registers a provider in its ``AppConfig.ready`` (core knows none of them): a
function of the request that returns ``QueueItem``s, each a count and the filtered list it
opens. A provider shows only what the user may open; an item with nothing waiting still
shows (a zero says "nothing to do", which is worth knowing), but quietly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest

logger = logging.getLogger(__name__)

TODO, ALERT, DONE, STATE = "todo", "alert", "done", "state"


@dataclass(frozen=True)
class QueueItem:
    area: str  # the heading it shows under: "Orders", "Returns", "Revenue"
    label: str  # "Draft orders"
    count: int | None  # None: a state, not a count (the open period)
    url: str  # the filtered list (or page) that shows them
    tone: str = TODO  # TODO: someone's next step; ALERT: something went wrong; STATE
    detail: str = ""  # a second line in words ("2 blockers: …")

    @property
    def quiet(self) -> bool:
        """Nothing waiting: shown dimmed."""
        return self.count == 0


Provider = Callable[[HttpRequest], list[QueueItem]]
_PROVIDERS: dict[str, tuple[int, Provider]] = {}


def work_queue_register(name: str, provider: Provider, *, rank: int = 100) -> None:
    """Add (or replace) an app's provider; they show by ``rank``, then by name."""
    _PROVIDERS[name] = (rank, provider)


def work_queue_items(request: HttpRequest) -> list[QueueItem]:
    """Every provider's items for this user. A provider that fails is logged and left out:
    the home page still opens."""
    items: list[QueueItem] = []
    for name, (_, provider) in sorted(_PROVIDERS.items(), key=lambda item: (item[1][0], item[0])):
        try:
            items.extend(provider(request))
        except Exception:  # the home page never fails because one count did
            logger.exception("work queue: provider %s failed", name)
    return items


def work_queue_areas(request: HttpRequest) -> list[tuple[str, list[QueueItem]]]:
    """The items grouped by area, areas in the order they first appear."""
    areas: dict[str, list[QueueItem]] = {}
    for item in work_queue_items(request):
        areas.setdefault(item.area, []).append(item)
    return list(areas.items())
