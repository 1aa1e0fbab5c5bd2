"""Error pages in the visitor's language; JSON for the API. They never echo the request."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _


def _page(request: HttpRequest, status: int, template: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "code": str(status)}, status=status)
    body: str
    try:
        body = loader.render_to_string(template, {"status": status, "message": message}, request)
    except Exception:
        body = f"<!doctype html><title>{status}</title><h1>{status}</h1><p>{message}</p>"
    return HttpResponse(body, status=status)


def forbidden(request: HttpRequest, exception: Any = None) -> HttpResponse:
    _audit_denial(request, reason="forbidden")
    return _page(request, 403, "errors/403.html", _("You do not have access to this page."))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A refused form post (expired page, or a form from elsewhere), in the visitor's language."""
    _audit_denial(request, reason="csrf")
    return _page(
        request,
        403,
        "errors/403.html",
        _("This form has expired or did not come from this site. Go back, reload, and try again."),
    )


def _audit_denial(request: HttpRequest, *, reason: str) -> None:
    # The view's name, not the path: a path may carry codes a visitor typed.
    from .audit import Action, audit_record

    match = getattr(request, "resolver_match", None)
    user = getattr(request, "user", None)
    audit_record(
        action=Action.PERMISSION_DENIED,
        actor=user if user is not None and user.is_authenticated else None,
        object_type="view",
        object_id=(match.view_name if match else "")[:64],
        reason=reason,
        outcome="denied",
    )


def not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return _page(request, 404, "errors/404.html", _("The page you asked for does not exist."))


def server_error(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        500,
        "errors/500.html",
        _("Something went wrong on our side. Please try again later."),
    )
