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

import datetime as dt
import multiprocessing
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, connections, transaction
from django.dispatch import Signal
from django.utils import timezone

from . import crypto
from .aggregates import funnel_aggregates_rebuild
from .demo import seed_programme
from .models import (
    Cohort,
    CohortGroup,
    Participant,
    ParticipantStatus,
    PersonalData,
    Phase,
    PhaseTarget,
    Site,
    StatusTransition,
)
from .models.vault import ENCRYPTED_FIELDS
from .services.people import CODE_ALPHABET, CODE_RANDOM_LENGTH, _check_character
from .vault import Profile, personal_data_build

__all__ = ["SeedResult", "synthetic_participants_seeded", "synthetic_seed"]

# Sent after seeding with first_id, last_id (participant ids, inclusive) and seeded_at.
synthetic_participants_seeded = Signal()

S = ParticipantStatus
START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
CHUNK = 10_000

CITIES = [
    ("서울", 9),
    ("부산", 3),
    ("대구", 3),
    ("인천", 2),
    ("광주", 2),
    ("대전", 2),
    ("울산", 1),
    ("수원", 2),
    ("성남", 1),
    ("고양", 1),
    ("춘천", 1),
    ("원주", 1),
    ("청주", 1),
    ("천안", 1),
    ("전주", 1),
    ("창원", 1),
    ("진주", 1),
    ("제주", 1),
    ("포항", 1),
    ("안동", 1),
    ("순천", 1),
    ("세종", 1),
]  # 38 hospital sites in all
SURNAMES = "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민진"
GIVEN = "민서준지현우예하윤도진수영은재원호성아연주경태동혜승희나유정빈채린"
LATIN_SURNAMES = {"김": "Kim", "이": "Lee", "박": "Park", "최": "Choi", "정": "Jung"}
STREETS = ["중앙로", "세종대로", "테헤란로", "해운대로", "동성로", "둔산로", "금남로", "경수대로"]
EMAIL_DOMAINS = ["example.com", "example.net", "example.org"]


@dataclass(frozen=True)
class SeedResult:
    participants: int
    transitions: int
    seconds: float  # participants, vault rows, transitions and aggregates
    first_id: int
    last_id: int
    hooks_seconds: float = 0.0  # what other apps' receivers took (e.g. consent ledgers)


# --- reference data ------------------------------------------------------------------------------


def reference_data_ensure() -> tuple[list[int], dict[str, list[int]]]:
    """The programme, its phases and targets, 38 sites and the cohorts; returns site ids and
    cohort ids per cohort group."""
    seed_programme()
    number = 0
    for city, count in CITIES:
        for k in range(count):
            number += 1
            suffix = "" if count == 1 else f" 제{k + 1}"
            Site.objects.get_or_create(
                code=f"h{number:02d}",
                defaults={
                    "name": f"{city}대학교병원{suffix}",
                    "region": city,
                    "daily_capacity": 40 + 10 * (number % 4),
                },
            )
    phase = Phase.objects.filter(number=1).order_by("programme_id").first()
    sites = list(Site.objects.filter(is_active=True).order_by("id").values_list("id", flat=True))
    if phase is not None:
        per_site = 772_000 // max(len(sites), 1) // 1000 * 1000
        for site_id in sites:
            PhaseTarget.objects.get_or_create(
                phase=phase, cohort_group="", site_id=site_id, defaults={"target": per_site}
            )
    groups: dict[str, list[int]] = {g.value: [] for g in CohortGroup}
    for cohort_id, group in Cohort.objects.values_list("id", "group"):
        groups[group].append(cohort_id)
    return sites, groups


# --- one participant -------------------------------------------------------------------------------


def participant_code_for(number: int) -> str:
    """A valid participant code derived from a sequence number (unique, with its check character)."""
    base = len(CODE_ALPHABET)
    digits = []
    for _ in range(CODE_RANDOM_LENGTH):
        number, rest = divmod(number, base)
        digits.append(CODE_ALPHABET[rest])
    body = "".join(reversed(digits))
    return f"P{body}{_check_character(body)}"


def synthetic_phone(number: int) -> str:
    """The E.164 mobile number of the synthetic participant with id ``number`` (benchmarks look
    these up)."""
    return f"+8210{number % 100_000_000:08d}"


def synthetic_email(number: int) -> str:
    return f"p{number}@{EMAIL_DOMAINS[number % len(EMAIL_DOMAINS)]}"


def _registration_time(rng: random.Random, now: dt.datetime) -> dt.datetime:
    # Growing recruitment: the density rises linearly, so draw from a triangular distribution.
    span = (now - START).total_seconds()
    return START + dt.timedelta(seconds=rng.triangular(0, span, span))


