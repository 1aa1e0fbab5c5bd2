"""What the dam must learn when consent changes: outbox rows in the transaction of the change.

``consent_event_recorded`` is sent inside the consent transaction with the participant's row
locked (``consent.signals``). A subject is registered with the dam when their consent first
allows data sharing (``subject.registered`` then ``consent.updated``); after that every consent
event becomes a ``consent.updated``, and a withdrawal a ``subject.withdrawn`` (sent at once). Nothing
about a participant whose consent never allowed data sharing is ever written here.
"""

from __future__ import annotations

from typing import Any

from consent.models import ConsentEvent, ConsentState, ConsentVersion, EventKind
from enrollment.models import Participant

from .models import MessageType
from .payloads import consent_payload, registered_payload, withdrawn_payload
from .services.outbox import Draft, subject_messages_add, subject_outbox_read
from .services.pseudonyms import pseudonym_of

SHARING_ITEM = "data_sharing"
_SHARING_STATES = {ConsentState.Status.ACTIVE, ConsentState.Status.RECONSENT_DUE}


def allows_sharing(state: ConsentState) -> bool:
    return state.status in _SHARING_STATES and bool(state.choices.get(SHARING_ITEM))


def on_consent_event_recorded(
    sender: Any, *, event: ConsentEvent, state: ConsentState, **kwargs: Any
) -> None:
    # Registered or withdrawn already, and the last sequence: one read, under the lock the consent
    # service holds.
    outbox = subject_outbox_read(event.participant_id)
    if outbox.withdrawn:
        return  # the dam refuses anything after a withdrawal
    if not outbox.registered and (event.kind == EventKind.WITHDRAW or not allows_sharing(state)):
        return  # never registered: the dam must not learn of this person at all
    current = _with_payload_relations(event, state, registering=not outbox.registered)
    participant = current.participant
    drafts = []
    if not outbox.registered:
        drafts.append(
            Draft(
                MessageType.SUBJECT_REGISTERED,
                registered_payload(participant, enrolled_at=current.signed_at or event.signed_at),
                event.signed_at,
            )
        )
    if event.kind == EventKind.WITHDRAW:
        drafts.append(
            Draft(
                MessageType.SUBJECT_WITHDRAWN,
                withdrawn_payload(
                    level=event.withdrawal_level,
                    effective_at=event.signed_at,
                    samples_fate=event.samples_fate,
                ),
                event.signed_at,
            )
        )
    else:
        drafts.append(
            Draft(
                MessageType.CONSENT_UPDATED,
                consent_payload(current, subject=pseudonym_of(participant=participant)),
                event.signed_at,
            )
        )
    subject_messages_add(participant=participant, drafts=drafts, outbox=outbox)


def _with_payload_relations(
    event: ConsentEvent, state: ConsentState, *, registering: bool
) -> ConsentState:
    """``state`` as just written, with what the payloads read: the participant (with cohort and
    site when registering), the version with its form and items, the last event.

    The consent service passes its state with the participant, the version it signed (form and
    items loaded) and the event; whatever is not already loaded is read here."""
    if state.last_event_id == event.pk:
        ConsentState.last_event.field.set_cached_value(state, event)
    version = state.version if ConsentState.version.is_cached(state) else _UNLOADED
    version_loaded = version is None or (
        isinstance(version, ConsentVersion)
        and ConsentVersion.form.is_cached(version)
        and "items" in getattr(version, "_prefetched_objects_cache", {})
    )
    if (
        not version_loaded
        or not ConsentState.last_event.is_cached(state)
        or not ConsentState.participant.is_cached(state)
    ):
        return (
            ConsentState.objects.select_related(
                "participant__cohort", "participant__site", "version__form", "last_event"
            )
            .prefetch_related("version__items")
            .get(participant_id=event.participant_id)
        )
    participant = state.participant
    if registering and not (
        Participant.cohort.is_cached(participant) and Participant.site.is_cached(participant)
    ):
        participant = Participant.objects.select_related("cohort", "site").get(pk=participant.pk)
        ConsentState.participant.field.set_cached_value(state, participant)
    return state


_UNLOADED = object()
