"""The menu per role. Apps add their entries from their ``AppConfig.nav_entries()`` (the portal
knows no app), rather than editing base.html."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.apps import apps
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .roles import Role, has_role


@dataclass(frozen=True)
class NavEntry:
    label: str | Promise
    url_name: str
    roles: tuple[Role, ...]
    order: int = 1000  # place in the menu, lowest first


# The portal's own entries; each app adds its own from ``AppConfig.nav_entries()``.
PORTAL_NAV: list[NavEntry] = [
    NavEntry(
        _("Staff home"), "staff_home", tuple(r for r in Role if r != Role.PARTICIPANT), order=10
    ),
]


@cache
def nav_entries() -> list[NavEntry]:
    """Every menu entry: the portal's and those of the installed apps, in menu order."""
    entries = list(PORTAL_NAV)
    for config in apps.get_app_configs():
        provide = getattr(config, "nav_entries", None)
        if provide is not None:
            entries.extend(provide())
    return sorted(entries, key=lambda entry: entry.order)


def menu_for(request: HttpRequest) -> list[dict[str, str]]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    items = []
    for entry in nav_entries():
        if not has_role(user, *entry.roles):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": str(entry.label), "url": url, "active": str(request.path == url)})
    return items


@dataclass(frozen=True)
class PublicLink:
    """A page everyone may read (what taking part involves, privacy notice, …), for the home
    page and the footer. ``footer`` links appear on every page."""

    label: str | Promise
    url_name: str
    args: tuple[str, ...] = ()
    footer: bool = False


@cache
def public_links() -> list[PublicLink]:
    """The public pages the installed apps offer, from ``AppConfig.public_links()``."""
    links: list[PublicLink] = []
    for config in apps.get_app_configs():
        provide = getattr(config, "public_links", None)
        if provide is not None:
            links.extend(provide())
    return links


def public_menu(*, footer_only: bool = False) -> list[dict[str, str]]:
    items = []
    for link in public_links():
        if footer_only and not link.footer:
            continue
        try:
            url = reverse(link.url_name, args=link.args)
        except NoReverseMatch:
            continue
        items.append({"label": str(link.label), "url": url})
    return items
