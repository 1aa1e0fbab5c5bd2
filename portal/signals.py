"""Audit receivers for sign-ins, failed sign-ins, sign-outs and MFA changes."""

from __future__ import annotations

from typing import Any

from allauth.mfa import signals as mfa_signals
from django.contrib.auth import signals as auth_signals
from django.dispatch import receiver

from .audit import Action, audit_record
from .language import language_apply_at_sign_in


@receiver(auth_signals.user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(action=Action.LOGIN, actor=user, obj=user)
    if request is not None and hasattr(request, "session"):
        language_apply_at_sign_in(request=request, user=user)


@receiver(auth_signals.user_login_failed)
def _login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    # The attempted e-mail is personal data (and may be someone else's): it is not recorded.
    audit_record(action=Action.LOGIN_FAILED, outcome="failed")


@receiver(auth_signals.user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(action=Action.LOGOUT, actor=user, obj=user)


@receiver(mfa_signals.authenticator_added)
def _mfa_added(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    audit_record(
        action=Action.MFA_ACTIVATED, actor=user, obj=user, details={"type": authenticator.type}
    )


@receiver(mfa_signals.authenticator_removed)
def _mfa_removed(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    audit_record(
        action=Action.MFA_DEACTIVATED, actor=user, obj=user, details={"type": authenticator.type}
    )


@receiver(mfa_signals.authenticator_reset)
def _mfa_reset(sender: Any, request: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    audit_record(
        action=Action.MFA_RECOVERY_CODES_GENERATED,
        actor=user,
        obj=user,
        details={"type": authenticator.type},
    )
