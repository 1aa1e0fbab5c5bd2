"""Staff two-factor secrets sealed with the vault's keys, through allauth's MFA adapter hooks.

allauth stores each TOTP secret and recovery-code seed in ``mfa_authenticator.data`` after passing
it through ``MFA_ADAPTER.encrypt``; the default stores them in clear. Here they are AES-GCM sealed
under the current ``PII_KEYS`` key (``<key id>:<base64>``, bound to the table and purpose), so a
database dump or an admin page does not hand out anyone's second factor. Values written before this
adapter (no key id) are read as they are until the data migration has sealed them.
"""

from __future__ import annotations

from allauth.mfa.adapter import DefaultMFAAdapter

from . import _crypto

AAD = _crypto.associated_data("mfa_authenticator", "*", "secret")


def mfa_secret_seal(text: str) -> str:
    return _crypto.encrypt(text, aad=AAD)


def mfa_secret_open(stored: str) -> str:
    if ":" not in stored:
        return stored  # written in clear before sealing (base32 or hex, never a colon)
    return _crypto.decrypt(stored, aad=AAD)


class VaultMFAAdapter(DefaultMFAAdapter):  # type: ignore[misc]
    def encrypt(self, text: str) -> str:
        return mfa_secret_seal(text)

    def decrypt(self, encrypted_text: str) -> str:
        return mfa_secret_open(encrypted_text)
