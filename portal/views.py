from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from .health import OK, readiness
from .roles import STAFF_ROLES, is_staff_member, role_required


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and is_staff_member(request.user):
        return redirect("staff_home")
    return render(request, "portal/home.html")


@role_required(*STAFF_ROLES)
def staff_home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/staff_home.html")


@never_cache
def healthz_live(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Nothing outside it is asked (a restart would not help)."""
    return JsonResponse({"status": "ok"})


@never_cache
def healthz_ready(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when every critical check (database, cache, broker, app checks) passes.

    Non-critical checks (a stale beat heartbeat) are reported in ``checks`` and turn the status
    into ``degraded`` while the node stays ready. ``/healthz`` answers the same, as it always did.
    """
    outcome = readiness()
    if not outcome.ready:
        status = "unavailable"
    elif all(value == OK for value in outcome.checks.values()):
        status = "ok"
    else:
        status = "degraded"
    return JsonResponse(
        {"status": status, "checks": outcome.checks}, status=200 if outcome.ready else 503
    )
