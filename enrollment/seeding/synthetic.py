"""Synthetic participants at scale (``manage.py seed_synthetic``), for demos and benchmarks.

Realistic enough to exercise every page and figure: 38 hospital sites, the programme's cohorts,
registrations spread from January 2024 to today with a growing trend, each participant walked
through the funnel with plausible delays (recent registrations are naturally earlier in the
funnel), personal data sealed in the vault with real encryption and blind indexes.

Fast enough for a million: participants, vault rows and transitions are generated in worker
processes and written with PostgreSQL ``COPY``; the funnel aggregates are rebuilt from the
transition log at the end, so they are consistent by construction.

Other apps add their own synthetic records (consent ledgers, samples) by connecting to
``synthetic_participants_seeded``: it is sent once at the end with the range of participant ids
created, and receivers can read those participants' statuses and write in bulk themselves.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db import connection, connections, transaction
from django.dispatch import Signal
from django.utils import timezone

from portal.db import copy_rows

from .. import vault
from ..models import Participant, PersonalData, StatusTransition
from ..models.vault import ENCRYPTED_FIELDS
from ..services.aggregates import funnel_aggregates_rebuild
from ._people import _Context, _generate, _participant_columns, reference_data_ensure

__all__ = ["SeedResult", "synthetic_participants_seeded", "synthetic_seed"]

# Sent after seeding with first_id, last_id (participant ids, inclusive) and seeded_at.
synthetic_participants_seeded = Signal()

CHUNK = 10_000


@dataclass(frozen=True)
class SeedResult:
    participants: int
    transitions: int
    seconds: float  # participants, vault rows, transitions and aggregates
    first_id: int
    last_id: int
    hooks_seconds: float = 0.0  # what other apps' receivers took (e.g. consent ledgers)


_worker_ctx: _Context | None = None


def _worker_init(ctx: _Context) -> None:
    global _worker_ctx
    _worker_ctx = ctx
    connections.close_all()  # a forked child must not share the parent's connection


def _worker_chunk(bounds: tuple[int, int]) -> int:
    assert _worker_ctx is not None
    return _chunk_write(_worker_ctx, *bounds)


def _chunk_write(ctx: _Context, start: int, count: int) -> int:
    people, vault, steps = _generate(ctx, start, count)
    connection.ensure_connection()
    with transaction.atomic():
        copy_rows(Participant._meta.db_table, ctx.participant_columns, people)
        copy_rows(
            PersonalData._meta.db_table,
            [
                "participant_id",
                *ENCRYPTED_FIELDS,
                "key_id",
                "email_index",
                "phone_index",
                "name_birth_index",
            ],
            vault,
        )
        copy_rows(
            StatusTransition._meta.db_table,
            [
                "participant_id",
                "from_status",
                "to_status",
                "at",
                "site_id_at",
                "cohort_id_at",
                "reason",
            ],
            steps,
        )
    return len(steps)


def _reserve_ids(n: int) -> int:
    """Take ``n`` consecutive participant ids from the sequence; returns the first."""
    table = Participant._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"GREATEST((SELECT COALESCE(max(id), 0) FROM {table}), "
            f"(SELECT last_value FROM {table}_id_seq)) + %s)",
            [n],
        )
        (last,) = cursor.fetchone()
    return int(last) - n + 1


# Above this many participants, secondary indexes are dropped for the load and built again after:
# one sort per index is much cheaper than a million index insertions.
DEFER_INDEXES_FROM = 200_000
_LOADED_TABLES = (Participant, PersonalData, StatusTransition)


def _secondary_indexes() -> list[tuple[str, str]]:
    """(name, definition) of the indexes of the loaded tables that back no constraint."""
    tables = [m._meta.db_table for m in _LOADED_TABLES]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.relname, pg_get_indexdef(i.oid)
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relname = ANY(%s) AND NOT x.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
            """,
            [tables],
        )
        return list(cursor.fetchall())


def _indexes_drop(indexes: list[tuple[str, str]]) -> None:
    with connection.cursor() as cursor:
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')


def _indexes_create(indexes: list[tuple[str, str]]) -> None:
    if not indexes:
        return
    # SET LOCAL ends with the transaction: behind a transaction pooler a session-level SET would
    # stay on a server connection that other clients are handed next.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in indexes:
            cursor.execute(definition)


def _chunks(total: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, CHUNK):
        yield start, min(CHUNK, total - start)


def _load(
    ctx: _Context, participants: int, workers: int, progress: Callable[[int, int], None] | None
) -> int:
    transitions = done = 0
    if workers > 1 and participants > CHUNK:
        connections.close_all()
        fork = multiprocessing.get_context("fork")
        with fork.Pool(workers, initializer=_worker_init, initargs=(ctx,)) as pool:
            for written in pool.imap_unordered(_worker_chunk, _chunks(participants)):
                transitions += written
                done = min(done + CHUNK, participants)
                if progress:
                    progress(done, participants)
    else:
        for start, count in _chunks(participants):
            transitions += _chunk_write(ctx, start, count)
            done += count
            if progress:
                progress(done, participants)
    return transitions


def synthetic_seed(
    *,
    participants: int,
    workers: int = 2,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    notify: bool = True,
) -> SeedResult:
    """Create ``participants`` synthetic participants with vault rows and transitions.

    PostgreSQL only (COPY). Codes, phones and e-mails derive from the participant id, so they stay
    unique across runs; ``seed`` makes a run reproducible. ``notify=False`` leaves out other
    apps' synthetic records (``synthetic_participants_seeded`` is not sent).
    """
    if connection.vendor != "postgresql":
        raise RuntimeError("seed_synthetic needs PostgreSQL (it writes with COPY)")
    began = time.monotonic()
    vault.keyring()  # fail before forking if the keys are misconfigured
    sites, groups = reference_data_ensure()
    first_id = _reserve_ids(participants)
    columns, defaults = _participant_columns()
    ctx = _Context(
        first_id=first_id,
        now=timezone.now(),
        sites=sites,
        groups=groups,
        participant_columns=columns,
        participant_defaults=defaults,
        seed=seed if seed is not None else first_id,
    )
    deferred = _secondary_indexes() if participants >= DEFER_INDEXES_FROM else []
    _indexes_drop(deferred)
    try:
        transitions = _load(ctx, participants, workers, progress)
    finally:
        _indexes_create(deferred)
    funnel_aggregates_rebuild()
    with connection.cursor() as cursor:
        for model in _LOADED_TABLES:
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    last_id = first_id + participants - 1
    seconds = time.monotonic() - began
    if notify:
        synthetic_participants_seeded.send(
            sender=Participant, first_id=first_id, last_id=last_id, seeded_at=ctx.now
        )
    hooks = time.monotonic() - began - seconds
    return SeedResult(participants, transitions, seconds, first_id, last_id, hooks)
