"""The visitor's language: Korean by default, English on request, remembered for signed-in users.

Three places keep the choice, each for a reason: the cookie (this device, also signed out), the
session (this sign-in, read by ``PersistentLanguageMiddleware`` before the user is loaded) and
``User.preferred_language`` (the account, so the choice follows the user to another device and
is used for the mail the portal sends them).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.translation import check_for_language
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from .middleware import SESSION_LANGUAGE_KEY
from .models import User


def is_supported(language: str | None) -> bool:
    return bool(language) and language in dict(settings.LANGUAGES) and check_for_language(language)


def language_save_for_user(*, request: HttpRequest, user: User, language: str) -> None:
    """Make ``language`` the user's language: on the account and in this session."""
    if not is_supported(language):
        return
    if user.preferred_language != language:
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])
    request.session[SESSION_LANGUAGE_KEY] = language


def language_apply_at_sign_in(*, request: HttpRequest, user: User) -> None:
    """At sign-in, a language chosen on this device wins (it is the latest choice); else the saved."""
    chosen = getattr(request, "portal_language_cookie", None)
    language = chosen if chosen and is_supported(chosen) else user.preferred_language
    language_save_for_user(request=request, user=user, language=language)


@require_POST
def set_language(request: HttpRequest) -> HttpResponseBase:
    """Django's language switch, plus saving the choice on the signed-in user's account."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and is_supported(language):
        language_save_for_user(request=request, user=request.user, language=language)
    return response
