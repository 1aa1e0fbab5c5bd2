"""Synthetic consent ledgers for ``manage.py seed_synthetic`` (demos and benchmarks).

Connected to ``enrollment.seeding.synthetic_participants_seeded``: after the enrollment app has
written its participants, every participant whose funnel reached "consented" gets a ledger that
tells a plausible story, about three events each:

* a grant when they consented (on the version in force then: the synthetic form has a v1 from
  January 2024 and a v2, adding ``overseas_transfer``, from July 2025);
* nearly all change an optional item later, many twice or three times;
* most of those who consented on v1 re-consent on v2 within a few months; the rest stay
  "re-consent due";
* those whom the funnel withdrew withdraw, at a level, with a fate for their samples.

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

from .activation import older_versions_needing_reconsent, version_activate
from .ledger import HASHED_FIELDS, event_hash, format_time, verification_code
from .models import (
    ConsentEvent,
    ConsentForm,
    ConsentState,
    ConsentVersion,
    EventKind,
)
from .projection import state_fold

__all__ = ["ConsentSeedResult", "consent_ledgers_seed"]

FORM_CODE = "synthetic-main"
V1_FROM = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
V2_FROM = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)
CHUNK = 20_000

# How often an optional item is answered "yes" (the rest: "no").
YES_RATE = {
    "genomic_analysis": 0.86,
    "ehr_linkage": 0.8,
    "recontact": 0.74,
    "return_of_results": 0.66,
    "commercial_use": 0.41,
    "overseas_transfer": 0.38,
}
ITEMS_V1 = [
    ("data_sharing", True, ["DUO:0000042"]),
    ("sample_storage", True, ["DUO:0000042"]),
    ("retention_period", True, []),
    ("withdrawal_handling", True, []),
    ("third_party_provision", True, []),
    ("genomic_analysis", False, ["DUO:0000016"]),
    ("ehr_linkage", False, []),
    ("recontact", False, []),
    ("return_of_results", False, []),
    ("commercial_use", False, ["DUO:0000018"]),
]
ITEMS_V2 = [*ITEMS_V1, ("overseas_transfer", False, [])]


@dataclass(frozen=True)
class ConsentSeedResult:
    participants: int
    events: int
    seconds: float


@dataclass(frozen=True)
class _Version:
    id: int
    sha256: str
    required: tuple[str, ...]
    optional: tuple[str, ...]


@dataclass(frozen=True)
class _Plan:
    old: _Version | None
    active: _Version
    active_from: dt.datetime
    now: dt.datetime
    seed: int


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


# --- versions -------------------------------------------------------------------------------------


def _version_info(version: ConsentVersion) -> _Version:
    items = list(version.items.all())
    return _Version(
        id=version.pk,
        sha256=version.text_sha256,
        required=tuple(i.code for i in items if i.required),
        optional=tuple(i.code for i in items if not i.required),
    )


def _create_synthetic_form() -> None:
    from .services.versions import ItemSpec, version_approve, version_create

    form = ConsentForm.objects.create(code=FORM_CODE, title="Synthetic main consent", kind="main")
    for label, items, active_from in (("v1", ITEMS_V1, V1_FROM), ("v2", ITEMS_V2, V2_FROM)):
        version = version_create(
            form=form,
            label=label,
            language="ko",
            title=f"Synthetic main consent {label}",
            body_markdown=f"Synthetic consent text, version {label}.",
            items=[
                ItemSpec(code, code.replace("_", " "), f"Do you agree to {code}?", req, duo)
                for code, req, duo in items
            ],
            irb_approval_number=f"SYN-{label}",
            irb_approved_on=(active_from - dt.timedelta(days=30)).date(),
            by=None,
        )
        version = version_approve(version=version, by=None)
        from portal.models import User

        version_activate(version=version, by=cast(User, None), at=active_from)


def _plan(now: dt.datetime, seed: int) -> _Plan:
    """The synthetic form's versions (created on first use)."""
    if not ConsentForm.objects.filter(code=FORM_CODE).exists():
        with transaction.atomic():
            _create_synthetic_form()
    active = (
        ConsentVersion.objects.prefetch_related("items")
        .filter(form__code=FORM_CODE, language="ko", status=ConsentVersion.Status.ACTIVE)
        .get()
    )
    older = older_versions_needing_reconsent(active)
    old = (
        ConsentVersion.objects.prefetch_related("items")
        .filter(pk__in=list(older))
        .order_by("-activated_at")
        .first()
    )
    return _Plan(
        old=_version_info(old) if old else None,
        active=_version_info(active),
        active_from=active.activated_at or V2_FROM,
        now=now,
        seed=seed,
    )


