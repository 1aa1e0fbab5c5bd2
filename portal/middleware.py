"""Request id, staff MFA and idle timeout, and no-store caching for pages with personal data."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from . import request_context
from .roles import is_staff_member

Handler = Callable[[HttpRequest], HttpResponse]
_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: behind our proxies, the X-Forwarded-For entry our last proxy added.

    Entries left of it are whatever the client sent and cannot be trusted. The rate limits use
    the same rule (``ALLAUTH_TRUSTED_PROXY_COUNT``).
    """
    hops = settings.ALLAUTH_TRUSTED_PROXY_COUNT
    header: str = request.META.get("HTTP_X_FORWARDED_FOR", "")
    forwarded = [p.strip() for p in header.split(",") if p.strip()]
    if hops > 0 and len(forwarded) >= hops:
        return forwarded[-hops]
    remote: str | None = request.META.get("REMOTE_ADDR")
    return remote or None


class RequestIdMiddleware:
    """Give each request an id (or keep a well-formed one from the proxy) for logs and audit."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_context.bind(
            request_context.RequestContext(request_id=request_id, client_ip=client_ip(request))
        )
        started = time.monotonic()
        try:
            response = self.get_response(request)
            _access_log(request, response, started)
        finally:
            request_context.reset(token)
        response["X-Request-ID"] = request_id
        return response


_access_logger = logging.getLogger("portal.request")


def _access_log(request: HttpRequest, response: HttpResponse, started: float) -> None:
    # The path only: query strings may carry what a visitor typed. Users by internal id only.
    user = getattr(request, "user", None)
    _access_logger.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round((time.monotonic() - started) * 1000, 1),
            # A machine client (portal.machine_clients) has no account: its client id instead.
            "user_id": getattr(user, "pk", None) if user is not None else None,
            "client_id": request_context.current().client_id or None,
        },
    )


# The language of the signed-in user, kept in the session from sign-in on (see portal.language).
SESSION_LANGUAGE_KEY = "portal_language"


class PersistentLanguageMiddleware:
    """Korean unless the visitor chose otherwise; a signed-in user's saved choice follows them.

    Runs before ``LocaleMiddleware``, which reads the language cookie. Without a cookie the portal
    speaks Korean whatever the browser asks for. A signed-in user's language (saved on their
    account, copied into the session at sign-in) wins over the cookie, and the cookie is brought
    in line so the choice stays after sign-out on this device too.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = settings.LANGUAGE_COOKIE_NAME
        cookie = request.COOKIES.get(name)
        # Remember whether the visitor chose a language on this device, for the sign-in receiver.
        request.portal_language_cookie = cookie  # type: ignore[attr-defined]
        session_language = request.session.get(SESSION_LANGUAGE_KEY)
        wanted = session_language or cookie or settings.LANGUAGE_CODE
        if wanted not in dict(settings.LANGUAGES):
            wanted = settings.LANGUAGE_CODE
        request.COOKIES[name] = wanted
        response = self.get_response(request)
        # The session may have changed during the request (sign-in, language switch).
        session_language = request.session.get(SESSION_LANGUAGE_KEY)
        if session_language and session_language != cookie and name not in response.cookies:
            response.set_cookie(
                name,
                session_language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,  # type: ignore[arg-type]
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            )
        return response


# Paths a staff member without MFA may still reach: to set MFA up, to sign out, and assets.
_MFA_EXEMPT_PREFIXES = ("/accounts/", "/static/", "/healthz", "/i18n/", "/favicon")


class StaffMfaRequiredMiddleware:
    """Staff without an authenticator are sent to set up TOTP before any other page or API."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and is_staff_member(user)
            and not request.path.startswith(_MFA_EXEMPT_PREFIXES)
            and not _has_mfa(user)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {
                        "detail": _("Set up two-factor authentication before using the staff API."),
                        "code": "mfa_required",
                    },
                    status=403,
                )
            messages.info(
                request,
                _("Staff accounts must use two-factor authentication. Set it up to continue."),
                fail_silently=True,
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)


def _has_mfa(user: object) -> bool:
    from allauth.mfa.models import Authenticator

    found: bool = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    return found


class StaffIdleTimeoutMiddleware:
    """End a staff session after ``STAFF_IDLE_TIMEOUT_SECONDS`` without a request."""

    session_key = "portal_last_seen"

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and is_staff_member(request.user):
            now = int(time.time())
            last_seen = request.session.get(self.session_key)
            if last_seen is not None and now - int(last_seen) > settings.STAFF_IDLE_TIMEOUT_SECONDS:
                logout(request)
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {"detail": _("Your session has expired."), "code": "idle"}, status=401
                    )
                messages.info(
                    request,
                    _("You were signed out after a period without activity."),
                    fail_silently=True,
                )
                return redirect_to_login(request.get_full_path())
            request.session[self.session_key] = now
        return self.get_response(request)


class NoStoreMiddleware:
    """Pages for signed-in users may show personal data: browsers and proxies must not keep them."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.user.is_authenticated or getattr(response, "personal_data", False):
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
        return response
