"""What the dam must learn when consent changes: outbox rows in the transaction of the change.

``consent_event_recorded`` is sent inside the consent transaction with the participant's row
locked (``consent.signals``). A subject is registered with the dam when their consent first
allows data sharing (``subject.registered`` then ``consent.updated``); after that every consent
event becomes a ``consent.updated``, and a withdrawal a ``subject.withdrawn`` (sent at once). Nothing
about a participant whose consent never allowed data sharing is ever written here.
"""

from __future__ import annotations

from typing import Any

from consent.models import ConsentEvent, ConsentState, EventKind

from .models import MessageType, OutboxMessage
from .payloads import consent_payload, registered_payload, withdrawn_payload
from .services.outbox import outbox_add
from .services.pseudonyms import pseudonym_of

SHARING_ITEM = "data_sharing"
_SHARING_STATES = {ConsentState.Status.ACTIVE, ConsentState.Status.RECONSENT_DUE}


def allows_sharing(state: ConsentState) -> bool:
    return state.status in _SHARING_STATES and bool(state.choices.get(SHARING_ITEM))


def on_consent_event_recorded(
    sender: Any, *, event: ConsentEvent, state: ConsentState, **kwargs: Any
) -> None:
    sent = set(
        OutboxMessage.objects.filter(
            participant_id=event.participant_id,
            type__in=[MessageType.SUBJECT_REGISTERED, MessageType.SUBJECT_WITHDRAWN],
        ).values_list("type", flat=True)
    )
    if MessageType.SUBJECT_WITHDRAWN in sent:
        return  # the dam refuses anything after a withdrawal
    registered = MessageType.SUBJECT_REGISTERED in sent
    if not registered and (event.kind == EventKind.WITHDRAW or not allows_sharing(state)):
        return  # never registered: the dam must not learn of this person at all
    # The state as just written, with everything the payloads need, in two reads.
    current = (
        ConsentState.objects.select_related(
            "participant__cohort", "participant__site", "version__form", "last_event"
        )
        .prefetch_related("version__items")
        .get(participant_id=event.participant_id)
    )
    participant = current.participant
    if not registered:
        outbox_add(
            type=MessageType.SUBJECT_REGISTERED,
            participant=participant,
            payload=registered_payload(
                participant, enrolled_at=current.signed_at or event.signed_at
            ),
            occurred_at=event.signed_at,
        )
    if event.kind == EventKind.WITHDRAW:
        outbox_add(
            type=MessageType.SUBJECT_WITHDRAWN,
            participant=participant,
            payload=withdrawn_payload(
                level=event.withdrawal_level,
                effective_at=event.signed_at,
                samples_fate=event.samples_fate,
            ),
            occurred_at=event.signed_at,
        )
        return
    outbox_add(
        type=MessageType.CONSENT_UPDATED,
        participant=participant,
        payload=consent_payload(current, subject=pseudonym_of(participant=participant)),
        occurred_at=event.signed_at,
    )
