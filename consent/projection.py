"""``ConsentState``: the consent of each participant, folded from their ledger.

One pure function (``state_fold``) is the only definition of "the consent of P at time T". The
live projection (after every event, in the same transaction), ``state_rebuild_all``, the checks
"now" and "as of T", FHIR and the participant's own page all read its answer.

The fold, for the events of one participant and a time T (``at``; ``None`` means every event):

1. Voids and the events they void are removed, whenever the void was signed: a consent that
   failed its quality check never counted, and neither did what it carried (its choices, its
   version, its first "yes" times).
2. The remaining events signed at or before T are taken in *signed-at* order, ties broken by
   sequence (the order they were recorded in).
3. In that order: grant / reconsent / update put that version and those choices in force (each
   item's first "yes" time is the earliest signed-at time it was "yes", and is never moved by a
   later "no"); a withdrawal sets the status ``withdrawn`` with its level and the fate of samples,
   the choices staying as they were (what was allowed matters to the checks of use). An update
   counts only while a consent is in force (status ``active``): a change to a consent that was
   voided, or made after a withdrawal, carries nothing.
4. With no consent left but a voided one signed at or before T, the status is ``voided`` (the
   participant is asked to sign again).
5. Coming of age (a ``majority`` event, written on the 19th birthday of a participant enrolled as
   a minor) while a legal representative's consent is in force sets ``majority_since``: the
   consent is ``reconsent_due`` until the participant signs in their own name (a grant or
   re-consent signed by themselves clears it). Being in the ledger, a rebuild keeps it.

The current state is ``state_fold(events)``; ``state_fold(events, at=T)`` the state as of T. The
ledger never holds an event signed after it was recorded (``event_append`` refuses it), so every
event is signed at or before now and ``current == as_of(now)`` by construction.

Back-dated events (a paper form entered days after it was signed) take their place by signed-at
time, not by when they were entered: a paper consent signed on Monday and entered on Friday sits
before a web change signed on Wednesday, so the web change stays in force; the answers "as of"
Tuesday change once the paper is entered, because the ledger then knows more about Tuesday.
Recording time only breaks ties between events signed at the same moment.

A consent on a version that a newer active version replaced with different items is
``reconsent_due`` (see ``consent.selectors.activation``): earlier choices stand until the participant acts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Protocol

from django.db import transaction
from django.db.models.functions import Now
from django.utils import timezone

from .ledger import format_time
from .models import (
    ConsentEvent,
    ConsentState,
    ConsentVersion,
    EventKind,
    SignerKind,
    StateStatus,
)

CONSENTING_KINDS = frozenset({EventKind.GRANT, EventKind.RECONSENT, EventKind.UPDATE})

# The fields that are the answer (the others are bookkeeping of the projection).
ANSWER_FIELDS = (
    "version_id",
    "status",
    "choices",
    "first_granted_at",
    "signed_at",
    "withdrawal_level",
    "samples_fate",
    "majority_since",
)


class FoldEvent(Protocol):
    """What the fold reads of an event (a ``ConsentEvent`` or a lighter record of one)."""

    pk: int
    kind: str
    version_id: int | None
    choices: dict[str, bool]
    signed_at: datetime
    withdrawal_level: str
    samples_fate: str
    voids_id: int | None
    signer_kind: str


@dataclass
class StateData:
    version_id: int | None = None
    status: str = ""
    choices: dict[str, bool] = field(default_factory=dict)
    first_granted_at: dict[str, str] = field(default_factory=dict)
    signed_at: datetime | None = None
    withdrawal_level: str = ""
    samples_fate: str = ""
    majority_since: datetime | None = None
    last_event_id: int | None = None
    event_count: int = 0

    def as_fields(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def answer(self) -> dict[str, Any]:
        """The consent itself, without the projection's bookkeeping (last event, count)."""
        return {name: getattr(self, name) for name in ANSWER_FIELDS}


def events_in_force(events: Sequence[FoldEvent], *, at: datetime | None = None) -> list[FoldEvent]:
    """Rules 1 and 2 of the fold: no voids nor voided events, signed by ``at``, signed-at order.

    ``events`` are one participant's in sequence order (their position breaks signed-at ties).
    """
    voided = {e.voids_id for e in events if e.kind == EventKind.VOID}
    kept = [
        (e.signed_at, index, e)
        for index, e in enumerate(events)
        if e.kind != EventKind.VOID and e.pk not in voided and (at is None or e.signed_at <= at)
    ]
    kept.sort(key=lambda row: (row[0], row[1]))
    return [e for _signed_at, _index, e in kept]