def _path(rng: random.Random, patient: bool) -> list[str]:
    """The statuses this participant will pass through, if time allows."""
    path = [S.REGISTERED.value]
    if rng.random() < (0.03 if patient else 0.06):
        path.append(S.INELIGIBLE.value)
        if rng.random() < 0.3:
            path.append(S.ELIGIBLE.value)
        else:
            return path
    else:
        path.append(S.ELIGIBLE.value)
    for nxt, p in ((S.CONSENTED, 0.9), (S.SAMPLE_COLLECTED, 0.93), (S.IN_DAM, 0.9)):
        if rng.random() > p:
            break
        path.append(nxt.value)
    if rng.random() < 0.025:
        path.append(S.WITHDRAWN.value)
    return path


@dataclass
class _Context:
    first_id: int
    now: dt.datetime
    sites: list[int]
    groups: dict[str, list[int]]
    participant_columns: list[str]
    participant_defaults: dict[str, Any]
    seed: int


def _participant_columns() -> tuple[list[str], dict[str, Any]]:
    """Every concrete column of Participant with its default ("" for text), so that columns
    added later by other features are filled in too."""
    columns: list[str] = []
    defaults: dict[str, Any] = {}
    for field in Participant._meta.concrete_fields:
        column = str(field.column)
        columns.append(column)
        defaults[column] = field.get_default()
    return columns, defaults


def _generate(
    ctx: _Context, start: int, count: int
) -> tuple[list[tuple], list[tuple], list[tuple]]:
    rng = random.Random(ctx.seed * 1_000_003 + start)
    people, vault, steps = [], [], []
    for offset in range(count):
        number = start + offset
        pid = ctx.first_id + number
        roll = rng.random()
        group = "general" if roll < 0.6 else ("rare_disease" if roll < 0.8 else "severe_disease")
        cohort_ids = ctx.groups.get(group) or ctx.groups["general"]
        cohort_id = cohort_ids[number % len(cohort_ids)]
        patient = group != "general"
        registered_at = _registration_time(rng, ctx.now)
        # Volunteers who registered online and never booked have no site yet.
        site_id = None if (not patient and rng.random() < 0.04) else rng.choice(ctx.sites)
        age = int(rng.triangular(0 if patient else 19, 85, 52 if patient else 45))
        if not patient:
            age = max(age, 19)
        birth_date = dt.date(registered_at.year - age, 1, 1) + dt.timedelta(days=rng.randrange(365))
        birth_date = min(birth_date, registered_at.date())
        sex = "female" if rng.random() < 0.52 else "male"
        # Walk the funnel with delays, stopping where the clock stops.
        at, status, status_at = registered_at, S.REGISTERED.value, registered_at
        path = _path(rng, patient)
        previous = ""
        for i, to_status in enumerate(path):
            if i:
                at = at + dt.timedelta(hours=rng.expovariate(1 / (24 * 9)) + 1)
                if at > ctx.now:
                    break
            steps.append((pid, previous, to_status, at, site_id, cohort_id, ""))
            previous, status, status_at = to_status, to_status, at
        row = dict(ctx.participant_defaults)
        row.update(
            id=pid,
            code=participant_code_for(pid),
            kind="patient" if patient else "volunteer",
            user_id=None,
            site_id=site_id,
            cohort_id=cohort_id,
            status=status,
            birth_year=birth_date.year,
            sex=sex,
            external_ref=f"EMR-{pid}" if patient and site_id else "",
            is_minor=age < 19,
            registered_at=registered_at,
            status_changed_at=status_at,
        )
        people.append(tuple(row.get(c) for c in ctx.participant_columns))
        vault.append(_vault_row(rng, pid, birth_date, age))
    return people, vault, steps


def _vault_row(rng: random.Random, pid: int, birth: dt.date, age: int) -> tuple:
    surname = rng.choice(SURNAMES)
    given = rng.choice(GIVEN) + rng.choice(GIVEN)
    minor = age < 19
    profile = Profile(
        name=surname + given,
        latin_name=f"{LATIN_SURNAMES.get(surname, 'Han')} Synthetic",
        birth_date=birth,
        phone="" if minor else synthetic_phone(pid),
        email=synthetic_email(pid),
        address=f"{rng.choice(STREETS)} {rng.randrange(1, 300)}",
        guardian_name=(rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN))
        if minor
        else "",
        guardian_phone=synthetic_phone(pid + 50_000_000) if minor else "",
        guardian_relationship="부모" if minor else "",
    )
    row = personal_data_build(participant_id=pid, profile=profile)
    return (
        pid,
        *(getattr(row, f) for f in ENCRYPTED_FIELDS),
        row.key_id,
        row.email_index,
        row.phone_index,
        row.name_birth_index,
    )


def _text(value: Any) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


def _copy(table: str, columns: list[str], rows: list[tuple]) -> None:
    """COPY ``rows`` into ``table``, formatted here in one go (much faster than row by row)."""
    payload = "".join("\t".join(map(_text, row)) + "\n" for row in rows)
    raw: Any = connection.connection
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(sql) as copy:
        copy.write(payload)


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
        _copy(Participant._meta.db_table, ctx.participant_columns, people)
        _copy(
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
        _copy(
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
    crypto.keyring()  # fail before forking if the keys are misconfigured
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
