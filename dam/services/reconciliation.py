"""Reconciliation: does the dam hold what the portal sent?

Daily (beat) and on demand (``manage.py dam_reconcile``), through the dam's two read-back
endpoints:

* every subject the portal has delivered messages about: the dam's ``sequence`` must equal the
  highest delivered sequence, and its ``status`` must be ``withdrawn`` exactly when a withdrawal was
  delivered; a subject the dam does not know at all is a finding too;
* every submitted manifest whose samples are not all received: the dam's ``received`` and
  ``missing`` lists are recorded on the lines (the steward page shows them), and a tube not received
  ``DAM_RECEIPT_GRACE_HOURS`` (36) after shipping is a finding.

Findings are stored on the run and listed on the steward page. When the dam cannot be reached the
run is recorded as such and ``DamUnreachable`` is raised (the command exits non-zero).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, Min, OuterRef, Q
from django.utils import timezone

from portal.audit import audit_record
from portal.models import User

from ..audit import Action
from ..models import (
    Manifest,
    ManifestLine,
    MessageType,
    OutboxMessage,
    OutboxState,
    ReconciliationFinding,
    ReconciliationRun,
)
from ..transports import Transport, TransportError, transport_from_settings

__all__ = ["DamUnreachable", "ManifestCheck", "reconciliation_manifest_check", "reconciliation_run"]

Finding = ReconciliationFinding.Kind


class DamUnreachable(Exception):
    """The dam could not be asked; the run is recorded as "unreachable"."""

    def __init__(self, run: ReconciliationRun) -> None:
        super().__init__(run.error)
        self.run = run


# Subjects are read a page at a time (a range of participant ids, so each page is one short index
# range scan however large the outbox), and each page's subjects are asked of the dam together
# (``subjects_read``: concurrent GETs over kept-alive connections).
SUBJECT_PAGE = 1000
MANIFEST_PAGE = 100


def _delivered_subjects(after: int, upto: int) -> list[dict[str, Any]]:
    """Per subject whose participant id is in ``(after, upto]``: highest delivered sequence,
    and whether a withdrawal was delivered; in id order."""
    rows = (
        OutboxMessage.objects.filter(
            state=OutboxState.DELIVERED, participant_id__gt=after, participant_id__lte=upto
        )
        .values("participant_id", "subject")
        .annotate(
            last_sequence=Max("sequence"),
            withdrawal=Max("sequence", filter=Q(type=MessageType.SUBJECT_WITHDRAWN)),
        )
        .order_by("participant_id")
    )
    return [dict(row) for row in rows]


def _subject_findings(
    row: dict[str, Any], reported: dict[str, Any] | None, run: ReconciliationRun
) -> list[ReconciliationFinding]:
    def finding(kind: str, expected: str, answer: Any) -> ReconciliationFinding:
        return ReconciliationFinding(
            run=run, kind=kind, subject=row["subject"], expected=expected, reported=str(answer)[:64]
        )

    if reported is None:
        return [finding(Finding.SUBJECT_UNKNOWN, str(row["last_sequence"]), "404")]
    findings = []
    if reported.get("sequence") != row["last_sequence"]:
        findings.append(
            finding(Finding.SEQUENCE, str(row["last_sequence"]), reported.get("sequence"))
        )
    expected_status = "withdrawn" if row["withdrawal"] else "active"
    if reported.get("status") != expected_status:
        findings.append(finding(Finding.STATUS, expected_status, reported.get("status")))
    return findings


def _check_subjects(transport: Transport, run: ReconciliationRun) -> int:
    checked = 0
    # The range of participant ids with any message, along the participant index (no filter).
    bounds = OutboxMessage.objects.aggregate(
        first=Min("participant_id"), last=Max("participant_id")
    )
    if bounds["first"] is None:
        return 0
    for after in range(bounds["first"] - 1, bounds["last"], SUBJECT_PAGE):
        page = _delivered_subjects(after, after + SUBJECT_PAGE)
        if not page:
            continue
        answers = transport.subjects_read([row["subject"] for row in page])
        findings = [
            finding
            for row, reported in zip(page, answers, strict=True)
            for finding in _subject_findings(row, reported, run)
        ]
        ReconciliationFinding.objects.bulk_create(findings)
        checked += len(page)
    return checked


def _as_set(value: Any) -> set[str]:
    return {str(v) for v in value} if isinstance(value, list) else set()


@dataclass(frozen=True)
class ManifestCheck:
    """What the dam reported about one manifest's tubes (the lines sent)."""

    known: bool  # the dam knows the manifest at all
    received: int
    missing: int
    not_listed: int
    overdue: bool  # shipped longer ago than DAM_RECEIPT_GRACE_HOURS


