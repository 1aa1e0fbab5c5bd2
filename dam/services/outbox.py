"""Writing to the outbox, and the steward's retry of a dead letter.

``outbox_add`` is called inside the transaction of the change it records, so the message exists
if and only if the change does. Delivery is asked for after the commit (``dam.tasks``); the beat
sweep delivers anything a lost task message would have left behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from enrollment.models import Participant
from portal.audit import audit_record
from portal.models import User

from ..audit import Action
from ..models import MessageType, OutboxMessage, OutboxState
from .pseudonyms import pseudonym_of

__all__ = [
    "ACTION_DEAD_LETTER_RETRIED",
    "Draft",
    "SubjectOutbox",
    "outbox_add",
    "outbox_retry",
    "subject_messages_add",
    "subject_outbox_read",
]

ACTION_DEAD_LETTER_RETRIED = Action.DEAD_LETTER_RETRIED


@dataclass(frozen=True)
class SubjectOutbox:
    """What the outbox already holds for one subject, read under the participant's row lock."""

    registered: bool
    withdrawn: bool
    last_sequence: int


@dataclass(frozen=True)
class Draft:
    """One message to append: its type, payload and when its change happened."""

    type: MessageType
    payload: dict[str, Any]
    occurred_at: dt.datetime


def outbox_add(
    *,
    type: MessageType | str,
    participant: Participant | None,
    payload: dict[str, Any],
    occurred_at: dt.datetime,
) -> OutboxMessage:
    """Append one message for the dam, in the caller's transaction.

    Subject messages (every type but ``manifest.submitted``) get the subject's pseudonym and the
    next number of the subject's sequence (``subject_messages_add``). Delivery is scheduled after
    the commit; a withdrawal is sent at once.
    """
    _in_transaction_check()
    type = MessageType(type)
    _aware_check(occurred_at)
    if type != MessageType.MANIFEST_SUBMITTED:
        if participant is None:
            raise ValueError(f"a {type.value} message needs its participant")
        return subject_messages_add(
            participant=participant, drafts=[Draft(type, payload, occurred_at)]
        )[0]
    if participant is not None:
        raise ValueError("a manifest is about many subjects: pass participant=None")
    message = OutboxMessage(type=type, payload=payload, occurred_at=occurred_at)
    message.reference = str(payload.get("manifest_id", ""))[:64]
    message.save(force_insert=True)
    _delivery_after_commit(urgent=False)
    return message


def subject_messages_add(
    *,
    participant: Participant,
    drafts: Sequence[Draft],
    outbox: SubjectOutbox | None = None,
) -> list[OutboxMessage]:
    """Append a subject's messages in one insert, numbered on from the subject's last sequence.

    The numbers are assigned under the participant's row lock, so two concurrent changes of one
    participant are numbered in commit order; ``outbox`` is what ``subject_outbox_read`` gave
    under the same lock, if the caller has it (it is read here otherwise).
    """
    _in_transaction_check()
    if outbox is None:
        outbox = subject_outbox_read(participant.pk)
    subject = pseudonym_of(participant=participant)
    messages = []
    for number, draft in enumerate(drafts, start=outbox.last_sequence + 1):
        type = MessageType(draft.type)
        if type == MessageType.MANIFEST_SUBMITTED:
            raise ValueError("a manifest is not a subject's message: use outbox_add")
        _aware_check(draft.occurred_at)
        messages.append(
            OutboxMessage(
                type=type,
                payload=draft.payload,
                occurred_at=draft.occurred_at,
                participant=participant,
                subject=subject,
                sequence=number,
            )
        )
    OutboxMessage.objects.bulk_create(messages)
    _delivery_after_commit(urgent=any(m.type == MessageType.SUBJECT_WITHDRAWN for m in messages))
    return messages


def subject_outbox_read(participant_id: int) -> SubjectOutbox:
    """Lock the participant's row (it orders the subject's messages; callers usually hold it
    already) and read whether the subject was registered or withdrawn and their last sequence,
    in one statement."""
    participant_table = Participant._meta.db_table
    outbox_table = OutboxMessage._meta.db_table
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(sequence) FROM {outbox_table} WHERE participant_id = %s), "  # noqa: S608
            f"EXISTS (SELECT 1 FROM {outbox_table} WHERE participant_id = %s AND type = %s), "
            f"EXISTS (SELECT 1 FROM {outbox_table} WHERE participant_id = %s AND type = %s) "
            f"FROM {participant_table} WHERE id = %s{lock}",
            [
                participant_id,
                participant_id,
                MessageType.SUBJECT_REGISTERED.value,
                participant_id,
                MessageType.SUBJECT_WITHDRAWN.value,
                participant_id,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        raise Participant.DoesNotExist(participant_id)
    return SubjectOutbox(registered=bool(row[1]), withdrawn=bool(row[2]), last_sequence=row[0] or 0)


def _in_transaction_check() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_add must run inside the transaction of the change it records")


def _aware_check(occurred_at: dt.datetime) -> None:
    if occurred_at.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware")


def _delivery_after_commit(*, urgent: bool) -> None:
    from ..tasks import delivery_request

    transaction.on_commit(lambda: delivery_request(urgent=urgent), robust=True)


@transaction.atomic
def outbox_retry(*, message: OutboxMessage, by: User, reason: str = "") -> OutboxMessage:
    """Send a dead letter again (once its cause is fixed); audited. Its id, and so the dam's
    idempotency key, stays the same. The subject's later messages, held back behind it, follow."""
    locked = OutboxMessage.objects.select_for_update().get(pk=message.pk)
    if locked.state != OutboxState.DEAD:
        from django.core.exceptions import ValidationError
        from django.utils.translation import gettext as _

        raise ValidationError(_("Only a dead letter can be sent again."))
    now = timezone.now()
    previous_error = locked.error_code
    locked.state = OutboxState.PENDING
    locked.next_attempt_at = now
    locked.save(update_fields=["state", "next_attempt_at"])
    if locked.participant_id is not None:
        OutboxMessage.objects.filter(
            participant_id=locked.participant_id,
            sequence__gt=locked.sequence,
            state=OutboxState.PENDING,
        ).update(next_attempt_at=now)
    audit_record(
        action=ACTION_DEAD_LETTER_RETRIED,
        actor=by,
        obj=locked,
        reason=reason,
        details={"type": locked.type, "error": previous_error, "attempts": locked.attempts},
    )
    from ..tasks import delivery_request

    transaction.on_commit(lambda: delivery_request(urgent=True), robust=True)
    message.state = locked.state
    return locked
