"""Celery tasks of enrollment: one-line adapters around services. They take ids, never personal data."""

from __future__ import annotations

from celery import shared_task

from .services import visits


@shared_task
def visit_reminders_send() -> int:
    """Beat, daily: queue a reminder for each of tomorrow's booked visits not yet reminded."""
    visit_ids = visits.visits_due_for_reminder()
    for visit_id in visit_ids:
        visit_reminder_send.delay(visit_id)
    return len(visit_ids)


@shared_task(acks_late=True)
def visit_reminder_send(visit_id: int) -> bool:
    return visits.visit_reminder_send(visit_id=visit_id)


@shared_task(acks_late=True)
def registration_attempt_notice_send(participant_id: int) -> bool:
    """Tell participant ``participant_id`` that their details were used to register again."""
    from .services.people import registration_attempt_notice_deliver

    return registration_attempt_notice_deliver(participant_id=participant_id)
