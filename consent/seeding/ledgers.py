"""Synthetic consent ledgers for ``manage.py seed_synthetic`` (demos and benchmarks).

Connected to ``enrollment.seeding.synthetic_participants_seeded``: after the enrollment app has
written its participants, every participant whose funnel reached "consented" gets a ledger that
tells a plausible story, about three events each (see ``consent.seeding.synthetic``): a grant, later
changes, re-consent on the newer version, withdrawals.

Events are hashed with ``consent.ledger.event_hash`` (the same canonical JSON the services use), so
``verify_consent_ledger`` accepts them, and the states are folded with
``consent.projection.state_fold``, so a rebuild gives the same rows. Rows are written with COPY in
worker processes, one participant-id range per chunk.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import multiprocessing
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from django.db import connection, connections, transaction
from django.dispatch import receiver
from django.utils import timezone

from enrollment.models import Participant, StatusTransition
from enrollment.seeding import synthetic_participants_seeded
from portal.db import copy_rows

from ..ledger import HASHED_FIELDS, event_hash, format_time, verification_code
from ..models import (
    ConsentEvent,
    ConsentState,
)
from ..projection import state_fold
from .synthetic import Plan, Version, channel_pick, plan_for, story_for

CHUNK = 20_000

__all__ = ["ConsentSeedResult", "consent_ledgers_seed"]


@dataclass(frozen=True)
class ConsentSeedResult:
    participants: int
    events: int
    seconds: float


@dataclass
class _Event:
    """What ``state_fold`` reads of an event, without building model instances."""

    pk: int
    kind: str
    version_id: int | None
    choices: dict[str, bool]
    signed_at: dt.datetime
    withdrawal_level: str = ""
    samples_fate: str = ""
    voids_id: int | None = None


# --- writing ------------------------------------------------------------------------------------

EVENT_COLUMNS = ["id", *HASHED_FIELDS, "hash", "verification_code"]
STATE_COLUMNS = [
    "participant_id",
    "version_id",
    "status",
    "choices",
    "first_granted_at",
    "signed_at",
    "withdrawal_level",
    "samples_fate",
    "last_event_id",
    "event_count",
    "updated_at",
]


def _consented(first_id: int, last_id: int) -> list[tuple[int, dt.datetime, dt.datetime | None]]:
    """(participant id, consented at, withdrawn at) for the range, from the funnel's log."""
    table = StatusTransition._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT participant_id,
                   min(at) FILTER (WHERE to_status = 'consented'),
                   max(at) FILTER (WHERE to_status = 'withdrawn')
            FROM {table}
            WHERE participant_id BETWEEN %s AND %s
            GROUP BY participant_id
            HAVING bool_or(to_status = 'consented')
            ORDER BY participant_id
            """,  # noqa: S608 (table name from the model)
            [first_id, last_id],
        )
        return cursor.fetchall()


def _event_ids(n: int) -> list[int]:
    """``n`` fresh ids from the events' sequence (distinct, ascending within this call)."""
    if n == 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [ConsentEvent._meta.db_table, n],
        )
        return sorted(row[0] for row in cursor.fetchall())


def _copy(table: str, columns: list[str], rows: list[tuple]) -> None:
    copy_rows(table, columns, rows)


def _never_reconsent(version_id: int) -> bool:
    return False


