"""Celery adapters for reports: ids in, one service call, nothing personal in the arguments."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def ledger_certificate_nightly() -> None:
    """Beat: issue the nightly ledger certificate and e-mail its digest to the boards."""
    from .certificates import certificate_nightly

    certificate_nightly()


@shared_task(acks_late=True, ignore_result=True)
def report_job_run_task(job_id: int) -> None:
    """Generate one requested report."""
    from .jobs import report_job_run

    report_job_run(job_id=job_id)


@shared_task(ignore_result=True)
def report_jobs_monthly_task() -> None:
    """Beat: last month's consent report for every ethics board."""
    from .jobs import report_jobs_monthly

    report_jobs_monthly()


@shared_task(ignore_result=True)
def report_jobs_expire_task() -> None:
    """Beat: remove expired report files."""
    from .jobs import report_jobs_expire

    report_jobs_expire()
