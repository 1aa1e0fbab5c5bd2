"""Field-level encryption and blind indexes for the personal-data vault.

Each value is sealed with AES-GCM under the first key of ``settings.PII_KEYS`` and stored as
``<key id>:<base64(nonce + ciphertext)>``, so a value always says which key opens it and keys can be
rotated one batch at a time. The associated data binds a value to its row and field: a ciphertext
copied into another row or column no longer decrypts.

Blind indexes are HMAC-SHA256 over a normalised value with ``settings.BLIND_INDEX_KEY``, separated
by purpose, so equal e-mails (phones, name + birth date) meet in an indexed column without the
column revealing them.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import os
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_KEY_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
_NONCE_BYTES = 12


class VaultError(Exception):
    """A value could not be decrypted (unknown key, or tampered / moved ciphertext)."""


@dataclass(frozen=True)
class Keyring:
    current_id: str
    keys: dict[str, AESGCM]


@lru_cache(maxsize=8)
def _parse_keyring(raw: str) -> Keyring:
    keys: dict[str, AESGCM] = {}
    current_id = ""
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        key_id, sep, encoded = part.partition(":")
        if not sep or not _KEY_ID_RE.match(key_id):
            raise ImproperlyConfigured("PII_KEYS entries must look like keyid:base64key")
        try:
            material = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ImproperlyConfigured(f"PII_KEYS key {key_id} is not valid base64") from exc
        if len(material) not in (16, 24, 32):
            raise ImproperlyConfigured(f"PII_KEYS key {key_id} must be 16, 24 or 32 bytes long")
        if key_id in keys:
            raise ImproperlyConfigured(f"PII_KEYS names key {key_id} twice")
        keys[key_id] = AESGCM(material)
        current_id = current_id or key_id
    if not keys:
        raise ImproperlyConfigured("PII_KEYS holds no key")
    return Keyring(current_id=current_id, keys=keys)


def keyring() -> Keyring:
    # Parsed once per distinct setting value, so tests that change the setting see the change.
    return _parse_keyring(settings.PII_KEYS)


def current_key_id() -> str:
    return keyring().current_id


def associated_data(table: str, row_id: object, field: str) -> bytes:
    return f"{table}|{row_id}|{field}".encode()


def encrypt(plaintext: str, *, aad: bytes) -> str:
    """Seal ``plaintext`` under the current key. An empty value stays empty (nothing to hide)."""
    if plaintext == "":
        return ""
    ring = keyring()
    nonce = os.urandom(_NONCE_BYTES)
    sealed = ring.keys[ring.current_id].encrypt(nonce, plaintext.encode(), aad)
    return f"{ring.current_id}:{base64.b64encode(nonce + sealed).decode('ascii')}"


def encrypt_fields(table: str, row_id: object, values: dict[str, str]) -> dict[str, str]:
    """``encrypt`` for all fields of one row at once: one key lookup and one call for the nonces
    (bulk imports seal tens of thousands of values a second this way). The associated data is the
    same as ``associated_data`` gives, built from a per-table prefix and per-field suffixes."""
    ring = keyring()
    key = ring.keys[ring.current_id]
    prefix = ring.current_id + ":"
    nonces = os.urandom(_NONCE_BYTES * len(values))
    row_aad = f"{table}|{row_id}|".encode()
    sealed: dict[str, str] = {}
    offset = 0
    for field, plaintext in values.items():
        if plaintext == "":
            sealed[field] = ""
            continue
        nonce = nonces[offset : offset + _NONCE_BYTES]
        offset += _NONCE_BYTES
        token = nonce + key.encrypt(nonce, plaintext.encode(), row_aad + _field_bytes(field))
        sealed[field] = prefix + binascii.b2a_base64(token, newline=False).decode("ascii")
    return sealed


@lru_cache(maxsize=64)
def _field_bytes(field: str) -> bytes:
    return field.encode()


def key_id_of(token: str) -> str:
    return token.partition(":")[0] if token else ""


def decrypt(token: str, *, aad: bytes) -> str:
    if token == "":
        return ""
    key_id, sep, encoded = token.partition(":")
    key = keyring().keys.get(key_id)
    if not sep or key is None:
        raise VaultError(f"no key {key_id!r} in PII_KEYS")
    try:
        raw = base64.b64decode(encoded)
        return key.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], aad).decode()
    except (InvalidTag, binascii.Error, ValueError) as exc:
        # Never include the token or the plaintext: this message may reach a log.
        raise VaultError("a vault value failed its integrity check") from exc


# --- normalisation ---------------------------------------------------------------------------


def normalise_email(email: str) -> str:
    return unicodedata.normalize("NFKC", email).strip().lower()


# The common case, a 010 mobile number, checked without the full parser (a bulk import meets
# hundreds of thousands). 010-597x to 010-599x are not allocated, as in the phonenumbers metadata;
# a test compares this shortcut with phonenumbers.
_KR_010_RE = re.compile(r"^(?:\+82[- .]?|0)10[- .]?(\d{4})[- .]?(\d{4})$")


def normalise_phone(phone: str, region: str = "KR") -> str:
    """E.164 form of ``phone`` (``+821012345678``); ``ValueError`` if it is not a valid number."""
    fast = _KR_010_RE.match(phone.strip()) if region == "KR" else None
    if fast is not None and not fast.group(1).startswith(("597", "598", "599")):
        return f"+8210{fast.group(1)}{fast.group(2)}"
    try:
        parsed = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("not a phone number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_for_display(e164: str) -> str:
    """``+821023456789`` as people write it at home (``010-2345-6789``); abroad, international."""
    if not e164:
        return ""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if parsed.country_code == 82
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(parsed, style)


def normalise_name(name: str) -> str:
    """Compare names without case, spacing or Unicode form differences (홍 길동 == 홍길동)."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "-.,'·")


# --- blind indexes ---------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _index_key(raw: str) -> bytes:
    return hashlib.sha256(b"dam-portal blind index|" + raw.encode()).digest()


def _blind(purpose: str, value: str) -> str:
    key = _index_key(settings.BLIND_INDEX_KEY)
    return hmac.digest(key, f"{purpose}|{value}".encode(), "sha256").hex()


def email_index(email: str) -> str:
    normalised = normalise_email(email)
    return _blind("email", normalised) if normalised else ""


def phone_index(e164_phone: str) -> str:
    """Index of a phone already in E.164 form (the vault stores only E.164)."""
    return _blind("phone", e164_phone) if e164_phone else ""


def name_birth_index(name: str, birth_date: dt.date) -> str:
    normalised = normalise_name(name)
    return _blind("name_birth", f"{normalised}|{birth_date.isoformat()}") if normalised else ""
