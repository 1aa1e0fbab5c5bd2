"""API plumbing shared by every app: errors as clear JSON, never a 500 for bad input."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        detail: Any = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return Response({"detail": detail, "code": "invalid"}, status=400)
    return drf_exception_handler(exc, context)


class UserThrottle(UserRateThrottle):
    """Requests per signed-in user across the whole API, counted in the cache (Redis in
    production, so every web process shares one count). The rate comes from ``API_USER_RATE``,
    read at each request, so that it can be changed without a code change."""

    scope = "user"

    def get_rate(self) -> str | None:
        return str(settings.API_USER_RATE) or None