def _chunk_write(plan: Plan, first_id: int, last_id: int) -> tuple[int, int]:
    connection.ensure_connection()
    people = _consented(first_id, last_id)
    rng = random.Random(plan.seed * 7_919 + first_id)
    stories = [(pid, story_for(rng, plan, at, withdrawn)) for pid, at, withdrawn in people]
    ids = iter(_event_ids(sum(len(story) for _pid, story in stories)))
    events: list[tuple] = []
    states: list[tuple] = []
    now = plan.now
    reconsent_due_version = plan.old.id if plan.old else None
    dumps = json.dumps
    for pid, story in stories:
        prev_hash = ""
        recorded = dt.datetime.min.replace(tzinfo=dt.UTC)
        folded: list[_Event] = []
        for sequence, step in enumerate(story, start=1):
            channel, method, late_hours = channel_pick(rng)
            signed_at: dt.datetime = step["at"]
            recorded = max(
                min(signed_at + dt.timedelta(hours=late_hours, seconds=rng.uniform(0.2, 3)), now),
                recorded + dt.timedelta(microseconds=1),
            )
            version: Version = step["version"]
            values = {
                "participant_id": pid,
                "sequence": sequence,
                "kind": str(step["kind"]),
                "version_id": version.id,
                "version_sha256": version.sha256,
                "choices": step["choices"],
                "signed_at": signed_at,
                "recorded_at": recorded,
                "signer_kind": "self",
                "representative_relationship": "",
                "method": method,
                "channel": channel,
                "staff_id": None,
                "countersigned_by_id": None,
                "withdrawal_level": step.get("level", ""),
                "samples_fate": step.get("fate", ""),
                "voids_id": None,
                "reason": "",
                "signer_name_digest": hashlib.sha256(f"name-{pid}".encode()).hexdigest(),
                "signature_sha256": "",
                "countersignature_sha256": "",
                "document_sha256": "",
                "prev_hash": prev_hash,
            }
            digest = event_hash(values)
            event_id = next(ids)
            row: list[Any] = [event_id]
            for name in HASHED_FIELDS:
                value = values[name]
                if name == "choices":
                    value = dumps(value, sort_keys=True)
                elif name in ("signed_at", "recorded_at"):
                    value = format_time(value)
                row.append(value)
            row += [digest, verification_code(digest)]
            events.append(tuple(row))
            folded.append(
                _Event(
                    pk=event_id,
                    kind=values["kind"],
                    version_id=version.id,
                    choices=step["choices"],
                    signed_at=signed_at,
                    withdrawal_level=values["withdrawal_level"],
                    samples_fate=values["samples_fate"],
                )
            )
            prev_hash = digest
        data = state_fold(cast(Any, folded), needs_reconsent=_never_reconsent)
        if data.status == "active" and data.version_id == reconsent_due_version:
            data.status = "reconsent_due"
        states.append(
            (
                pid,
                data.version_id,
                data.status,
                dumps(data.choices, sort_keys=True),
                dumps(data.first_granted_at, sort_keys=True),
                format_time(data.signed_at) if data.signed_at else None,
                data.withdrawal_level,
                data.samples_fate,
                data.last_event_id,
                data.event_count,
                format_time(now),
            )
        )
    with transaction.atomic():
        _copy(ConsentEvent._meta.db_table, EVENT_COLUMNS, events)
        _copy(ConsentState._meta.db_table, STATE_COLUMNS, states)
    return len(states), len(events)


_worker_plan: Plan | None = None


def _worker_init(plan: Plan) -> None:
    global _worker_plan
    _worker_plan = plan
    connections.close_all()


def _worker_chunk(bounds: tuple[int, int]) -> tuple[int, int]:
    assert _worker_plan is not None
    return _chunk_write(_worker_plan, *bounds)


def consent_ledgers_seed(
    *,
    first_id: int,
    last_id: int,
    seeded_at: dt.datetime | None = None,
    workers: int = 2,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ConsentSeedResult:
    """Write ledgers and states for the consented participants with ids in [first_id, last_id]."""
    if connection.vendor != "postgresql":
        raise RuntimeError("synthetic consent ledgers need PostgreSQL (they are written with COPY)")
    began = time.monotonic()
    plan = plan_for(seeded_at or timezone.now(), seed if seed is not None else first_id)
    ranges = [
        (start, min(start + CHUNK - 1, last_id)) for start in range(first_id, last_id + 1, CHUNK)
    ]
    participants = events = 0
    if workers > 1 and len(ranges) > 1:
        connections.close_all()
        fork = multiprocessing.get_context("fork")
        with fork.Pool(workers, initializer=_worker_init, initargs=(plan,)) as pool:
            for done, (n_people, n_events) in enumerate(
                pool.imap_unordered(_worker_chunk, ranges), start=1
            ):
                participants += n_people
                events += n_events
                if progress:
                    progress(done, len(ranges))
    else:
        for done, (start, end) in enumerate(ranges, start=1):
            n_people, n_events = _chunk_write(plan, start, end)
            participants += n_people
            events += n_events
            if progress:
                progress(done, len(ranges))
    with connection.cursor() as cursor:
        for model in (ConsentEvent, ConsentState):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    return ConsentSeedResult(participants, events, time.monotonic() - began)


@receiver(synthetic_participants_seeded)
def _on_participants_seeded(
    sender: type[Participant], first_id: int, last_id: int, seeded_at: dt.datetime, **_: Any
) -> None:
    consent_ledgers_seed(first_id=first_id, last_id=last_id, seeded_at=seeded_at)
