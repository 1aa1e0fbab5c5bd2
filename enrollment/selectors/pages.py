"""Reads for the public information pages."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.dates import WEEKDAYS_ABBR

from ..models import InformationRevision, Site, label_order
from ..services.visits import OPEN_WEEKDAYS

__all__ = [
    "information_page_current",
    "information_page_history",
    "opening_days_label",
    "sites_for_visitors",
]

HISTORY_LIMIT = 20


def information_page_current(topic: str) -> InformationRevision | None:
    """The page as visitors read it now: the newest revision of ``topic``."""
    return InformationRevision.objects.filter(topic=topic).order_by("-id").first()


def information_page_history(topic: str) -> list[InformationRevision]:
    """The most recent revisions of ``topic``, newest first, with who wrote them."""
    revisions = InformationRevision.objects.filter(topic=topic).select_related("created_by")
    return list(revisions.order_by("-id")[:HISTORY_LIMIT])


def sites_for_visitors() -> QuerySet[Site]:
    """Sites that take visits (the public list of participating sites), by region and name in the
    active language."""
    sites = Site.objects.filter(is_active=True)
    return sites.order_by(label_order("region"), label_order(), "code")


def opening_days_label() -> str:
    """The days sites are open, e.g. "Mon-Sat" (in the active language)."""
    days = sorted(OPEN_WEEKDAYS)
    if days == list(range(days[0], days[-1] + 1)):
        return f"{WEEKDAYS_ABBR[days[0]]}\u2013{WEEKDAYS_ABBR[days[-1]]}"
    return ", ".join(str(WEEKDAYS_ABBR[day]) for day in days)
