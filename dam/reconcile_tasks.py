"""Celery beat task of reconciliation (``dam.services.reconciliation``); it takes no arguments."""

from __future__ import annotations

import logging

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def dam_reconcile_daily() -> None:
    """Daily: compare what was sent with what the dam reports; an unreachable dam is recorded."""
    from .services.reconciliation import DamUnreachable, reconciliation_run

    try:
        run = reconciliation_run()
    except DamUnreachable as exc:
        log.warning("dam reconciliation: the dam could not be reached (run %s)", exc.run.pk)
        return
    log.info("dam reconciliation run %s: %s", run.pk, run.outcome)
