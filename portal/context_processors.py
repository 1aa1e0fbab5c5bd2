"""Navigation entries for the signed-in user's roles."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .navigation import menu_for


def navigation(request: HttpRequest) -> dict[str, Any]:
    return {"nav_items": menu_for(request), "portal_roles": _roles(request)}


def _roles(request: HttpRequest) -> frozenset[str]:
    from .roles import roles_of

    return frozenset(r.value for r in roles_of(getattr(request, "user", None)))


def programme(request: HttpRequest) -> dict[str, Any]:
    """The programme's name and contact details in the active language, for every page."""
    from .navigation import public_menu
    from .programme import programme_contact, programme_name

    return {
        "programme_name": programme_name(),
        "programme_contact": programme_contact(),
        "footer_links": public_menu(footer_only=True),
    }
