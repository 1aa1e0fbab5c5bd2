"""Celery adapters for reports: ids in, one service call, nothing personal in the arguments."""

from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def ledger_certificate_nightly() -> None:
    """Beat: issue the nightly ledger certificate and e-mail its digest to the boards."""
    from .certificates import certificate_nightly

    certificate_nightly()
