"""Recorded runs of the ledger verification, for ethics reviewers and the nightly check."""

from __future__ import annotations

import datetime as dt
import logging
import time

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from enrollment.models import Participant
from portal.audit import audit_record
from portal.models import User

from ..audit import Action
from ..ledger import BrokenEvent, ledger_verify
from ..models import LedgerVerification
from ..tasks import consent_ledger_verification_run
from .sealed_files import FileProblem, sealed_files_verify

FINDINGS_KEPT = 100
logger = logging.getLogger(__name__)


def ledger_verification_request(*, by: User | None) -> LedgerVerification:
    """Record a request and run it after the commit in a Celery task (it may take a minute)."""
    verification = LedgerVerification.objects.create(requested_by=by)
    verification_id = verification.pk
    transaction.on_commit(lambda: consent_ledger_verification_run.delay(verification_id))
    return verification


def ledger_verification_run(
    *, verification_id: int, after_event_id: int | None = None
) -> LedgerVerification:
    """Verify every chain and store the outcome on the run (idempotent: a finished run is kept).

    With ``after_event_id``, only the events with a higher id are checked (content, code, and
    their place in their chains); for callers that prove the older events unchanged since they
    were last verified (the ledger certificates)."""
    verification = LedgerVerification.objects.get(pk=verification_id)
    if verification.is_finished:
        return verification
    started = time.perf_counter()
    result = ledger_verify(after_event_id=after_event_id)
    # Every stored file (signature, scanned form, receipt) against the hash its event carries.
    files = sealed_files_verify(after_event_id=after_event_id)
    broken: list[BrokenEvent | FileProblem] = []
    broken.extend(result.broken[:FINDINGS_KEPT])
    broken.extend(files[: FINDINGS_KEPT - len(broken)])
    codes = dict(
        Participant.objects.filter(pk__in={b.participant_id for b in broken}).values_list(
            "pk", "code"
        )
    )
    verification.events = result.events
    verification.chains = result.chains
    verification.broken_chains = len(result.broken)
    verification.findings = [
        {
            "event": b.event_id,
            "participant": codes.get(b.participant_id, str(b.participant_id)),
            "sequence": b.sequence,
            "problem": b.problem,
        }
        for b in broken
    ]
    verification.seconds = round(time.perf_counter() - started, 2)
    verification.finished_at = timezone.now()
    verification.save()
    audit_record(
        action=Action.LEDGER_VERIFIED,
        actor=verification.requested_by,
        obj=verification,
        outcome="ok" if result.ok and not files else "broken",
        details={
            "events": result.events,
            "broken_chains": len(result.broken),
            "broken_files": len(files),
            "after_event": after_event_id,
        },
    )
    if files:
        logger.error(
            "consent ledger verification %s: %d stored file(s) differ from their event's hash, "
            "first event %s",
            verification.pk,
            len(files),
            files[0].event_id,
        )
    if not result.ok:
        # Loud on purpose: a broken chain means someone changed a legal record behind the app.
        logger.error(
            "consent ledger verification %s: %d broken chain(s), first event %s",
            verification.pk,
            len(result.broken),
            result.broken[0].event_id,
        )
    return verification


def ledger_verification_now(*, after_event_id: int | None = None) -> LedgerVerification:
    """A recorded run now, in this process: every chain, or only the events after
    ``after_event_id`` (see ``ledger_verification_run``; the ledger certificates verify so)."""
    verification = LedgerVerification.objects.create()
    return ledger_verification_run(verification_id=verification.pk, after_event_id=after_event_id)


def ledger_verification_nightly(*, night: dt.date | None = None) -> LedgerVerification | None:
    """The nightly run: at most one per night for the whole cluster (None when one ran already).

    A lock in the shared cache, taken before the run, turns away a second delivery of the task
    (a second scheduler, a redelivered message) for the same night.
    """
    night = night or timezone.localdate()
    if not cache.add(f"consent:ledger-verify-nightly:{night.isoformat()}", "1", 36 * 3600):
        logger.info("nightly ledger verification already ran", extra={"night": str(night)})
        return None
    return ledger_verification_now()
