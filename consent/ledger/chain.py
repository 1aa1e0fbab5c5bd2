"""The hash chain of the consent ledger: canonical form, hashing, database time.

Each ``ConsentEvent`` is hashed as SHA-256 over a canonical JSON document holding *every* stored
field of the event (except its own ``hash`` and the ``verification_code`` derived from it), the
previous event's hash included. Canonical means: no whitespace, UTF-8 (no ``\\u`` escapes of
non-ASCII), times in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, absent foreign keys as ``null``, a
format number (``"v"``) so the format can evolve without breaking old chains, and keys sorted: the
event's fields by code point, the item codes inside ``choices`` in PostgreSQL's ``jsonb`` key order
(shorter codes first, then by code point). That second rule lets the database rebuild the document
from the stored ``jsonb`` without sorting, which makes verifying millions of events fast; item codes
are plain ``[a-z0-9_]`` and choices are booleans, so nothing else in ``choices`` needs care.

Two formats. Format 1 hashes ``HASHED_FIELDS``. Format 2 adds ``FORMAT_2_FIELDS`` (the codes of the
representative's relationship and of a withdrawal request, the hashes of their free-text notes, and
the impartial witness's name and signature) and is used exactly for the events where one of those is
set; every other event is hashed in format 1, byte for byte as before format 2 existed. The format
is therefore read from the event itself (``event_format``): nothing to migrate, and moving an event
from one format to the other (setting or clearing a format-2 field) changes ``"v"`` and breaks its
hash.

``recorded_at`` is the database's clock, and it is hashed too. Because the table is append-only (the
hash cannot be filled in after the insert), the writer first reads the database clock
(``database_now``) while holding the participant's row lock, then inserts the event with that exact
value and the hash over it. Under the lock, the chain of a participant is written strictly one
event after the other, so recorded times follow the sequence.

``ledger_verify`` (``consent.ledger.verification``) recomputes every chain.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from django.db import connection

FORMAT_VERSION = 1
FORMAT_2 = 2
UTC = dt.UTC
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

# Every hashed column of consent_consentevent, in the order verification selects them.
HASHED_FIELDS: tuple[str, ...] = (
    "participant_id",
    "sequence",
    "kind",
    "version_id",
    "version_sha256",
    "choices",
    "signed_at",
    "recorded_at",
    "signer_kind",
    "representative_relationship",
    "method",
    "channel",
    "staff_id",
    "countersigned_by_id",
    "withdrawal_level",
    "samples_fate",
    "voids_id",
    "reason",
    "signer_name_digest",
    "signature_sha256",
    "countersignature_sha256",
    "document_sha256",
    "prev_hash",
)
TIME_FIELDS = frozenset({"signed_at", "recorded_at"})
# Hashed only by format 2, i.e. when one of them is set (codes and hex digests, "" when unset).
FORMAT_2_FIELDS: tuple[str, ...] = (
    "representative_relation",
    "representative_note_sha256",
    "withdrawal_reason",
    "withdrawal_note_sha256",
    "witness_name_sha256",
    "witness_signature_sha256",
)


def event_format(values: Mapping[str, Any]) -> int:
    """The hash format of an event: 2 when it carries a format-2 field, 1 otherwise."""
    return FORMAT_2 if any(values.get(name) for name in FORMAT_2_FIELDS) else FORMAT_VERSION


def format_time(value: dt.datetime) -> str:
    """A time in the canonical form (UTC, microseconds, ``Z``)."""
    if value.tzinfo is None:
        raise ValueError("ledger times must be timezone-aware")
    return value.astimezone(UTC).strftime(_TIME_FORMAT)


def canonical_document(values: Mapping[str, Any]) -> dict[str, Any]:
    """The dictionary that is hashed, from the stored field values (times as datetimes). Format-2
    fields may be left out of ``values`` (they are then unset)."""
    missing = set(HASHED_FIELDS) - set(values)
    if missing:
        raise ValueError(f"missing ledger fields: {sorted(missing)}")
    version = event_format(values)
    names = HASHED_FIELDS + FORMAT_2_FIELDS if version == FORMAT_2 else HASHED_FIELDS
    document: dict[str, Any] = {"v": version}
    for name in names:
        value = values.get(name, "")
        if name in TIME_FIELDS and isinstance(value, dt.datetime):
            value = format_time(value)
        document[name] = value
    return document


def _jsonb_key_order(key: str) -> tuple[int, bytes]:
    raw = key.encode("utf-8")
    return len(raw), raw


def canonical_json(document: Mapping[str, Any]) -> bytes:
    """The bytes that are hashed (see the module docstring for the ordering rules)."""
    ordered = {key: document[key] for key in sorted(document)}
    choices = ordered.get("choices")
    if isinstance(choices, Mapping):
        ordered["choices"] = {k: choices[k] for k in sorted(choices, key=_jsonb_key_order)}
    return json.dumps(ordered, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def event_hash(values: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of an event's stored values."""
    return hashlib.sha256(canonical_json(canonical_document(values))).hexdigest()


def verification_code(event_hash_hex: str) -> str:
    """A short code for receipts (``3FA9C-07B21``): the first 40 bits of the hash, in hex.

    Short enough to read over the phone (hex has no letters to confuse, such as O and 0 or I and 1)
    and enough to find the event; the full hash is on the receipt to compare.
    """
    head = event_hash_hex[:10].upper()
    return f"{head[:5]}-{head[5:]}"


def database_now() -> dt.datetime:
    """The database's clock, as an aware UTC datetime, at the moment of the call.

    PostgreSQL: ``clock_timestamp()`` (not ``now()``, which is the start of the transaction and
    could be earlier than an event a concurrent transaction committed while we waited for the lock).
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT clock_timestamp()")
            value: dt.datetime = cursor.fetchone()[0]
            return value.astimezone(UTC)
        if connection.vendor == "sqlite":
            cursor.execute("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")
            text = cursor.fetchone()[0]
            return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)
    raise NotImplementedError(f"database time is not written for {connection.vendor}")


def chain_head_and_now(participant_id: int) -> tuple[tuple[int, str, int] | None, dt.datetime]:
    """The participant's last event as ``(sequence, hash, id)`` (``None`` for an empty chain) and
    ``database_now()``, read under the participant's lock; on PostgreSQL in one round trip.

    The clock is read by the same statement that reads the head, so it is still read after the
    lock was granted (what ``database_now`` is for).
    """
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT sequence, hash, id FROM consent_consentevent WHERE participant_id = %s "
                "ORDER BY sequence DESC LIMIT 1",
                [participant_id],
            )
            row = cursor.fetchone()
        return (tuple(row) if row else None), database_now()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT clock_timestamp(), head.sequence, head.hash, head.id FROM (SELECT 1) AS one "
            "LEFT JOIN LATERAL (SELECT sequence, hash, id FROM consent_consentevent "
            "WHERE participant_id = %s ORDER BY sequence DESC LIMIT 1) AS head ON true",
            [participant_id],
        )
        now, sequence, digest, event_id = cursor.fetchone()
    head = (sequence, digest, event_id) if sequence is not None else None
    return head, now.astimezone(UTC)
