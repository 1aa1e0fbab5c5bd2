"""Writing to the outbox, and the steward's retry of a dead letter.

``outbox_add`` is called inside the transaction of the change it records, so the message exists
if and only if the change does. Delivery is asked for after the commit (``dam.tasks``); the beat
sweep delivers anything a lost task message would have left behind.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from enrollment.models import Participant
from portal.audit import audit_record
from portal.models import User

from ..audit import Action
from ..models import MessageType, OutboxMessage, OutboxState
from .pseudonyms import pseudonym_of

__all__ = ["ACTION_DEAD_LETTER_RETRIED", "outbox_add", "outbox_retry"]

ACTION_DEAD_LETTER_RETRIED = Action.DEAD_LETTER_RETRIED


def outbox_add(
    *,
    type: MessageType | str,
    participant: Participant | None,
    payload: dict[str, Any],
    occurred_at: dt.datetime,
) -> OutboxMessage:
    """Append one message for the dam, in the caller's transaction.

    Subject messages (every type but ``manifest.submitted``) get the subject's pseudonym and the
    next number of the subject's sequence, assigned under the participant's row lock so that two
    concurrent changes of one participant are numbered in commit order. Delivery is scheduled
    after the commit; a withdrawal is sent at once.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_add must run inside the transaction of the change it records")
    type = MessageType(type)
    if occurred_at.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware")
    message = OutboxMessage(type=type, payload=payload, occurred_at=occurred_at)
    if type == MessageType.MANIFEST_SUBMITTED:
        if participant is not None:
            raise ValueError("a manifest is about many subjects: pass participant=None")
        message.reference = str(payload.get("manifest_id", ""))[:64]
    else:
        if participant is None:
            raise ValueError(f"a {type.value} message needs its participant")
        message.participant = participant
        message.subject = pseudonym_of(participant=participant)
        message.sequence = _next_sequence_locked(participant.pk)
    message.save(force_insert=True)
    from ..tasks import delivery_request

    transaction.on_commit(
        lambda: delivery_request(urgent=type == MessageType.SUBJECT_WITHDRAWN),
        robust=True,
    )
    return message


def _next_sequence_locked(participant_id: int) -> int:
    """Lock the participant's row (it orders the subject's messages; callers usually hold it
    already) and read the subject's last sequence, in one statement."""
    participant_table = Participant._meta.db_table
    outbox_table = OutboxMessage._meta.db_table
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT MAX(sequence) FROM {outbox_table} WHERE participant_id = %s) "  # noqa: S608
            f"FROM {participant_table} WHERE id = %s{lock}",
            [participant_id, participant_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise Participant.DoesNotExist(participant_id)
    return (row[0] or 0) + 1


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
