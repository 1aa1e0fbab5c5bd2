"""Confirming a signature with the account's password without paying the password hash each time.

The signing form asks for the account's password: entering it confirms the signature. Checking a
password with the hasher costs tens of milliseconds of CPU on purpose (Argon2id, ``portal.hashers``),
and in a signing burst that cost alone decided the latency (bench/results.md, "Consent").

So once a person has proved their password the slow way in a session (signing in, re-authenticating,
or a first check on the signing form), the session keeps a *proof*: an HMAC-SHA256, under a key
derived from ``SECRET_KEY`` for this purpose only, of the user's id, their stored password hash
and the password. A later entry in the same session is compared with the proof in microseconds.
Anything else (a wrong password, a password changed since, a session without a proof) takes the
slow way, through the caller's rate limit, so guessing through the form is no faster than before.

What this trades, knowingly: the proof lives in the server-side session store, never in the
cookie, and dies with the session (sign-out, expiry) or with the password (the stored hash is part
of the message). Someone holding both a copy of the session table and ``SECRET_KEY`` could test
guesses against a live session's proof at HMAC speed rather than at Argon2id's; with
``SECRET_KEY`` alone they could already forge any session.
"""

from __future__ import annotations

import hmac
from typing import Any

from django.http import HttpRequest
from django.utils.crypto import salted_hmac

__all__ = ["password_proof_matches", "password_proof_remember"]

SESSION_KEY = "portal_password_proof"
_KEY_SALT = "portal.password_proof"


def _proof(user: Any, password: str) -> str:
    message = f"{user.pk}\x00{user.password}\x00{password}"
    return salted_hmac(_KEY_SALT, message, algorithm="sha256").hexdigest()


def password_proof_remember(request: HttpRequest, user: Any, password: str) -> None:
    """Call only after ``password`` was checked the slow way for ``user``."""
    session = getattr(request, "session", None)
    if session is None or not password or not user.has_usable_password():
        return
    session[SESSION_KEY] = _proof(user, password)


def password_proof_matches(request: HttpRequest, user: Any, password: str) -> bool:
    """``password`` is the one proved earlier in this session (and still the account's)."""
    session = getattr(request, "session", None)
    remembered = session.get(SESSION_KEY) if session is not None else None
    if not remembered or not password or not user.has_usable_password():
        return False
    return hmac.compare_digest(str(remembered), _proof(user, password))
