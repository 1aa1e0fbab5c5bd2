"""Verification of the consent ledger: recompute every chain and name the first broken event.

``ledger_verify`` recomputes every chain: inside PostgreSQL (one query, no rows moved to Python,
the canonical JSON of ``consent.ledger.chain`` rebuilt in SQL), or elsewhere by streaming the events
through a server-side cursor.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction

from .chain import (
    FORMAT_2,
    FORMAT_2_FIELDS,
    FORMAT_VERSION,
    HASHED_FIELDS,
    TIME_FIELDS,
    UTC,
    canonical_json,
    format_time,
    verification_code,
)

__all__ = ["BrokenEvent", "VerifyResult", "ledger_verify"]


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
    for name in HASHED_FIELDS + FORMAT_2_FIELDS:
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


def ledger_verify(
    *,
    participant_id: int | None = None,
    batch: int = 20_000,
    in_database: bool | None = None,
    after_event_id: int | None = None,
) -> VerifyResult:
    """Recompute every chain (or one participant's) and list the first broken event of each chain.

    An event is broken when its recomputed hash differs from the stored one, when it does not point
    at the previous event's hash, when the sequence has a gap, or when its verification code is not
    the one its hash gives. Events after a break in the same chain are not reported again (they
    only inherit the break).

    On PostgreSQL the database recomputes the hashes itself (``in_database``, the default there):
    the canonical JSON is built in SQL, byte for byte as ``canonical_json`` builds it, and hashed
    with ``sha256()``, so millions of events are checked without moving them to Python. Elsewhere
    (and with ``in_database=False``) every event is streamed and recomputed in Python; a test holds
    the two to the same answers.

    ``after_event_id`` (PostgreSQL only; elsewhere every event is checked) checks only the events
    with a higher id: each one's content and code, and its place in its chain (sequence and link
    to the previous event, which may be older). For callers that hold a proof that every event up
    to that id was verified and has not changed since (see ``reports.certificates``).
    """
    if in_database is None:
        in_database = connection.vendor == "postgresql"
    if in_database:
        return _verify_in_postgres(participant_id, after_event_id)
    return _verify_streaming(participant_id, batch)


def _verify_streaming(participant_id: int | None, batch: int) -> VerifyResult:
    result = VerifyResult()
    names = HASHED_FIELDS
    format_2_at = len(names) + 3
    choices_at = names.index("choices") + 3
    times_at = [names.index(n) + 3 for n in TIME_FIELDS]
    is_postgres = connection.vendor == "postgresql"
    sha256 = hashlib.sha256
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
            values = list(row[3:format_2_at])
            format_2_values = row[format_2_at:]
            if is_postgres:
                values[choices_at - 3] = loads(row[choices_at])
            else:
                for index in times_at:
                    values[index - 3] = _sqlite_time(row[index])
                if isinstance(values[choices_at - 3], str):
                    values[choices_at - 3] = loads(values[choices_at - 3])
            document = dict(zip(names, values, strict=True))
            document["v"] = FORMAT_VERSION
            if any(format_2_values):
                document.update(zip(FORMAT_2_FIELDS, format_2_values, strict=True))
                document["v"] = FORMAT_2
            problem = ""
            if sequence != expected_sequence:
                problem = f"sequence {sequence} where {expected_sequence} was expected"
            elif document["prev_hash"] != previous_hash:
                problem = "does not point at the previous event's hash"
            else:
                if sha256(canonical_json(document)).hexdigest() != stored_hash:
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


# --- verification inside PostgreSQL -------------------------------------------------------------


# Columns whose values are plain ASCII without quotes, backslashes or control characters (hex
# digests and choice codes; CHECK constraints hold them to that, and the database enforces CHECKs
# even for a superuser who switches triggers off): they are quoted without escaping. Only the free
# text columns go through ``to_json``. Fewer function calls per row is what makes this fast.
_PLAIN_TEXT = frozenset(
    {
        "kind",
        "version_sha256",
        "signer_kind",
        "method",
        "channel",
        "withdrawal_level",
        "samples_fate",
        "signer_name_digest",
        "signature_sha256",
        "countersignature_sha256",
        "document_sha256",
        "prev_hash",
        *FORMAT_2_FIELDS,
    }
)
_INTEGERS = frozenset({"participant_id", "sequence"})


def _pg_json(name: str) -> str:
    """SQL giving the JSON text of column ``name`` exactly as ``canonical_json`` writes it."""
    if name in TIME_FIELDS:
        return "'\"' || " + _POSTGRES_TIME.format(col="e." + name) + " || '\"'"
    if name == "choices":
        # jsonb prints keys in the canonical order already; only the spaces after ":" and ","
        # go. Safe because codes are [a-z0-9_] and values booleans (tampered keys just mismatch).
        return "replace(replace(e.choices::text, '\": ', '\":'), ', \"', ',\"')"
    if name in _PLAIN_TEXT:
        return f"'\"' || e.{name} || '\"'"
    if name in _INTEGERS:
        return f"e.{name}::text"
    if name.endswith("_id"):
        return f"COALESCE(e.{name}::text, 'null')"
    return f"to_json(e.{name})::text"


def _pg_canonical_sql(version: int) -> str:
    names = HASHED_FIELDS + FORMAT_2_FIELDS if version == FORMAT_2 else HASHED_FIELDS
    pieces = {name: _pg_json(name) for name in names}
    pieces["v"] = f"'{version}'"
    parts = [f"'{json.dumps(key)}:' || {pieces[key]}" for key in sorted(pieces)]
    return "'{' || " + " || ',' || ".join(parts) + " || '}'"


def _pg_hash_sql() -> str:
    """The event's hash recomputed in SQL, in the format the event itself calls for
    (``consent.ledger.chain.event_format``)."""
    format_1 = " AND ".join(f"e.{name} = ''" for name in FORMAT_2_FIELDS)
    document = (
        f"CASE WHEN {format_1} THEN {_pg_canonical_sql(FORMAT_VERSION)} "
        f"ELSE {_pg_canonical_sql(FORMAT_2)} END"
    )
    return f"encode(sha256(convert_to({document}, 'UTF8')), 'hex')"


def _pg_code_sql(column: str) -> str:
    """``verification_code`` in SQL."""
    return f"upper(substr({column}, 1, 5) || '-' || substr({column}, 6, 5))"


def _verify_in_postgres(participant_id: int | None, after_event_id: int | None) -> VerifyResult:
    """Two passes the planner runs well: a plain scan recomputing every hash (parallel where the
    server allows), and a narrow window over (participant, sequence) checking the links.

    With ``after_event_id``, the first pass reads only the newer events (along the primary key)
    and the second only the chains that have one, reporting only the newer events."""
    conditions: list[str] = []
    params: list[int] = []
    if participant_id is not None:
        conditions.append("e.participant_id = %s")
        params.append(participant_id)
    chain_conditions = list(conditions)
    chain_params = list(params)
    if after_event_id is not None:
        conditions.append("e.id > %s")
        params.append(after_event_id)
        chain_conditions.append(
            "e.participant_id IN (SELECT n.participant_id FROM consent_consentevent n "
            "WHERE n.id > %s)"
        )
        chain_params.append(after_event_id)
    where = ("WHERE " + " AND ".join(conditions)) if conditions else ""
    chain_where = ("WHERE " + " AND ".join(chain_conditions)) if chain_conditions else ""
    newer_only = ""
    newer_params: list[int] = []
    if after_event_id is not None:
        newer_only = "AND id > %s"
        newer_params = [after_event_id]
    content_sql = f"""
        SELECT e.id, e.participant_id, e.sequence,
               CASE WHEN {_pg_hash_sql()} <> e.hash
                    THEN 'hash' ELSE 'code' END
        FROM consent_consentevent e {where}
        {"AND" if where else "WHERE"} (
            {_pg_hash_sql()} <> e.hash
            OR e.verification_code <> {_pg_code_sql("e.hash")})
    """  # noqa: S608  (built from constants only)
    links_sql = f"""
        SELECT id, participant_id, sequence, expected_sequence,
               CASE WHEN sequence <> expected_sequence THEN 'sequence' ELSE 'prev' END
        FROM (
            SELECT e.id, e.participant_id, e.sequence, e.prev_hash,
                   lag(e.hash, 1, '') OVER w AS expected_prev,
                   row_number() OVER w AS expected_sequence
            FROM consent_consentevent e {chain_where}
            WINDOW w AS (PARTITION BY e.participant_id ORDER BY e.sequence)
        ) chain
        WHERE (sequence <> expected_sequence OR prev_hash <> expected_prev) {newer_only}
    """  # noqa: S608  (built from constants only)
    problems = {
        "prev": "does not point at the previous event's hash",
        "hash": "content does not match its hash",
        "code": "verification code does not match the hash",
    }
    # (participant, sequence, rank) -> finding; at one event the order of checks is: sequence,
    # link, content, code (as in the streaming check).
    rank = {"sequence": 0, "prev": 1, "hash": 2, "code": 3}
    findings: dict[int, tuple[int, int, int, str]] = {}

    def keep(event_id: int, participant: int, sequence: int, problem: str) -> None:
        candidate = (sequence, rank[problem.split(":")[0]], event_id, problem)
        if participant not in findings or candidate < findings[participant]:
            findings[participant] = candidate

    result = VerifyResult()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), count(DISTINCT participant_id) FROM consent_consentevent e {where}",  # noqa: S608
            params,
        )
        result.events, result.chains = cursor.fetchone()
        cursor.execute(content_sql, params)
        for event_id, participant, sequence, kind in cursor.fetchall():
            keep(event_id, participant, sequence, kind)
        cursor.execute(links_sql, chain_params + newer_params)
        for event_id, participant, sequence, expected, kind in cursor.fetchall():
            keep(
                event_id,
                participant,
                sequence,
                f"sequence:{expected}" if kind == "sequence" else kind,
            )
    for participant in sorted(findings):
        sequence, _rank, event_id, problem = findings[participant]
        if problem.startswith("sequence:"):
            text = f"sequence {sequence} where {problem.split(':')[1]} was expected"
        else:
            text = problems[problem]
        result.broken.append(BrokenEvent(event_id, participant, sequence, text))
    return result


def _sqlite_time(value: Any) -> str:
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        moment = dt.datetime.fromisoformat(str(value))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return format_time(moment)
