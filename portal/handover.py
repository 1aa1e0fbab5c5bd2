"""Handing a signed-in staff device to a patient (the consent tablet).

While handed over, the session is locked to the pages the patient needs: any other page (menu,
sign-out, another participant, the admin) leads to the return page, where the staff member
re-authenticates with their password or an authenticator code before the session is theirs
again. The lock lives in the session, so it holds across tabs and reloads; too many wrong
answers end the session altogether.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django import forms
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .audit import Action, audit_record
from .models import User

SESSION_KEY = "portal_handover"
MAX_FAILURES = 5
# Reachable while handed over: assets, the language switch, and the way back.
_ALWAYS_ALLOWED = ("/static/", "/i18n/", "/jsi18n/", "/favicon")

Handler = Callable[[HttpRequest], HttpResponse]


def handover_start(request: HttpRequest, *, allowed: Iterable[str], return_to: str) -> None:
    """Lock the session to the ``allowed`` paths until staff re-authenticate on the return page,
    which then leads to ``return_to``."""
    request.session[SESSION_KEY] = {
        "allowed": list(allowed),
        "return_to": return_to,
        "failures": 0,
    }
    audit_record(action=Action.HANDOVER_STARTED, actor=_user(request), object_id=return_to)


def handover_active(request: HttpRequest) -> bool:
    return SESSION_KEY in getattr(request, "session", {})


def _user(request: HttpRequest) -> User | None:
    user = request.user
    return user if isinstance(user, User) else None


class HandoverLockMiddleware:
    """Every request of a handed-over session outside its allowed pages goes to the return page."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        lock = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        if lock is not None and not self._allowed(request.path, lock):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {
                        "detail": _("This device is handed over to a patient."),
                        "code": "handed_over",
                    },
                    status=423,
                )
            return redirect("handover_return")
        return self.get_response(request)

    @staticmethod
    def _allowed(path: str, lock: dict[str, Any]) -> bool:
        return (
            path in lock.get("allowed", ())
            or path == reverse("handover_return")
            or path.startswith(_ALWAYS_ALLOWED)
        )


class ReturnForm(forms.Form):
    secret = forms.CharField(
        label=gettext_lazy("Your password or a code from your authenticator app"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        error_messages={"required": gettext_lazy("Enter your password or a code.")},
    )


def _secret_is_right(user: User, secret: str) -> bool:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    code = secret.strip().replace(" ", "")
    if code.isdigit() and len(code) == 6:
        totp = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
        if totp is not None and TOTP(totp).validate_code(code):
            return True
    return user.check_password(secret)


def handover_return(request: HttpRequest) -> HttpResponse:
    """The staff member takes the device back: password or authenticator code."""
    lock = request.session.get(SESSION_KEY)
    user = _user(request)
    if lock is None or user is None:
        return redirect("home")
    form = ReturnForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        if _secret_is_right(user, form.cleaned_data["secret"]):
            del request.session[SESSION_KEY]
            audit_record(action=Action.HANDOVER_RETURNED, actor=user)
            return redirect(lock["return_to"])
        lock["failures"] = int(lock.get("failures", 0)) + 1
        request.session[SESSION_KEY] = lock
        audit_record(action=Action.HANDOVER_RETURNED, actor=user, outcome="failed")
        if lock["failures"] >= MAX_FAILURES:
            logout(request)
            return redirect("account_login")
        form.add_error("secret", _("That is not right. Only the staff member can take it back."))
    return render(
        request,
        "portal/handover_return.html",
        {"form": form, "back_to_patient": (lock.get("allowed") or [""])[0]},
        status=400 if form.errors else 200,
    )