def _fold(events: Sequence[FoldEvent], at: datetime | None) -> StateData:
    state = StateData()
    by_representative = False
    for event in events_in_force(events, at=at):
        if event.kind == EventKind.MAJORITY:
            # Coming of age matters while a representative's consent is in force.
            if by_representative and state.status in (StateStatus.ACTIVE, StateStatus.WITHDRAWN):
                state.majority_since = state.majority_since or event.signed_at
            continue
        _step(state, event)
        if event.kind in (EventKind.GRANT, EventKind.RECONSENT):
            by_representative = event.signer_kind == SignerKind.LEGAL_REPRESENTATIVE
            if not by_representative:
                state.majority_since = None  # the adult signed in their own name
    if not state.status:
        voided = {e.voids_id for e in events if e.kind == EventKind.VOID}
        if any(
            e.pk in voided and e.kind in CONSENTING_KINDS and (at is None or e.signed_at <= at)
            for e in events
        ):
            state = StateData(status=StateStatus.VOIDED)
    return state


def _step(state: StateData, event: FoldEvent) -> None:
    """Apply one event (never a void: voids are taken out before the fold)."""
    if event.kind == EventKind.UPDATE and state.status != StateStatus.ACTIVE:
        # A change of choices changes a consent in force; with none (never given, voided,
        # withdrawn) there is nothing for it to change.
        return
    if event.kind in CONSENTING_KINDS:
        state.version_id = event.version_id
        state.status = StateStatus.ACTIVE
        state.choices = {code: bool(v) for code, v in event.choices.items()}
        for code, granted in state.choices.items():
            if granted and code not in state.first_granted_at:
                state.first_granted_at[code] = format_time(event.signed_at)
        state.signed_at = event.signed_at
        state.withdrawal_level = ""
        state.samples_fate = ""
    elif event.kind == EventKind.WITHDRAW:
        state.status = StateStatus.WITHDRAWN
        state.withdrawal_level = event.withdrawal_level
        state.samples_fate = event.samples_fate
        if state.version_id is None:
            state.version_id = event.version_id


def state_fold(
    events: Sequence[FoldEvent],
    *,
    needs_reconsent: Callable[[int], bool],
    at: datetime | None = None,
) -> StateData:
    """The consent after ``events`` (one participant's, in sequence order), or as of ``at``.

    ``last_event_id`` and ``event_count`` describe the chain the state was folded from (its head
    and length), whatever ``at`` is.
    """
    state = _fold(events, at)
    if events:
        state.last_event_id = events[-1].pk
        state.event_count = len(events)
    return _reconsent_applied(state, needs_reconsent)


def state_fold_next(
    previous: StateData, event: FoldEvent, *, needs_reconsent: Callable[[int], bool]
) -> StateData:
    """The state after one more event, from ``state_fold`` of the events before it.

    Only for an event that comes last in signed-at order too (signed at or after every event
    before it) and is not a void; ``state_advance`` folds the whole chain for the others. Then it
    is the same step as ``state_fold`` takes, so both give the same answer.
    """
    if event.kind == EventKind.VOID:
        raise ValueError("a void is folded from the whole chain (state_fold)")
    state = StateData(
        **{
            **previous.as_fields(),
            "choices": dict(previous.choices),
            "first_granted_at": dict(previous.first_granted_at),
        }
    )
    # ``reconsent_due`` is ``active`` as seen from outside the fold; undo it before the step.
    if state.status == StateStatus.RECONSENT_DUE:
        state.status = StateStatus.ACTIVE
    # ``voided`` means "no consent in force": the next step starts from nothing, and stays
    # ``voided`` if it puts nothing in force either.
    was_voided = state.status == StateStatus.VOIDED
    if was_voided:
        state = StateData()
    _step(state, event)
    if was_voided and not state.status:
        state.status = StateStatus.VOIDED
    state.last_event_id = event.pk
    state.event_count = previous.event_count + 1
    return _reconsent_applied(state, needs_reconsent)


def _reconsent_applied(state: StateData, needs_reconsent: Callable[[int], bool]) -> StateData:
    if state.status == StateStatus.ACTIVE and (
        state.majority_since is not None
        or (state.version_id is not None and needs_reconsent(state.version_id))
    ):
        state.status = StateStatus.RECONSENT_DUE
    return state


class ReconsentRule:
    """Memoised "does a consent on this version have to be renewed?" (per version id)."""

    def __init__(self, *, known: ConsentVersion | None = None) -> None:
        self._answers: dict[int, bool] = {}
        if known is not None and known.status == ConsentVersion.Status.ACTIVE:
            # An active version never needs renewing (as ``_version_needs_reconsent`` says);
            # ``known`` was just read in the caller's transaction, so no need to read it again.
            self._answers[known.pk] = False

    @staticmethod
    def never(version_id: int) -> bool:
        """For folds whose caller labels re-consent itself (the checks "as of T")."""
        return False

    def __call__(self, version_id: int) -> bool:
        if version_id not in self._answers:
            self._answers[version_id] = _version_needs_reconsent(version_id)
        return self._answers[version_id]


