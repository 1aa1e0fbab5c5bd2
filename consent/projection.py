"""``ConsentState``: the current consent of each participant, folded from their ledger.

One pure function (``state_fold``) turns a participant's events into their state. The services call
it after every event, in the same transaction (a participant has a handful of events, so folding them
all is cheap and means the live projection and a rebuild can never disagree); ``state_rebuild_all``
streams the whole ledger through the same function.

Rules, in ledger order:

- grant / reconsent / update: that version and those choices are in force; each item's first "yes"
  time is kept (a later "no" and "yes" again does not move it);
- withdraw: status ``withdrawn`` with its level and the fate of samples; choices stay as they were
  (the history of what was allowed matters to the checks "as of T");
- void: the voided event never counted. The state is folded again from the events before it
  (other voided events excluded); with no consent left the status is ``voided`` (asked again).

A consent on a version that a newer active version replaced with different items is
``reconsent_due`` (see ``consent.selectors.activation``): earlier choices stand until the participant acts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models.functions import Now
from django.utils import timezone

from .ledger import format_time
from .models import ConsentEvent, ConsentState, ConsentVersion, EventKind, StateStatus

CONSENTING_KINDS = frozenset({EventKind.GRANT, EventKind.RECONSENT, EventKind.UPDATE})


@dataclass
class StateData:
    version_id: int | None = None
    status: str = ""
    choices: dict[str, bool] = field(default_factory=dict)
    first_granted_at: dict[str, str] = field(default_factory=dict)
    signed_at: datetime | None = None
    withdrawal_level: str = ""
    samples_fate: str = ""
    last_event_id: int | None = None
    event_count: int = 0

    def as_fields(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _fold(events: Sequence[ConsentEvent]) -> StateData:
    state = StateData()
    voided_ids = {e.voids_id for e in events if e.kind == EventKind.VOID}
    for index, event in enumerate(events):
        if event.kind == EventKind.VOID:
            target = next((e for e in events if e.pk == event.voids_id), None)
            before = [
                e
                for e in events[: events.index(target) if target is not None else index]
                if e.pk not in voided_ids and e.kind != EventKind.VOID
            ]
            state = _fold(before)
            if state.status in ("", StateStatus.VOIDED):
                state = StateData(status=StateStatus.VOIDED)
            continue
        _step(state, event)
    return state


def _step(state: StateData, event: ConsentEvent) -> None:
    """Apply one event other than a void (a void re-folds what came before it)."""
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
    events: Sequence[ConsentEvent], *, needs_reconsent: Callable[[int], bool]
) -> StateData:
    """The state after ``events`` (one participant's, in sequence order)."""
    state = _fold(events)
    if events:
        state.last_event_id = events[-1].pk
        state.event_count = len(events)
    return _reconsent_applied(state, needs_reconsent)


def state_fold_next(
    previous: StateData, event: ConsentEvent, *, needs_reconsent: Callable[[int], bool]
) -> StateData:
    """The state after one more event, from ``state_fold`` of the events before it.

    The same step as ``state_fold`` (so both give the same answer for the same events); only for
    events other than a void, which needs the earlier events themselves.
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
    _step(state, event)
    state.last_event_id = event.pk
    state.event_count = previous.event_count + 1
    return _reconsent_applied(state, needs_reconsent)


def _reconsent_applied(state: StateData, needs_reconsent: Callable[[int], bool]) -> StateData:
    if (
        state.status == StateStatus.ACTIVE
        and state.version_id is not None
        and needs_reconsent(state.version_id)
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
    if event.kind == EventKind.VOID or not trusted:
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
