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
