"""Staff two-factor secrets sealed with the vault's keys, through allauth's MFA adapter hooks.

allauth stores each TOTP secret and recovery-code seed in ``mfa_authenticator.data`` after passing
it through ``MFA_ADAPTER.encrypt``; the default stores them in clear. Here they are AES-GCM sealed
under the current ``PII_KEYS`` key (``<key id>:<base64>``, bound to the table and purpose), so a
database dump or an admin page does not hand out anyone's second factor. Values written before this
adapter (no key id) are read as they are until the data migration has sealed them.

``mfa_secrets_rotate_batch`` re-seals them under the current key (``manage.py rotate_pii_key``), so
an old key can be retired without locking staff out of their second factor.
"""

from __future__ import annotations

from typing import Any

from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.db import transaction

from . import _crypto

AAD = _crypto.associated_data("mfa_authenticator", "*", "secret")


def mfa_secret_seal(text: str) -> str:
    return _crypto.encrypt(text, aad=AAD)


def mfa_secret_open(stored: str) -> str:
    if ":" not in stored:
        return stored  # written in clear before sealing (base32 or hex, never a colon)
    return _crypto.decrypt(stored, aad=AAD)


# The sealed values of ``Authenticator.data``: the TOTP secret, the recovery-code seed, and the
# codes allauth carried over from an older format.
_SEALED_KEYS = ("secret", "seed")
_SEALED_LISTS = ("migrated_codes",)


def _reseal(value: str, current: str) -> str | None:
    """``value`` sealed under the current key, or ``None`` if it already is."""
    if _crypto.key_id_of(value) == current and ":" in value:
        return None
    return mfa_secret_seal(mfa_secret_open(value))


def _resealed_data(data: dict[str, Any], current: str) -> dict[str, Any] | None:
    changed = False
    fresh = dict(data)
    for key in _SEALED_KEYS:
        value = fresh.get(key)
        if isinstance(value, str) and value:
            sealed = _reseal(value, current)
            if sealed is not None:
                fresh[key] = sealed
                changed = True
    for key in _SEALED_LISTS:
        values = fresh.get(key)
        if isinstance(values, list) and values:
            sealed_list = [
                _reseal(v, current) if isinstance(v, str) and v else None for v in values
            ]
            if any(s is not None for s in sealed_list):
                fresh[key] = [
                    s if s is not None else v for s, v in zip(sealed_list, values, strict=True)
                ]
                changed = True
    return fresh if changed else None


def mfa_secrets_rotate_batch(*, batch_size: int) -> int:
    """Re-seal up to ``batch_size`` authenticators holding a value not under the current key (or
    still in clear); returns how many were done. Run again until it returns 0.

    Rows are locked and skipped when another run holds them, like the personal-data rotation. The
    key id sits inside a JSON value, so the rows are scanned in primary-key order from ``after``."""
    current = _crypto.current_key_id()
    done = 0
    after = 0
    while done < batch_size:
        with transaction.atomic():
            rows = list(
                Authenticator.objects.filter(pk__gt=after)
                .order_by("pk")
                .select_for_update(skip_locked=True)[:500]
            )
            if not rows:
                break
            for row in rows:
                after = row.pk
                fresh = _resealed_data(dict(row.data or {}), current)
                if fresh is None:
                    continue
                row.data = fresh
                row.save(update_fields=["data"])
                done += 1
                if done >= batch_size:
                    break
    return done


class VaultMFAAdapter(DefaultMFAAdapter):  # type: ignore[misc]
    def encrypt(self, text: str) -> str:
        return mfa_secret_seal(text)

    def decrypt(self, encrypted_text: str) -> str:
        return mfa_secret_open(encrypted_text)
