"""Celery tasks of the dam app: one-line adapters around ``dam.services.delivery``.

Tasks take no arguments (nothing about a person ever travels through the broker). After each
change an outbox row is written and, after the commit, ``delivery_request`` asks for a delivery
run; a beat sweep (``outbox_sweep``, every ``DAM_SWEEP_SECONDS``) runs the same delivery, so a lost
task message (Redis restarted, a process killed between commit and publish) only delays delivery.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db.models import Min
from django.utils import timezone

log = logging.getLogger(__name__)

QUEUED_KEY = "dam:delivery:queued"
# A run already asked for (and not started) covers any request made meanwhile.
_DEBOUNCE_SECONDS = 30


def delivery_request(*, urgent: bool = False) -> None:
    """Ask for a delivery run after a commit. Never raises: the sweep covers a failure here."""
    try:
        if not urgent and not cache.add(QUEUED_KEY, 1, timeout=_DEBOUNCE_SECONDS):
            return
        outbox_deliver_task.delay()
    except Exception:
        log.warning("could not ask for a dam delivery run; the sweep will deliver", exc_info=True)


def _run() -> None:
    from .services.delivery import outbox_deliver

    # Requests from now on need a run of their own: this one may already be past their rows.
    cache.delete(QUEUED_KEY)
    report = outbox_deliver(max_seconds=settings.DAM_DELIVERY_TASK_SECONDS)
    if report.error is None and report.sent and not _nothing_due():
        outbox_deliver_task.delay()  # time was up with more to send: a successor continues
        return
    _follow_up()


def _nothing_due() -> bool:
    from .models import OutboxMessage, OutboxState

    return not OutboxMessage.objects.filter(
        state=OutboxState.PENDING, next_attempt_at__lte=timezone.now()
    ).exists()


def _follow_up() -> None:
    """Ask for a run when the next back-off ends, if that is before the next sweep."""
    from .models import OutboxMessage, OutboxState
    from .services.delivery import paused_for

    nearest = OutboxMessage.objects.filter(state=OutboxState.PENDING).aggregate(
        at=Min("next_attempt_at")
    )["at"]
    if nearest is None:
        return
    wait = max((nearest - timezone.now()).total_seconds(), paused_for())
    if 0 < wait < settings.DAM_SWEEP_SECONDS and not settings.CELERY_TASK_ALWAYS_EAGER:
        outbox_deliver_task.apply_async(countdown=wait + 0.05)


@shared_task(acks_late=True, ignore_result=True)
def outbox_deliver_task() -> None:
    _run()


@shared_task(acks_late=True, ignore_result=True)
def outbox_sweep() -> None:
    """Beat: deliver whatever is due, whether or not a task was asked for it."""
    _run()


@shared_task(acks_late=True, ignore_result=True)
def dam_reconcile_daily() -> None:
    """Beat, daily: compare what was sent with what the dam reports (an unreachable dam is
    recorded on the run, and the next day tries again)."""
    from .services.reconciliation import DamUnreachable, reconciliation_run

    try:
        run = reconciliation_run()
    except DamUnreachable as exc:
        log.warning("dam reconciliation: the dam could not be reached (run %s)", exc.run.pk)
        return
    log.info("dam reconciliation run %s: %s", run.pk, run.outcome)
