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
