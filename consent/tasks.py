"""Every Celery task of the consent app: ids in, one service call, nothing personal in the arguments.

Each task imports its service inside its body, so this module imports no consent service and the
services may import their tasks at the top to schedule them after the commit: no import circle,
and ``autodiscover_tasks`` finds everything here (no ``CELERY_IMPORTS``).
"""

from __future__ import annotations

from celery import shared_task

# --- receipts -----------------------------------------------------------------------------------


@shared_task(
    acks_late=True, ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=8
)
def consent_receipt_issue(event_id: int) -> None:
    """Make, store and mail the PDF receipt of one consent event (idempotent)."""
    from .services.receipts import receipt_issue

    receipt_issue(event_id=event_id)


@shared_task(ignore_result=True)
def consent_receipts_reissue() -> int:
    """Beat: send again the receipt tasks of events whose receipt was never made or mailed."""
    from .services.receipts import receipts_reissue_missing

    return len(receipts_reissue_missing())


# --- ledger verification ------------------------------------------------------------------------


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


# --- re-consent campaigns and coming of age -------------------------------------------------------


@shared_task(acks_late=True, ignore_result=True)
def campaign_send_batch_task(campaign_id: int, chain_token: str = "") -> int:
    """Send the next batch of a campaign's first invitations; schedules the batch after it.

    Runs only while ``chain_token`` is the campaign's live chain; a message without a token
    (queued before chains had one) is stale, and the sweep restarts its campaign."""
    from .services.campaigns import campaign_send_batch

    return campaign_send_batch(campaign_id=campaign_id, chain_token=chain_token)


@shared_task(acks_late=True, ignore_result=True)
def campaign_send_reminders_task(campaign_id: int, chain_token: str = "") -> int:
    """Send the next batch of a campaign's reminders; schedules the batch after it.

    Runs only while ``chain_token`` is the campaign's live reminder chain, like the first
    invitations' batches."""
    from .services.campaigns import campaign_send_reminders

    return campaign_send_reminders(campaign_id=campaign_id, chain_token=chain_token)


@shared_task(ignore_result=True)
def campaigns_resume_stalled_task() -> int:
    """Beat: re-schedule running campaigns whose next batch is overdue."""
    from .services.campaigns import campaigns_resume_stalled

    return len(campaigns_resume_stalled())


@shared_task(ignore_result=True)
def campaigns_remind_task() -> int:
    """Beat: start a reminder chain for every open campaign that has none alive."""
    from .services.campaigns import campaigns_remind_all

    return campaigns_remind_all()


@shared_task(ignore_result=True)
def minors_coming_of_age_task() -> int:
    """Beat: flag participants enrolled as minors who are now of age, for their own consent."""
    from .services.coming_of_age import minors_flag_coming_of_age

    return minors_flag_coming_of_age().flagged
