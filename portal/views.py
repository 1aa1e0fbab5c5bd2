from __future__ import annotations

import hmac
import os

import prometheus_client
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from prometheus_client import multiprocess

from .health import OK, figure_values, readiness
from .metrics import PortalCollector
from .navigation import public_menu
from .roles import STAFF_ROLES, Role, has_role, is_staff_member, role_required
from .web import current_user
from .work import work_for


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and is_staff_member(request.user):
        return redirect("staff_home")
    return render(request, "portal/home.html", {"information_links": public_menu()})


@role_required(*STAFF_ROLES)
def staff_home(request: HttpRequest) -> HttpResponse:
    """What waits for the signed-in staff member, with counts and links (not the menu again)."""
    return render(request, "portal/staff_home.html", {"work": work_for(current_user(request))})


@never_cache
def healthz_live(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Nothing outside it is asked (a restart would not help)."""
    return JsonResponse({"status": "ok"})


@never_cache
def healthz_ready(request: HttpRequest) -> JsonResponse:
    """Readiness: 200 when every critical check (database, cache, broker, app checks) passes.

    Non-critical checks (a stale beat heartbeat) are reported in ``checks`` and turn the status
    into ``degraded`` while the node stays ready. ``/healthz`` answers the same, as it always did.
    The figures apps register (the dam outbox's oldest pending message, …) come along.
    """
    outcome = readiness()
    if not outcome.ready:
        status = "unavailable"
    elif all(value == OK for value in outcome.checks.values()):
        status = "ok"
    else:
        status = "degraded"
    return JsonResponse(
        {"status": status, "checks": outcome.checks, "figures": figure_values()},
        status=200 if outcome.ready else 503,
    )


_portal_registry = prometheus_client.CollectorRegistry(auto_describe=False)
_portal_registry.register(PortalCollector())


def _may_read_metrics(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header[len("Bearer ") :].encode(), token.encode())
    return has_role(request.user, Role.ADMIN)


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition: this process's (or, multi-process, this node's) request metrics,
    then the cluster-wide figures of ``portal.metrics``. Not public: 404 for anyone else."""
    if not _may_read_metrics(request):
        raise Http404
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = prometheus_client.REGISTRY
    body = prometheus_client.generate_latest(registry) + prometheus_client.generate_latest(
        _portal_registry
    )
    return HttpResponse(body, content_type=prometheus_client.CONTENT_TYPE_LATEST)
