"""The hash chain of the consent ledger: canonical form, hashing, database time, verification.

Each ``ConsentEvent`` is hashed as SHA-256 over a canonical JSON document holding *every* stored
field of the event (except its own ``hash`` and the ``verification_code`` derived from it), the
previous event's hash included. Canonical means: keys sorted, no whitespace, UTF-8 (no ``\\u``
escapes of non-ASCII), times in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, absent foreign keys as
``null``, and a format number (``"v"``) so the format can evolve without breaking old chains.

``recorded_at`` is the database's clock, and it is hashed too. Because the table is append-only (the
hash cannot be filled in after the insert), the writer first reads the database clock
(``database_now``) while holding the participant's row lock, then inserts the event with that exact
value and the hash over it. Under the lock, the chain of a participant is written strictly one
event after the other, so recorded times follow the sequence.

``ledger_verify`` streams every event in chain order through a server-side cursor and recomputes
the chain; on PostgreSQL the times are formatted by the database so that each row costs little more
than one ``json.dumps`` and one SHA-256.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

FORMAT_VERSION = 1
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


def format_time(value: dt.datetime) -> str:
    """A time in the canonical form (UTC, microseconds, ``Z``)."""
    if value.tzinfo is None:
        raise ValueError("ledger times must be timezone-aware")
    return value.astimezone(UTC).strftime(_TIME_FORMAT)


def canonical_document(values: Mapping[str, Any]) -> dict[str, Any]:
    """The dictionary that is hashed, from the stored field values (times as datetimes)."""
    missing = set(HASHED_FIELDS) - set(values)
    if missing:
        raise ValueError(f"missing ledger fields: {sorted(missing)}")
    document: dict[str, Any] = {"v": FORMAT_VERSION}
    for name in HASHED_FIELDS:
        value = values[name]
        if name in TIME_FIELDS and isinstance(value, dt.datetime):
            value = format_time(value)
        document[name] = value
    return document


def canonical_json(document: Mapping[str, Any]) -> bytes:
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def event_hash(values: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of an event's stored values."""
    return hashlib.sha256(canonical_json(canonical_document(values))).hexdigest()


def verification_code(event_hash_hex: str) -> str:
    """A short code for receipts (``ABCDE-FGHJK``): the first 50 bits of the hash in base32.

    Short enough to read over the phone; the full hash is on the receipt too.
    """
    raw = base64.b32encode(bytes.fromhex(event_hash_hex)[:10]).decode("ascii")[:10]
    return f"{raw[:5]}-{raw[5:]}"


def database_now() -> dt.datetime:
    """The database's clock, as an aware UTC datetime, at the moment of the call.

    PostgreSQL: ``clock_timestamp()`` (not ``now()``, which is the start of the transaction and
    could be earlier than an event a concurrent transaction committed while we waited for the lock).
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT clock_timestamp()")
            value = cursor.fetchone()[0]
            return value.astimezone(UTC)
        if connection.vendor == "sqlite":
            cursor.execute("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")
            text = cursor.fetchone()[0]
            return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)
    raise NotImplementedError(f"database time is not written for {connection.vendor}")


# --- verification -------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrokenEvent:
    event_id: int
    participant_id: int
    sequence: int
    problem: str


@dataclass
class VerifyResult:
    events: int = 0
    chains: int = 0
    broken: list[BrokenEvent] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.broken

    @property
    def first_broken(self) -> BrokenEvent | None:
        return self.broken[0] if self.broken else None


_POSTGRES_TIME = "to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"


def _select_sql(vendor: str, participant_id: int | None) -> tuple[str, list[Any]]:
    columns = []
    for name in HASHED_FIELDS:
        if name in TIME_FIELDS and vendor == "postgresql":
            columns.append(_POSTGRES_TIME.format(col=name))
        elif name == "choices" and vendor == "postgresql":
            columns.append("choices::text")
        else:
            columns.append(name)
    where, params = "", []
    if participant_id is not None:
        where, params = "WHERE participant_id = %s", [participant_id]
    sql = (
        f"SELECT id, hash, verification_code, {', '.join(columns)} "  # noqa: S608 (constants)
        f"FROM consent_consentevent {where} ORDER BY participant_id, sequence"
    )
    return sql, params


def _rows(participant_id: int | None, batch: int) -> Iterator[tuple[Any, ...]]:
    sql, params = _select_sql(connection.vendor, participant_id)
    # A server-side cursor on PostgreSQL (chunked_cursor); rows stream in batches, never all at once.
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while True:
            rows = cursor.fetchmany(batch)
            if not rows:
                return
            yield from rows


def ledger_verify(*, participant_id: int | None = None, batch: int = 20_000) -> VerifyResult:
    """Recompute every chain (or one participant's) and list the first broken event of each chain.

    An event is broken when its recomputed hash differs from the stored one, when it does not point
    at the previous event's hash, or when the sequence has a gap. Events after a break in the same
    chain are not reported again (they only inherit the break).
    """
    result = VerifyResult()
    names = HASHED_FIELDS
    choices_at = names.index("choices") + 3
    times_at = [names.index(n) + 3 for n in TIME_FIELDS]
    is_postgres = connection.vendor == "postgresql"
    sha256 = hashlib.sha256
    dumps = json.dumps
    loads = json.loads
    current_participant: int | None = None
    expected_sequence = 1
    previous_hash = ""
    chain_broken = False

    # Run inside a transaction: PostgreSQL server-side cursors live within one.
    with transaction.atomic():
        for row in _rows(participant_id, batch):
            result.events += 1
            event_id, stored_hash, stored_code = row[0], row[1], row[2]
            participant, sequence = row[3], row[4]
            if participant != current_participant:
                current_participant = participant
                result.chains += 1
                expected_sequence = 1
                previous_hash = ""
                chain_broken = False
            if chain_broken:
                continue
            values = list(row[3:])
            if is_postgres:
                values[choices_at - 3] = loads(row[choices_at])
            else:
                for index in times_at:
                    values[index - 3] = _sqlite_time(row[index])
                if isinstance(values[choices_at - 3], str):
                    values[choices_at - 3] = loads(values[choices_at - 3])
            document = dict(zip(names, values, strict=True))
            document["v"] = FORMAT_VERSION
            problem = ""
            if sequence != expected_sequence:
                problem = f"sequence {sequence} where {expected_sequence} was expected"
            elif document["prev_hash"] != previous_hash:
                problem = "does not point at the previous event's hash"
            else:
                payload = dumps(
                    document, sort_keys=True, separators=(",", ":"), ensure_ascii=False
                ).encode("utf-8")
                if sha256(payload).hexdigest() != stored_hash:
                    problem = "content does not match its hash"
                elif stored_code != verification_code(stored_hash):
                    problem = "verification code does not match the hash"
            if problem:
                chain_broken = True
                result.broken.append(BrokenEvent(event_id, participant, sequence, problem))
                continue
            previous_hash = stored_hash
            expected_sequence += 1
    return result


def _sqlite_time(value: Any) -> str:
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        moment = dt.datetime.fromisoformat(str(value))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return format_time(moment)
