"""Reports generated in the background by Celery: request, run, download, expire, and the monthly
board reports. Every kind of report goes the same way: the consent report (a period, sites and a
form), the recruitment report (a phase) and the biobank figures (a year), each as PDF or CSV.

The page that asks for a report gets a job at once and shows its progress (it refreshes itself;
the user may leave and come back from the reports page). A worker runs the job in steps, saving
its progress, and stores the file encrypted with the vault's keys; the requester (or, for the
monthly reports, each reviewer of the board) is told by e-mail, with a link and nothing personal.
Files expire after ``REPORTS_FILE_HOURS`` and are then removed.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from consent.models import ConsentForm
from enrollment.models import Phase, SiteMembership
from enrollment.vault import bytes_open, bytes_seal
from portal.audit import Action, audit_record
from portal.csv_stream import csv_chunks
from portal.models import User
from portal.roles import Role

from .consent_report import ReportScope
from .exports import biobank_export, consent_report_csv, consent_report_pdf, recruitment_export
from .models import ReportJob

__all__ = [
    "report_job_download",
    "report_job_request",
    "report_job_run",
    "report_jobs_expire",
    "report_jobs_monthly",
    "report_jobs_visible",
]

logger = logging.getLogger(__name__)


def _label(job: ReportJob) -> str:
    return f"reports.job:{job.pk}:{job.token}"


def _scope_parameters(scope: ReportScope) -> dict[str, Any]:
    return {
        "form_id": scope.form_id,
        "first_day": scope.first_day.isoformat(),
        "last_day": scope.last_day.isoformat(),
        "site_ids": sorted(scope.site_ids) if scope.site_ids is not None else None,
    }


def _scope_of(job: ReportJob) -> ReportScope:
    p = job.parameters
    return ReportScope(
        form_id=int(p["form_id"]),
        first_day=dt.date.fromisoformat(p["first_day"]),
        last_day=dt.date.fromisoformat(p["last_day"]),
        site_ids=frozenset(p["site_ids"]) if p["site_ids"] is not None else None,
    )


CONSENT_KINDS = (ReportJob.Kind.CONSENT_PDF, ReportJob.Kind.CONSENT_CSV)
RECRUITMENT_KINDS = (ReportJob.Kind.RECRUITMENT_PDF, ReportJob.Kind.RECRUITMENT_CSV)
BIOBANK_KINDS = (ReportJob.Kind.BIOBANK_PDF, ReportJob.Kind.BIOBANK_CSV)


def _parameters(
    kind: str, scope: ReportScope | None, phase_id: int | None, year: int | None
) -> dict[str, Any]:
    """What the report is of, as ids and numbers: a scope, a phase or a year, as the kind needs."""
    if kind in CONSENT_KINDS:
        if scope is None:
            raise ValueError("a consent report needs a scope")
        return _scope_parameters(scope)
    if kind in RECRUITMENT_KINDS:
        if phase_id is None:
            raise ValueError("a recruitment report needs a phase")
        return {"phase_id": int(phase_id)}
    if kind in BIOBANK_KINDS:
        if year is None:
            raise ValueError("biobank figures need a year")
        return {"year": int(year)}
    raise ValueError(f"unknown report kind {kind!r}")


@transaction.atomic
def report_job_request(
    *,
    by: User | None,
    kind: str,
    reason: str,
    scope: ReportScope | None = None,
    phase_id: int | None = None,
    year: int | None = None,
    language: str = "ko",
    recipients: list[int] | None = None,
) -> ReportJob:
    """Record a report to generate and hand it to a worker after the commit. A consent report
    needs ``scope``, a recruitment report ``phase_id``, the biobank figures ``year``."""
    from .tasks import report_job_run_task

    parameters = _parameters(kind, scope, phase_id, year)
    if not reason.strip():
        raise ValueError("a reason is required")
    job = ReportJob.objects.create(
        token=secrets.token_hex(16),
        kind=kind,
        parameters=parameters,
        reason=reason.strip()[:255],
        requested_by=by,
        recipients=recipients or [],
        language=language,
    )
    job_id = job.pk
    transaction.on_commit(lambda: report_job_run_task.delay(job_id))
    return job


def _progress(job: ReportJob, percent: int) -> None:
    ReportJob.objects.filter(pk=job.pk).update(progress=percent)


def report_job_run(*, job_id: int) -> ReportJob:
    """Generate the report of one job (idempotent: a finished job is left as it is)."""
    with transaction.atomic():
        job = ReportJob.objects.select_for_update().get(pk=job_id)
        if job.is_finished:
            return job
        job.status = ReportJob.Status.RUNNING
        job.progress = 5
        job.save(update_fields=["status", "progress"])
    try:
        with translation.override(job.language):
            name, data = _generate(job)
        _progress(job, 90)
        stored = default_storage.save(
            f"reports/{job.token}.sealed", ContentFile(bytes_seal(data=data, label=_label(job)))
        )
    except Exception as exc:
        job.status = ReportJob.Status.FAILED
        job.error = type(exc).__name__[:200]
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
        logger.exception("report job %s failed", job.pk)
        return job
    now = timezone.now()
    job.status = ReportJob.Status.DONE
    job.progress = 100
    job.finished_at = now
    job.expires_at = now + dt.timedelta(hours=settings.REPORTS_FILE_HOURS)
    job.file_name = name
    job.stored_as = stored
    job.size = len(data)
    job.save(
        update_fields=[
            "status",
            "progress",
            "finished_at",
            "expires_at",
            "file_name",
            "stored_as",
            "size",
        ]
    )
    _tell(job)
    return job


def _generate(job: ReportJob) -> tuple[str, bytes]:
    """The file of ``job``: its name and bytes (each export audits itself with the job's reason)."""
    by = job.requested_by
    kind = job.kind
    if kind in CONSENT_KINDS:
        scope = _scope_of(job)
        form_code = (
            ConsentForm.objects.filter(pk=scope.form_id).values_list("code", flat=True).first()
        )
        name = f"consent-report-{form_code or scope.form_id}-{scope.first_day}-{scope.last_day}"
        if kind == ReportJob.Kind.CONSENT_PDF:
            data = consent_report_pdf(
                by=by,
                scope=scope,
                reason=job.reason,
                language=job.language,
                progress=lambda p: _progress(job, p),
            )
            return name + ".pdf", data
        header, rows = consent_report_csv(by=by, scope=scope, reason=job.reason)
        _progress(job, 60)
        return name + ".csv", b"".join(csv_chunks(header, rows))
    fmt = "pdf" if kind.endswith("_pdf") else "csv"
    if kind in RECRUITMENT_KINDS:
        phase_id = int(job.parameters["phase_id"])
        number = Phase.objects.filter(pk=phase_id).values_list("number", flat=True).first()
        name = f"recruitment-phase-{number if number is not None else phase_id}"
        header, rows, pdf = recruitment_export(by=by, phase_id=phase_id, reason=job.reason, fmt=fmt)
    elif kind in BIOBANK_KINDS:
        year = int(job.parameters["year"])
        name = f"biobank-{year}"
        header, rows, pdf = biobank_export(by=by, year=year, reason=job.reason, fmt=fmt)
    else:
        raise ValueError(f"unknown report kind {kind!r}")
    _progress(job, 60)
    if pdf is not None:
        return name + ".pdf", pdf
    return name + ".csv", b"".join(csv_chunks(header, rows))


def _tell(job: ReportJob) -> None:
    """E-mail the requester (or the board's reviewers) that the report is ready: a link only."""
    user_ids = list(job.recipients) or ([job.requested_by_id] if job.requested_by_id else [])
    addresses = User.objects.filter(pk__in=user_ids, is_active=True).values_list("email", flat=True)
    link = settings.SITE_URL.rstrip("/") + reverse("reports:job", args=[job.token])
    until = (
        timezone.localtime(job.expires_at).isoformat(timespec="minutes") if job.expires_at else ""
    )
    for address in addresses:
        with translation.override(job.language):
            subject = _("Your report is ready")
            body = _(
                "The report you asked for (%(kind)s) is ready. Download it, after signing in, "
                "from:\n\n%(link)s\n\nIt will be removed at %(until)s."
            ) % {"kind": job.get_kind_display(), "link": link, "until": until}
        EmailMessage(subject=subject, body=body, to=[address]).send()


def report_jobs_visible(user: User) -> Any:
    """The jobs a user may follow and download: their own, and the board reports sent to them."""
    if user.is_superuser:
        return ReportJob.objects.all()
    return ReportJob.objects.filter(Q(requested_by=user) | Q(recipients__contains=[user.pk]))


def report_job_download(*, job: ReportJob, by: User) -> tuple[str, bytes]:
    """The decrypted file of a finished job (audited with the job's reason)."""
    if job.status != ReportJob.Status.DONE or not job.stored_as:
        raise FileNotFoundError("this report is not available")
    if job.expires_at is not None and job.expires_at <= timezone.now():
        raise FileNotFoundError("this report has expired")
    with default_storage.open(job.stored_as, "rb") as handle:
        data = bytes_open(sealed=handle.read(), label=_label(job))
    audit_record(
        action=Action.EXPORTED,
        actor=by,
        obj=job,
        reason=job.reason,
        details={"format": job.kind, "step": "download"},
    )
    return job.file_name, data


def report_jobs_expire() -> int:
    """Remove the files of expired jobs; returns how many were removed."""
    now = timezone.now()
    expired = ReportJob.objects.filter(status=ReportJob.Status.DONE, expires_at__lte=now)
    count = 0
    for job in expired.iterator():
        if job.stored_as:
            default_storage.delete(job.stored_as)
        ReportJob.objects.filter(pk=job.pk).update(
            status=ReportJob.Status.EXPIRED, stored_as="", progress=100
        )
        count += 1
    return count


def _boards() -> dict[frozenset[int] | None, list[int]]:
    """Ethics boards as the portal knows them: reviewers of all sites (the central IRB), and
    reviewers grouped by the sites of their memberships (a local IRB)."""
    reviewers = User.objects.filter(is_active=True, groups__name=Role.ETHICS_REVIEWER.value)
    boards: dict[frozenset[int] | None, list[int]] = {}
    memberships: dict[int, set[int]] = {}
    for user_id, site_id in SiteMembership.objects.filter(user__in=reviewers).values_list(
        "user_id", "site_id"
    ):
        memberships.setdefault(user_id, set()).add(site_id)
    for user in reviewers.only("pk", "all_sites"):
        key: frozenset[int] | None = (
            None if user.all_sites else frozenset(memberships.get(user.pk, ()))
        )
        if key is not None and not key:
            continue
        boards.setdefault(key, []).append(user.pk)
    return boards


def report_jobs_monthly(*, today: dt.date | None = None) -> list[ReportJob]:
    """Beat, on the first of the month: last month's consent report (PDF) for every board and
    every consent form; each reviewer of the board is e-mailed when it is ready."""
    today = today or timezone.localdate()
    last_day = today.replace(day=1) - dt.timedelta(days=1)
    first_day = last_day.replace(day=1)
    jobs = []
    for site_ids, user_ids in _boards().items():
        for form_id in ConsentForm.objects.order_by("code").values_list("pk", flat=True):
            jobs.append(
                report_job_request(
                    by=None,
                    kind=ReportJob.Kind.CONSENT_PDF,
                    scope=ReportScope(
                        form_id=form_id, first_day=first_day, last_day=last_day, site_ids=site_ids
                    ),
                    reason=f"monthly board report {first_day:%Y-%m}",
                    recipients=sorted(user_ids),
                )
            )
    return jobs
