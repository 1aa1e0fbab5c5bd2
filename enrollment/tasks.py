"""Celery tasks of enrollment: adapters around services. They take ids, never personal data.

Mail and text messages are sent here, one task per message and channel, after the commit that
asked for them: a slow gateway does not slow the page, and a failing one is retried with
exponential back-off (``MESSAGE_RETRY_SECONDS``, doubled each time, ``MESSAGE_RETRIES`` times).
Tasks import their service inside the body, so that services may queue tasks without an import
circle.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from django.conf import settings

logger = logging.getLogger(__name__)

MESSAGE_RETRIES = 8


def _retry_later(task: Task[Any, Any], exc: Exception, *, what: str) -> None:
    """Retry a message that failed. Run eagerly (no worker: the embedded default) or after the
    last retry, log it (ids and the error's type only) and give up, so that a gateway never turns
    the page or the task that asked for the message into an error."""
    retries = task.request.retries
    if task.request.is_eager or retries >= MESSAGE_RETRIES:
        logger.warning("%s not sent (attempt %d): %s", what, retries + 1, type(exc).__name__)
        return
    # No exc= here: an SMTP refusal may quote the address, and retries are logged.
    raise task.retry(
        countdown=settings.MESSAGE_RETRY_SECONDS * 2**retries, max_retries=MESSAGE_RETRIES
    )


@shared_task(bind=True, acks_late=True, ignore_result=True)
def invitation_message_send(
    self: Task[Any, Any], invitation_id: int, channel: str, sealed_code: str
) -> None:
    """Send one invitation's code by e-mail or text (``sealed_code``: see ``enrollment.vault``)."""
    from .services.invitations import invitation_message_send as send

    try:
        send(invitation_id=invitation_id, channel=channel, sealed_code=sealed_code)
    except Exception as exc:
        _retry_later(self, exc, what=f"invitation {invitation_id} by {channel}")


@shared_task(bind=True, acks_late=True, ignore_result=True)
def visit_message_send(self: Task[Any, Any], visit_id: int, kind: str, channel: str) -> None:
    """Send one visit's confirmation or reminder (``kind``) by e-mail or text."""
    from .services.visits import visit_message_send as send

    try:
        send(visit_id=visit_id, kind=kind, channel=channel)
    except Exception as exc:
        _retry_later(self, exc, what=f"{kind} of visit {visit_id} by {channel}")


@shared_task
def visit_reminders_send() -> int:
    """Beat, daily: queue a reminder for each of tomorrow's booked visits not yet reminded."""
    from .services.visits import visits_due_for_reminder

    visit_ids = visits_due_for_reminder()
    for visit_id in visit_ids:
        visit_reminder_send.delay(visit_id)
    return len(visit_ids)


@shared_task(acks_late=True)
def visit_reminder_send(visit_id: int) -> bool:
    from .services.visits import visit_reminder_send as send

    return send(visit_id=visit_id)


@shared_task(acks_late=True)
def registration_attempt_notice_send(participant_id: int) -> bool:
    """Tell participant ``participant_id`` that their details were used to register again."""
    from .services.people import registration_attempt_notice_deliver

    return registration_attempt_notice_deliver(participant_id=participant_id)


@shared_task(bind=True, acks_late=True, ignore_result=True)
def visit_cancelled_notice_send(self: Task[Any, Any], visit_id: int) -> None:
    """Tell a site's coordinators that a visit was cancelled because collection stopped."""
    from .services.site_notices import visit_cancelled_notice_send as send

    try:
        send(visit_id=visit_id)
    except Exception as exc:
        _retry_later(self, exc, what=f"site notice of visit {visit_id}")
