"""Celery adapters for consent: ids in, one service call, nothing personal in the arguments."""

from __future__ import annotations

from celery import shared_task

from .services.receipts import receipt_issue


@shared_task(
    acks_late=True, ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=8
)
def consent_receipt_issue(event_id: int) -> None:
    """Make, store and mail the PDF receipt of one consent event (idempotent)."""
    receipt_issue(event_id=event_id)


@shared_task(acks_late=True, ignore_result=True)
def consent_ledger_verification_run(verification_id: int) -> None:
    """Run one requested ledger verification."""
    from .services.verification import ledger_verification_run

    ledger_verification_run(verification_id=verification_id)


@shared_task(ignore_result=True)
def consent_ledger_verify_nightly() -> None:
    """Beat: verify every chain once a night and keep the outcome."""
    from .services.verification import ledger_verification_nightly

    ledger_verification_nightly()


@shared_task(ignore_result=True)
def consent_receipts_reissue() -> int:
    """Beat: send again the receipt tasks of events whose receipt was never made or mailed."""
    from .services.receipts import receipts_reissue_missing

    return len(receipts_reissue_missing())