@transaction.atomic
def _record_manifest(
    manifest: Manifest,
    reported: dict[str, Any] | None,
    run: ReconciliationRun | None,
    now: dt.datetime,
) -> ManifestCheck:
    """Record the dam's answer on the manifest's lines; a tube not received in time is a
    finding of ``run`` (a single manifest's check has no run: its lines show the answer)."""
    received = _as_set((reported or {}).get("received"))
    missing = _as_set((reported or {}).get("missing"))
    overdue = manifest.shipped_at is not None and now - manifest.shipped_at > dt.timedelta(
        hours=settings.DAM_RECEIPT_GRACE_HOURS
    )
    lines = list(
        ManifestLine.objects.select_for_update(of=("self",))
        .filter(manifest=manifest, state=ManifestLine.State.SENT)
        .select_related("sample")
    )
    findings = []
    counts = {"received": 0, "missing": 0, "": 0}
    for line in lines:
        barcode = line.sample.barcode
        if barcode in received:
            counts["received"] += 1
            if line.dam_status != ManifestLine.DamStatus.RECEIVED:
                line.dam_status = ManifestLine.DamStatus.RECEIVED
                line.dam_received_at = now
                line.save(update_fields=["dam_status", "dam_received_at"])
            continue
        status = ManifestLine.DamStatus.MISSING if barcode in missing else ""
        counts[status] += 1
        if line.dam_status != status:
            line.dam_status = status
            line.save(update_fields=["dam_status"])
        if overdue and run is not None:
            findings.append(
                ReconciliationFinding(
                    run=run,
                    kind=Finding.SAMPLE_NOT_RECEIVED,
                    manifest=manifest,
                    barcode=barcode,
                    expected="received",
                    reported="missing"
                    if status
                    else ("unknown manifest" if reported is None else "not listed"),
                )
            )
    ReconciliationFinding.objects.bulk_create(findings)
    manifest.dam_checked_at = now
    manifest.save(update_fields=["dam_checked_at"])
    return ManifestCheck(
        known=reported is not None,
        received=counts["received"],
        missing=counts["missing"],
        not_listed=counts[""],
        overdue=overdue,
    )


def _check_manifests(transport: Transport, run: ReconciliationRun, now: dt.datetime) -> int:
    unreceived = ManifestLine.objects.filter(
        manifest_id=OuterRef("pk"), state=ManifestLine.State.SENT
    ).exclude(dam_status=ManifestLine.DamStatus.RECEIVED)
    pending = (
        Manifest.objects.filter(state=Manifest.State.SUBMITTED)
        .filter(Exists(unreceived))
        .order_by("id")
    )
    checked = 0
    after = 0
    while page := list(pending.filter(id__gt=after)[:MANIFEST_PAGE]):
        answers = transport.manifests_read([manifest.code for manifest in page])
        for manifest, reported in zip(page, answers, strict=True):
            _record_manifest(manifest, reported, run, now)
        checked += len(page)
        after = page[-1].pk
    return checked


def _close(transport: Transport) -> None:
    close = getattr(transport, "close", None)
    if close is not None:
        close()


def reconciliation_run(*, now: dt.datetime | None = None) -> ReconciliationRun:
    """Compare what was sent with what the dam reports; store and return the run.

    Raises ``DamUnreachable`` (after recording the run) when the dam cannot be reached."""
    now = now or timezone.now()
    run = ReconciliationRun.objects.create()
    transport = transport_from_settings()
    try:
        run.subjects_checked = _check_subjects(transport, run)
        run.manifests_checked = _check_manifests(transport, run, now)
    except TransportError as exc:
        _close(transport)
        run.outcome = ReconciliationRun.Outcome.UNREACHABLE
        run.error = str(exc)[:255]
        run.finished_at = timezone.now()
        run.save(
            update_fields=[
                "outcome",
                "error",
                "finished_at",
                "subjects_checked",
                "manifests_checked",
            ]
        )
        raise DamUnreachable(run) from exc
    _close(transport)
    run.outcome = (
        ReconciliationRun.Outcome.DIFFERENCES
        if run.findings.exists()
        else ReconciliationRun.Outcome.MATCHED
    )
    run.finished_at = timezone.now()
    run.save(update_fields=["outcome", "finished_at", "subjects_checked", "manifests_checked"])
    return run


def reconciliation_manifest_check(
    *, manifest: Manifest, by: User, now: dt.datetime | None = None
) -> ManifestCheck:
    """Ask the dam about one submitted manifest now (the steward's button), record its answer on
    the lines as the daily run does, and audit the check with the counts.

    Raises ``TransportError`` when the dam cannot be asked (nothing is recorded then but the
    audited attempt)."""
    if manifest.state != Manifest.State.SUBMITTED:
        from django.core.exceptions import ValidationError
        from django.utils.translation import gettext as _

        raise ValidationError(_("Only a submitted manifest can be checked with the dam."))
    now = now or timezone.now()
    transport = transport_from_settings()
    try:
        (reported,) = transport.manifests_read([manifest.code])
    except TransportError as exc:
        audit_record(
            action=Action.MANIFEST_CHECKED,
            actor=by,
            obj=manifest,
            outcome="failed",
            details={"error": exc.code},
        )
        raise
    finally:
        _close(transport)
    check = _record_manifest(manifest, reported, None, now)
    audit_record(
        action=Action.MANIFEST_CHECKED,
        actor=by,
        obj=manifest,
        details={
            "known": check.known,
            "received": check.received,
            "missing": check.missing,
            "not_listed": check.not_listed,
        },
    )
    return check