# --- generating one participant's ledger ----------------------------------------------------------


def _choices(rng: random.Random, version: _Version, keep: dict[str, bool] | None = None) -> dict:
    choices = {code: True for code in version.required}
    for code in version.optional:
        if keep is not None and code in keep:
            choices[code] = keep[code]
        else:
            choices[code] = rng.random() < YES_RATE.get(code, 0.7)
    return choices


def _story(
    rng: random.Random,
    plan: _Plan,
    consented_at: dt.datetime,
    withdrawn_at: dt.datetime | None,
) -> list[dict[str, Any]]:
    """The events (without hashes) of one participant, in order."""
    end = withdrawn_at or plan.now
    on_old = plan.old is not None and consented_at < plan.active_from
    version = plan.old if on_old and plan.old is not None else plan.active
    choices = _choices(rng, version)
    events = [{"kind": EventKind.GRANT, "version": version, "choices": choices, "at": consented_at}]
    at = consented_at
    for chance in (0.95, 0.75, 0.45):
        if rng.random() >= chance:
            break
        candidate = at + dt.timedelta(days=rng.uniform(2, 120))
        if candidate >= end or (on_old and candidate >= plan.active_from):
            break  # (a change after v2 came into force happens through re-consent instead)
        at = candidate
        choices = dict(choices)
        flip = rng.choice(version.optional)
        choices[flip] = not choices[flip]
        events.append({"kind": EventKind.UPDATE, "version": version, "choices": choices, "at": at})
    if on_old and rng.random() < 0.65:
        candidate = max(at, plan.active_from) + dt.timedelta(days=rng.expovariate(1 / 45) + 0.1)
        if candidate < end:
            at = candidate
            choices = _choices(rng, plan.active, keep=choices)
            events.append(
                {"kind": EventKind.RECONSENT, "version": plan.active, "choices": choices, "at": at}
            )
            version = plan.active
    if withdrawn_at is not None and withdrawn_at > at:
        roll = rng.random()
        level = (
            "no_further_contact"
            if roll < 0.3
            else ("no_further_collection" if roll < 0.6 else "no_further_use")
        )
        fate = "" if level != "no_further_use" else rng.choice(["destroy", "retain_anonymized"])
        events.append(
            {
                "kind": EventKind.WITHDRAW,
                "version": version,
                "choices": choices,
                "at": withdrawn_at,
                "level": level,
                "fate": fate,
            }
        )
    return events


def _channel(rng: random.Random) -> tuple[str, str, float]:
    """Channel, method, and how late it is recorded (hours)."""
    roll = rng.random()
    if roll < 0.7:
        return "web", "typed_name", 0.0
    if roll < 0.9:
        return "site_tablet", "drawn", 0.0
    return "scanned_paper", "paper", rng.uniform(4, 24 * 6)


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
    from enrollment.seeding import _text

    payload = "".join("\t".join(map(_text, row)) + "\n" for row in rows)
    raw: Any = connection.connection
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        copy.write(payload)


def _never_reconsent(version_id: int) -> bool:
    return False


def _chunk_write(plan: _Plan, first_id: int, last_id: int) -> tuple[int, int]:
    connection.ensure_connection()
    people = _consented(first_id, last_id)
    rng = random.Random(plan.seed * 7_919 + first_id)
    stories = [(pid, _story(rng, plan, at, withdrawn)) for pid, at, withdrawn in people]
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
            channel, method, late_hours = _channel(rng)
            signed_at: dt.datetime = step["at"]
            recorded = max(
                min(signed_at + dt.timedelta(hours=late_hours, seconds=rng.uniform(0.2, 3)), now),
                recorded + dt.timedelta(microseconds=1),
            )
            version: _Version = step["version"]
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


_worker_plan: _Plan | None = None


def _worker_init(plan: _Plan) -> None:
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
    plan = _plan(seeded_at or timezone.now(), seed if seed is not None else first_id)
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
