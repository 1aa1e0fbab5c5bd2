"""The participant status funnel: the one way a participant's status changes.

Every step is an append-only ``StatusTransition`` row and moves the pre-aggregated counts
(``FunnelDaily``, ``FunnelMonthly``, ``FunnelCurrent``) in the same transaction, so dashboards can
trust those small tables and never scan participants.

Allowed steps::

    "" -> registered                      (participant_record_created)
    registered -> eligible | ineligible   (screening)
    ineligible -> eligible                (re-screening)
    eligible -> consented
    consented -> sample_collected -> in_dam
    consented -> eligible                 (an in-person consent voided by quality control)
    any state except withdrawn -> withdrawn

A participant who moves to another site keeps their status; ``participant_site_change`` records
that as a step from a status to itself, so the log alone still says where everyone is.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.korean import particle_format
from portal.models import User

from ..models import (
    NO_SITE,
    AgeBand,
    FunnelCurrent,
    FunnelDaily,
    FunnelMonthly,
    Participant,
    ParticipantStatus,
    Site,
    StatusTransition,
)
from . import _bulk as bulk

__all__ = [
    "ALLOWED_STEPS",
    "IllegalTransition",
    "age_band_of",
    "aggregates_add",
    "participant_record_created",
    "participant_site_change",
    "participant_transition",
    "participants_record_created_bulk",
    "status_changed",
]

S = ParticipantStatus
SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")

ALLOWED_STEPS: dict[str, frozenset[str]] = {
    S.REGISTERED: frozenset({S.ELIGIBLE, S.INELIGIBLE, S.WITHDRAWN}),
    S.INELIGIBLE: frozenset({S.ELIGIBLE, S.WITHDRAWN}),
    S.ELIGIBLE: frozenset({S.CONSENTED, S.WITHDRAWN}),
    S.CONSENTED: frozenset({S.SAMPLE_COLLECTED, S.ELIGIBLE, S.WITHDRAWN}),
    S.SAMPLE_COLLECTED: frozenset({S.IN_DAM, S.WITHDRAWN}),
    S.IN_DAM: frozenset({S.WITHDRAWN}),
    S.WITHDRAWN: frozenset(),
}

# Sent after the transaction commits: (sender=Participant, participant_id, from_status, to_status).
# Other apps react here rather than the funnel knowing them.
status_changed = Signal()

REASON_MAX = 255


class IllegalTransition(ValidationError):
    """A step the funnel does not allow; the message says which and why, in plain words."""


def _label(status: str) -> str:
    return str(ParticipantStatus(status).label) if status else str(_("(new)"))


def age_band_of(*, birth_year: int, registered_at: dt.datetime) -> str:
    """The stable age band of a participant: age in the year of registration."""
    return AgeBand.for_age(timezone.localtime(registered_at, SEOUL).year - birth_year).value


def _registered_at(participant: Participant) -> dt.datetime:
    value: object = participant.registered_at
    if not isinstance(value, dt.datetime):
        # A fresh instance whose registered_at came from the database default.
        participant.refresh_from_db(fields=["registered_at"])
        value = participant.registered_at
    assert isinstance(value, dt.datetime)
    return value


# --- Aggregates -------------------------------------------------------------------------------

DailyKey = tuple[dt.date, int, int, str]
CurrentKey = tuple[int, int, str, str, str]


_CHUNK = 1000


def _upsert_sql(
    table: str, key_columns: Sequence[str], items: Sequence[tuple[Any, int]]
) -> tuple[str, list[Any]]:
    """One ``INSERT ... ON CONFLICT`` adding each item's count to ``table``'s ``n``."""
    columns = ", ".join([*key_columns, "n"])
    conflict = ", ".join(key_columns)
    one_row = "(" + ", ".join(["%s"] * (len(key_columns) + 1)) + ")"
    params: list[Any] = []
    for key, n in items:
        params.extend(key)
        params.append(n)
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES {', '.join([one_row] * len(items))} "  # noqa: S608
        f"ON CONFLICT ({conflict}) DO UPDATE SET n = {table}.n + excluded.n"
    )
    return sql, params


def _upserts(tables: Sequence[tuple[str, Sequence[str], Counter[Any]]]) -> None:
    """Add each table's deltas (key tuple -> signed count) to its ``n``, race-safe.

    Keys are written in sorted order, and the tables always in the same order, so that two
    transactions touching the same rows lock them in the same order (no deadlock). On PostgreSQL
    the usual few rows go in one statement (one round trip for all the tables); bulk changes go
    in chunks of 1,000 rows per table.
    """
    statements = []
    chunked = False
    for table, key_columns, deltas in tables:
        items = sorted((key, n) for key, n in deltas.items() if n)
        chunked = chunked or len(items) > _CHUNK
        for start in range(0, len(items), _CHUNK):
            statements.append(_upsert_sql(table, key_columns, items[start : start + _CHUNK]))
    if not statements:
        return
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not chunked:
            # Every table's rows in one statement: PostgreSQL runs each data-modifying WITH part
            # to completion within it, always in the same order, and each touches its own table.
            *before, last = statements
            with_parts = ", ".join(
                f"u{i} AS ({sql} RETURNING 1)" for i, (sql, _) in enumerate(before)
            )
            sql = f"WITH {with_parts} {last[0]}" if before else last[0]
            cursor.execute(sql, [p for _, params in statements for p in params])
            return
        for sql, params in statements:
            cursor.execute(sql, params)


def aggregates_add(*, entered: Counter[DailyKey], current: Counter[CurrentKey]) -> None:
    """Apply counted changes: ``entered`` (day, site, cohort, status) -> participants entering a
    status; ``current`` (site, cohort, status, age band, sex) -> change in how many are there now."""
    monthly: Counter[DailyKey] = Counter()
    for (day, site_id, cohort_id, status), n in entered.items():
        monthly[(day.replace(day=1), site_id, cohort_id, status)] += n
    _upserts(
        [
            (FunnelDaily._meta.db_table, ["day", "site_id", "cohort_id", "status"], entered),
            (FunnelMonthly._meta.db_table, ["month", "site_id", "cohort_id", "status"], monthly),
            (
                FunnelCurrent._meta.db_table,
                ["site_id", "cohort_id", "status", "age_band", "sex"],
                current,
            ),
        ]
    )


def _site(participant: Participant) -> int:
    return participant.site_id or NO_SITE


# --- Services ---------------------------------------------------------------------------------


@transaction.atomic
def participant_record_created(*, participant: Participant, actor: User | None) -> StatusTransition:
    """Record the first step ("" -> registered) of a participant just created in this transaction."""
    return participants_record_created_bulk(participants=[participant], actor=actor)[0]


@transaction.atomic
def participants_record_created_bulk(
    *, participants: Sequence[Participant], actor: User | None
) -> list[StatusTransition]:
    """The bulk form of ``participant_record_created`` for imports and seeding: one insert of
    transitions and one upsert per aggregate table, however many participants."""
    if not participants:
        return []
    rows = []
    entered: Counter[DailyKey] = Counter()
    current: Counter[CurrentKey] = Counter()
    for participant in participants:
        if participant.pk is None:
            raise ValueError("participants must be saved before their creation is recorded")
        if participant.status != S.REGISTERED:
            raise IllegalTransition(
                particle_format(
                    _("A new participant starts as “%(registered)s”, not “%(status)s”."),
                    {"registered": _label(S.REGISTERED), "status": _label(participant.status)},
                )
            )
        at = _registered_at(participant)
        site_id = _site(participant)
        rows.append(
            StatusTransition(
                participant=participant,
                from_status="",
                to_status=S.REGISTERED,
                at=at,
                actor=actor,
                site_id_at=participant.site_id,
                cohort_id_at=participant.cohort_id,
            )
        )
        day = timezone.localtime(at, SEOUL).date()
        entered[(day, site_id, participant.cohort_id, S.REGISTERED.value)] += 1
        band = age_band_of(birth_year=participant.birth_year, registered_at=at)
        current[(site_id, participant.cohort_id, S.REGISTERED.value, band, participant.sex)] += 1
    # COPY on PostgreSQL (imports insert thousands of steps at once); bulk_create elsewhere.
    created = bulk.insert_models(rows)
    aggregates_add(entered=entered, current=current)
    return created


def participant_transition(
    *,
    participant: Participant,
    to_status: ParticipantStatus | str,
    actor: User | None,
    reason: str = "",
    at: dt.datetime | None = None,
    already_locked: bool = False,
) -> StatusTransition:
    """Move ``participant`` to ``to_status`` or refuse with ``IllegalTransition``.

    The participant row is locked first, so two concurrent steps of the same participant are
    decided one after the other against the status the first one left. A caller that has already
    locked the row in this transaction (``select_for_update``) and passes that very instance says
    ``already_locked=True``: it is then used as it is instead of being read again, and the step
    runs in the caller's transaction without a savepoint of its own (an error in it rolls back the
    caller's whole transaction, lock included).
    """
    if already_locked and not transaction.get_connection().in_atomic_block:
        raise RuntimeError("already_locked needs the caller's transaction holding the lock")
    with transaction.atomic(savepoint=not already_locked):
        if to_status not in ParticipantStatus.values:
            raise IllegalTransition(
                particle_format(
                    _("“%(status)s” is not a participant status."), {"status": to_status}
                )
            )
        to_status = ParticipantStatus(to_status)
        if len(reason) > REASON_MAX:
            raise ValidationError(
                _("The reason may be at most %(max)d characters long.") % {"max": REASON_MAX}
            )
        at = at or timezone.now()
        if already_locked:
            locked = participant
        else:
            locked = Participant.objects.select_for_update().get(pk=participant.pk)
        from_status = locked.status
        if to_status not in ALLOWED_STEPS.get(from_status, frozenset()):
            raise IllegalTransition(_illegal_message(from_status, to_status))
        transition = StatusTransition(
            participant=locked,
            from_status=from_status,
            to_status=to_status,
            at=at,
            actor=actor,
            site_id_at=locked.site_id,
            cohort_id_at=locked.cohort_id,
            reason=reason,
        )
        locked.status = to_status
        locked.status_changed_at = at
        _step_write(transition, locked)
        participant.status = to_status
        participant.status_changed_at = at

        site_id = _site(locked)
        band = age_band_of(birth_year=locked.birth_year, registered_at=_registered_at(locked))
        day = timezone.localtime(at, SEOUL).date()
        current: Counter[CurrentKey] = Counter()
        current[(site_id, locked.cohort_id, from_status, band, locked.sex)] -= 1
        current[(site_id, locked.cohort_id, to_status.value, band, locked.sex)] += 1
        aggregates_add(
            entered=Counter({(day, site_id, locked.cohort_id, to_status.value): 1}), current=current
        )
        participant_id = locked.pk
        transaction.on_commit(
            lambda: status_changed.send(
                sender=Participant,
                participant_id=participant_id,
                from_status=from_status,
                to_status=to_status.value,
            )
        )
        return transition


def _step_write(transition: StatusTransition, participant: Participant) -> None:
    """Insert the step and set the participant's status; on PostgreSQL in one statement (consent
    signing takes this step on every signature), elsewhere as two saves."""
    if connection.vendor != "postgresql":
        transition.save(force_insert=True)
        participant.save(update_fields=["status", "status_changed_at"])
        return
    steps, people = StatusTransition._meta.db_table, Participant._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH step AS (INSERT INTO {steps} "  # noqa: S608
            "(participant_id, from_status, to_status, at, actor_id, site_id_at, cohort_id_at, "
            "reason) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id) "
            f"UPDATE {people} SET status = %s, status_changed_at = %s WHERE id = %s "
            "RETURNING (SELECT id FROM step)",
            [
                participant.pk,
                transition.from_status,
                transition.to_status,
                transition.at,
                transition.actor_id,
                transition.site_id_at,
                transition.cohort_id_at,
                transition.reason,
                participant.status,
                participant.status_changed_at,
                participant.pk,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        raise Participant.DoesNotExist(participant.pk)
    transition.pk = row[0]
    transition._state.adding = False
    transition._state.db = connection.alias


@transaction.atomic
def participant_site_change(
    *, participant: Participant, site: Site | None, actor: User | None, reason: str = ""
) -> StatusTransition:
    """Attach ``participant`` to another site (or none), keeping their status and the counts right."""
    if len(reason) > REASON_MAX:
        raise ValidationError(
            _("The reason may be at most %(max)d characters long.") % {"max": REASON_MAX}
        )
    locked = Participant.objects.select_for_update().get(pk=participant.pk)
    new_site_id = site.pk if site is not None else None
    if locked.site_id == new_site_id:
        raise ValidationError(_("The participant is already at this site."))
    at = timezone.now()
    transition = StatusTransition.objects.create(
        participant=locked,
        from_status=locked.status,
        to_status=locked.status,
        at=at,
        actor=actor,
        site_id_at=new_site_id,
        cohort_id_at=locked.cohort_id,
        reason=reason,
    )
    band = age_band_of(birth_year=locked.birth_year, registered_at=_registered_at(locked))
    current: Counter[CurrentKey] = Counter()
    current[(_site(locked), locked.cohort_id, locked.status, band, locked.sex)] -= 1
    current[(new_site_id or NO_SITE, locked.cohort_id, locked.status, band, locked.sex)] += 1
    aggregates_add(entered=Counter(), current=current)
    locked.site_id = new_site_id
    locked.save(update_fields=["site"])
    participant.site_id = new_site_id
    return transition


def _illegal_message(from_status: str, to_status: str) -> str:
    if from_status == to_status:
        return str(_("The participant is already “%(status)s”.") % {"status": _label(from_status)})
    if from_status == S.WITHDRAWN:
        return str(_("The participant has withdrawn; their status can no longer change."))
    allowed: Iterable[str] = sorted(ALLOWED_STEPS.get(from_status, frozenset()))
    return str(
        _(
            "A participant who is “%(from)s” cannot become “%(to)s”. "
            "Allowed next steps: %(allowed)s."
        )
        % {
            "from": _label(from_status),
            "to": _label(to_status),
            "allowed": ", ".join(f"“{_label(s)}”" for s in allowed),
        }
    )
