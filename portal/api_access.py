"""Who may call the API and how often, for every view of every app (DRF's defaults, see settings).

People sign in; machine clients (``portal.machine_clients``) reach only the views that name their
scope. Requests are counted per person and per machine client in the cache (Redis in production,
so every web process shares one count).

Kept apart from ``portal.api``: DRF imports these while it defines ``APIView``, so this module must
not import ``rest_framework.views``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

from .audit import Action, audit_record
from .machine_clients import MachineClient
from .models import User

if TYPE_CHECKING:
    from rest_framework.views import APIView


class UserThrottle(UserRateThrottle):
    """Requests per signed-in user across the whole API, counted in the cache (Redis in
    production, so every web process shares one count). The rate comes from ``API_USER_RATE``,
    read at each request, so that it can be changed without a code change."""

    scope = "user"

    def get_rate(self) -> str | None:
        return str(settings.API_USER_RATE) or None

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if isinstance(request.user, MachineClient):
            return None  # counted by ClientThrottle
        key: str | None = super().get_cache_key(request, view)
        return key


class SignedInUser(BasePermission):
    """The default: a signed-in person. Machine clients are refused (403, audited) unless the view
    names their scope (``HasRole.of(..., client_scope=...)``)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if isinstance(request.user, MachineClient):
            audit_record(
                action=Action.PERMISSION_DENIED,
                object_type="api",
                object_id=type(view).__name__,
                reason="machine client outside its scope",
                outcome="denied",
            )
            return False
        return isinstance(request.user, User) and request.user.is_authenticated


class ClientThrottle(SimpleRateThrottle):
    """Requests per machine client across the whole API, counted in the cache like
    ``UserThrottle``; the rate comes from ``API_CLIENT_RATE``."""

    scope = "client"

    def get_rate(self) -> str | None:
        return str(settings.API_CLIENT_RATE) or None

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if not isinstance(request.user, MachineClient):
            return None  # people are counted by UserThrottle
        return self.cache_format % {"scope": self.scope, "ident": request.user.client_id}
