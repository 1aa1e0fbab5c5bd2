from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from .health import health_checks
from .roles import STAFF_ROLES, is_staff_member, role_required


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and is_staff_member(request.user):
        return redirect("staff_home")
    return render(request, "portal/home.html")


@role_required(*STAFF_ROLES)
def staff_home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/staff_home.html")


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 only when the database and (outside the embedded default) the broker answer, and every
    check the apps registered (``portal.health``) passes."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "unavailable"
    if settings.PORTAL_HEALTHZ_CHECK_BROKER:
        checks["broker"] = _broker_status()
    details: dict[str, dict[str, Any]] = {}
    for name, check in health_checks().items():
        try:
            ok, details[name] = check()
        except Exception:
            ok = False
        checks[name] = "ok" if ok else "unhealthy"
    status = 200 if all(v == "ok" for v in checks.values()) else 503
    body: dict[str, Any] = {"status": "ok" if status == 200 else "unavailable", "checks": checks}
    if details:
        body["details"] = details
    return JsonResponse(body, status=status)


def _broker_status() -> str:
    from .celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception:
        return "unavailable"
