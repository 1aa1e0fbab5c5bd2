"""What waits for each staff member, for the staff home: apps add their items from
``AppConfig.staff_work(user)`` (the portal knows no app), each a count with a link to the page
where the work is done. Items an app has nothing to say about are left out."""

from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.utils.functional import Promise

from .models import User


@dataclass(frozen=True)
class WorkItem:
    label: str | Promise  # what the count counts, e.g. "Visits today"
    count: int
    url: str
    action: str | Promise  # the link's text, e.g. "Open the worklist"
    order: int = 1000
    # Counts are capped to keep the page fast at a million participants; ``capped`` says "or more".
    capped: bool = False


def work_for(user: User) -> list[WorkItem]:
    items: list[WorkItem] = []
    for config in apps.get_app_configs():
        provide = getattr(config, "staff_work", None)
        if provide is not None:
            items.extend(provide(user))
    return sorted(items, key=lambda item: item.order)


def capped_count(queryset: object, cap: int = 1000) -> tuple[int, bool]:
    """At most ``cap`` rows counted (a LIMIT, not a full count), and whether there are more."""
    from django.db.models import QuerySet

    assert isinstance(queryset, QuerySet)
    n = queryset[: cap + 1].count()
    return min(n, cap), n > cap