def _version_needs_reconsent(version_id: int) -> bool:
    from .selectors.activation import older_versions_needing_reconsent

    version = ConsentVersion.objects.only("form_id", "language", "status").get(pk=version_id)
    if version.status == ConsentVersion.Status.ACTIVE:
        return False
    active = ConsentVersion.objects.filter(
        form_id=version.form_id, language=version.language, status=ConsentVersion.Status.ACTIVE
    ).first()
    if active is None:
        return False
    return version_id in older_versions_needing_reconsent(active)


def state_refresh(*, participant_id: int) -> ConsentState:
    """Fold the participant's events into their ``ConsentState`` (call under the participant lock)."""
    events = list(ConsentEvent.objects.filter(participant_id=participant_id).order_by("sequence"))
    data = state_fold(events, needs_reconsent=ReconsentRule())
    state, _created = ConsentState.objects.update_or_create(
        participant_id=participant_id, defaults={**data.as_fields(), "updated_at": Now()}
    )
    return state


def state_advance(
    *,
    event: ConsentEvent,
    before: ConsentState | None,
    previous_event_id: int | None,
    version: ConsentVersion | None = None,
) -> ConsentState:
    """``state_refresh`` after appending ``event``, without reading the chain again.

    ``before`` is the participant's state read under the same lock, ``previous_event_id`` the
    chain's head before ``event``. The new state is ``state_fold_next`` of the stored one, which
    is what ``state_fold`` of the whole chain gives, as long as the stored state is the fold of
    exactly the events before ``event``: its last event and count say so. If not (a void, a
    state missing or behind), the whole chain is folded again. ``version``, when given, is the
    event's version as read in this transaction (saves reading it again for the re-consent rule).
    """
    participant_id = event.participant_id
    if before is None:
        trusted = previous_event_id is None
        previous = StateData()
    else:
        trusted = (
            before.last_event_id == previous_event_id and before.event_count == event.sequence - 1
        )
        previous = StateData(**{name: getattr(before, name) for name in _STATE_FIELDS})
    # A void, and an event signed before it was recorded (a paper form entered late), may not come
    # last in signed-at order: the whole chain is folded again. An event signed when it was
    # recorded comes after every earlier one (each was signed at or before it was recorded).
    back_dated = event.signed_at != event.recorded_at
    # Coming of age depends on who signed the consent in force, which the state does not keep.
    majority = event.kind == EventKind.MAJORITY or previous.majority_since is not None
    if event.kind == EventKind.VOID or back_dated or majority or not trusted:
        return state_refresh(participant_id=participant_id)
    data = state_fold_next(previous, event, needs_reconsent=ReconsentRule(known=version))
    values = {**data.as_fields(), "updated_at": Now()}
    if before is None:
        return ConsentState.objects.create(participant_id=participant_id, **values)
    ConsentState.objects.filter(participant_id=participant_id).update(**values)
    for name, value in values.items():
        setattr(before, name, value)
    return before


_STATE_FIELDS = tuple(f.name for f in fields(StateData))


def _chains(events: Iterable[ConsentEvent]) -> Iterable[tuple[int, list[ConsentEvent]]]:
    current: list[ConsentEvent] = []
    for event in events:
        if current and event.participant_id != current[0].participant_id:
            yield current[0].participant_id, current
            current = []
        current.append(event)
    if current:
        yield current[0].participant_id, current


def state_rebuild_all(*, batch: int = 5_000) -> int:
    """Rebuild every ``ConsentState`` from the ledger; returns how many states were written."""
    rule = ReconsentRule()
    written = 0
    pending: list[ConsentState] = []
    columns = [f.name for f in fields(StateData)] + ["updated_at"]

    def flush() -> None:
        ConsentState.objects.bulk_create(
            pending,
            update_conflicts=True,
            unique_fields=["participant"],
            update_fields=columns,
        )
        pending.clear()

    with transaction.atomic():
        stream = ConsentEvent.objects.order_by("participant_id", "sequence").iterator(
            chunk_size=batch
        )
        now = timezone.now()
        for participant_id, events in _chains(stream):
            data = state_fold(events, needs_reconsent=rule)
            pending.append(
                ConsentState(participant_id=participant_id, updated_at=now, **data.as_fields())
            )
            written += 1
            if len(pending) >= batch:
                flush()
        if pending:
            flush()
        # A state without any event cannot come from the ledger.
        ConsentState.objects.filter(last_event__isnull=True).delete()
    return written
