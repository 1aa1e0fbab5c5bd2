"""Celery adapters for re-consent campaigns: ids in, one service call, nothing personal in args.

Listed in ``CELERY_IMPORTS`` (the consent app's ``tasks`` module belongs to receipts).
"""

from __future__ import annotations

from celery import shared_task

from .services import campaigns, coming_of_age


@shared_task(acks_late=True, ignore_result=True)
def campaign_send_batch_task(campaign_id: int, chain_token: str = "") -> int:
    # A message without a token (queued before chains had one) is stale: the sweep restarts it.
    return campaigns.campaign_send_batch(campaign_id=campaign_id, chain_token=chain_token)


@shared_task(acks_late=True, ignore_result=True)
def campaign_send_reminders_task(campaign_id: int) -> int:
    return campaigns.campaign_send_reminders(campaign_id=campaign_id)


@shared_task(ignore_result=True)
def campaigns_resume_stalled_task() -> int:
    return len(campaigns.campaigns_resume_stalled())


@shared_task(ignore_result=True)
def campaigns_remind_task() -> int:
    return campaigns.campaigns_remind_all()


@shared_task(ignore_result=True)
def minors_coming_of_age_task() -> int:
    return coming_of_age.minors_flag_coming_of_age().flagged
