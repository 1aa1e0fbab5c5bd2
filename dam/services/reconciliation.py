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
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from ..models import (
    Manifest,
    ManifestLine,
    MessageType,
    OutboxMessage,
    OutboxState,
    ReconciliationFinding,
    ReconciliationRun,
)
from ..transports import TransportError, transport_from_settings

__all__ = ["DamUnreachable", "reconciliation_run"]

Finding = ReconciliationFinding.Kind


class DamUnreachable(Exception):
    """The dam could not be asked; the run is recorded as "unreachable"."""

    def __init__(self, run: ReconciliationRun) -> None:
        super().__init__(run.error)
        self.run = run


def _delivered_subjects() -> Iterator[Any]:
    """Per subject: highest delivered sequence, and whether a withdrawal was delivered."""
    return (
        OutboxMessage.objects.filter(state=OutboxState.DELIVERED, participant__isnull=False)
        .values("participant_id", "subject")
        .annotate(
            last_sequence=Max("sequence"),
            withdrawal=Max("sequence", filter=Q(type=MessageType.SUBJECT_WITHDRAWN)),
        )
        .order_by("participant_id")
        .iterator(chunk_size=2000)
    )


def _check_subjects(transport: Any, run: ReconciliationRun) -> int:
    checked = 0
    findings: list[ReconciliationFinding] = []
    for row in _delivered_subjects():
        reported = transport.subject_read(row["subject"])
        checked += 1
        expected_status = "withdrawn" if row["withdrawal"] else "active"
        if reported is None:
            findings.append(
                ReconciliationFinding(
                    run=run,
                    kind=Finding.SUBJECT_UNKNOWN,
                    subject=row["subject"],
                    expected=str(row["last_sequence"]),
                    reported="404",
                )
            )
        else:
            if reported.get("sequence") != row["last_sequence"]:
                findings.append(
                    ReconciliationFinding(
                        run=run,
                        kind=Finding.SEQUENCE,
                        subject=row["subject"],
                        expected=str(row["last_sequence"]),
                        reported=str(reported.get("sequence"))[:64],
                    )
                )
            if reported.get("status") != expected_status:
                findings.append(
                    ReconciliationFinding(
                        run=run,
                        kind=Finding.STATUS,
                        subject=row["subject"],
                        expected=expected_status,
                        reported=str(reported.get("status"))[:64],
                    )
                )
        if len(findings) >= 1000:
            ReconciliationFinding.objects.bulk_create(findings)
            findings = []
    ReconciliationFinding.objects.bulk_create(findings)
    return checked


def _as_set(value: Any) -> set[str]:
    return {str(v) for v in value} if isinstance(value, list) else set()


@transaction.atomic
def _record_manifest(
    manifest: Manifest, reported: dict[str, Any] | None, run: ReconciliationRun, now: dt.datetime
) -> None:
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
    for line in lines:
        barcode = line.sample.barcode
        if barcode in received:
            if line.dam_status != ManifestLine.DamStatus.RECEIVED:
                line.dam_status = ManifestLine.DamStatus.RECEIVED
                line.dam_received_at = now
                line.save(update_fields=["dam_status", "dam_received_at"])
            continue
        status = ManifestLine.DamStatus.MISSING if barcode in missing else ""
        if line.dam_status != status:
            line.dam_status = status
            line.save(update_fields=["dam_status"])
        if overdue:
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


def _check_manifests(transport: Any, run: ReconciliationRun, now: dt.datetime) -> int:
    unreceived = ManifestLine.objects.filter(
        manifest_id=OuterRef("pk"), state=ManifestLine.State.SENT
    ).exclude(dam_status=ManifestLine.DamStatus.RECEIVED)
    pending = (
        Manifest.objects.filter(state=Manifest.State.SUBMITTED)
        .filter(Exists(unreceived))
        .order_by("id")
    )
    checked = 0
    for manifest in pending.iterator(chunk_size=500):
        reported = transport.manifest_read(manifest.code)
        _record_manifest(manifest, reported, run, now)
        checked += 1
    return checked


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
    run.outcome = (
        ReconciliationRun.Outcome.DIFFERENCES
        if run.findings.exists()
        else ReconciliationRun.Outcome.MATCHED
    )
    run.finished_at = timezone.now()
    run.save(update_fields=["outcome", "finished_at", "subjects_checked", "manifests_checked"])
    return run
