"""allauth adapter: where staff land, the first MFA set-up, the language of new accounts, and the
password proof a sign-in leaves for the signing form."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from allauth.account import app_settings as allauth_settings
from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import get_language

from .password_proof import password_proof_remember
from .roles import is_staff_member


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return True

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        if is_staff_member(request.user):
            return "/staff/"
        url: str = super().get_login_redirect_url(request)
        return url

    def authenticate(self, request: HttpRequest, **credentials: Any) -> Any:
        # Signing in and re-authenticating both come here with the typed password: a right one
        # leaves a proof in the session, which the signing form checks without hashing again
        # (``portal.password_proof``).
        user = super().authenticate(request, **credentials)
        if user is not None and credentials.get("password"):
            password_proof_remember(request, user, credentials["password"])
        return user

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        # Setting up the *first* second factor right after typing the password (as staff must
        # at their first sign-in), and seeing its recovery codes, does not ask for the password
        # again; everything else does.
        required: bool = super().is_reauthentication_required(app=app, **kwargs)
        if required and app == "allauth.mfa" and _just_signed_in_without_mfa():
            return False
        return required

    def save_user(self, request: HttpRequest, user: Any, form: Any, commit: bool = True) -> Any:
        # A new account speaks the language the visitor registered in.
        language = get_language()
        if language in dict(settings.LANGUAGES):
            user.preferred_language = language
        return super().save_user(request, user, form, commit=commit)


def _just_signed_in_without_mfa() -> bool:
    """Signed in with a password a moment ago, and had no second factor at that time."""
    from allauth.account.internal.flows.login import get_authentication_records
    from allauth.core import context
    from allauth.mfa.models import Authenticator

    request = context.request
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return False
    now = time.time()
    signed_in_at = [
        float(r.get("at", 0))
        for r in get_authentication_records(request, user)
        if r.get("method") == "password"
        and now - float(r.get("at", 0)) < allauth_settings.REAUTHENTICATION_TIMEOUT
    ]
    if not signed_in_at:
        return False
    since = datetime.fromtimestamp(max(signed_in_at), tz=UTC)
    # Factors added in this very session (the forced first set-up) do not count.
    return not Authenticator.objects.filter(user=user, created_at__lt=since).exists()
