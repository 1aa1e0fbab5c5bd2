"""Builders for the dam tests: consented participants through the real consent services, and
outbox messages in bulk for the delivery and fault-injection tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from consent.services import ItemSpec
from dam.models import MessageType, OutboxMessage
from dam.payloads import SUBJECT_SYSTEM, iso, registered_payload
from dam.services.outbox import outbox_add
from dam.services.pseudonyms import pseudonym_of
from enrollment.models import Participant
from portal.programme import programme_name
from tests.consent.signing_builders import ITEMS, active_version
from tests.factories import ParticipantFactory

# The main form, with data sharing optional so that some participants can decline it.
OPTIONAL_SHARING = [
    ItemSpec(
        "data_sharing", "자료 공유", "연구 목적으로 자료를 공유합니다.", False, ("DUO:0000042",)
    ),
    *ITEMS[1:],
]


def sharing_optional_version() -> Any:
    return active_version(items=OPTIONAL_SHARING)


def minimal_consent_payload(subject: str, at: dt.datetime) -> dict[str, Any]:
    """A ``consent.updated`` payload of the interface's shape (for bulk delivery tests)."""
    return {
        "consent_version": "main 1.0",
        "status": "active",
        "signed_at": iso(at),
        "permissions": [{"item": "data_sharing", "granted": True, "duo": ["DUO:0000042"]}],
        "fhir": {
            "resourceType": "Consent",
            "status": "active",
            "scope": {"coding": [{"code": "research"}]},
            "category": [{"coding": [{"code": "59284-0"}]}],
            "patient": {"identifier": {"system": SUBJECT_SYSTEM, "value": subject}},
            "policyRule": {"text": f"{programme_name('en')} consent"},
        },
    }


def subjects_with_messages(count: int, *, per_subject: int = 3) -> list[str]:
    """``count`` participants, each with ``per_subject`` outbox messages (registered, then consent
    updates), written the way the receivers write them. Returns the message ids."""
    ids: list[str] = []
    now = timezone.now()
    participants = ParticipantFactory.create_batch(count)
    for participant in participants:
        with transaction.atomic():
            ids += [str(m.id) for m in messages_for(participant, per_subject=per_subject, at=now)]
    return ids


def messages_for(
    participant: Participant, *, per_subject: int, at: dt.datetime
) -> list[OutboxMessage]:
    subject = pseudonym_of(participant=participant)
    messages = [
        outbox_add(
            type=MessageType.SUBJECT_REGISTERED,
            participant=participant,
            payload=registered_payload(participant, enrolled_at=at),
            occurred_at=at,
        )
    ]
    for _ in range(per_subject - 1):
        messages.append(
            outbox_add(
                type=MessageType.CONSENT_UPDATED,
                participant=participant,
                payload=minimal_consent_payload(subject, at),
                occurred_at=at,
            )
        )
    return messages
