"""One live chain of batch tasks per campaign and kind: first invitations, and reminders.

A campaign sends at its rate only if exactly one chain of batches runs for it. Every scheduled
batch carries a fresh token that is also stored on the campaign; a batch runs only if it can swap
that token for its own, and stops as soon as the campaign's token is no longer its own. Pausing,
closing, resuming, the daily reminder start and the recovery sweep replace the token, so a batch
task left over from before (a countdown still waiting in the broker, a killed worker's task
delivered again, a second run of a beat job) finds a stranger's token and does nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from celery import Task
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..models import CampaignStatus, ReconsentCampaign
from ..tasks import campaign_send_batch_task, campaign_send_reminders_task

# A chain whose next batch is due longer ago than this is lost; the sweep starts a new one.
OVERDUE_GRACE = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class Chain:
    """Where one kind of chain keeps its token and due time, while which statuses it may run,
    and the task that carries its batches."""

    token_field: str
    due_field: str
    statuses: tuple[str, ...]
    task: Task[Any, Any]

    def token(self, campaign: ReconsentCampaign) -> str:
        return str(getattr(campaign, self.token_field))

    def due(self, campaign: ReconsentCampaign) -> dt.datetime | None:
        value: dt.datetime | None = getattr(campaign, self.due_field)
        return value


SENDING = Chain(
    "chain_token", "next_batch_due_at", (CampaignStatus.RUNNING,), campaign_send_batch_task
)
# Reminders start once every first invitation is out: the two chains never run side by side, so
# the campaign's e-mails together stay at its rate.
REMINDING = Chain(
    "reminder_chain_token",
    "next_reminder_due_at",
    (CampaignStatus.SENT,),
    campaign_send_reminders_task,
)


def batch_interval_seconds(campaign: ReconsentCampaign) -> float:
    """Seconds between batch starts that keep the campaign at its rate."""
    return 60.0 * campaign.batch_size / max(campaign.rate_per_minute, 1)


def chain_schedule(chain: Chain, campaign: ReconsentCampaign, countdown: float = 0) -> None:
    """Make a new live chain for ``campaign`` (its row locked by the caller): the batch scheduled
    here is the only one that may run; every older scheduled batch is now stale."""
    token = uuid.uuid4().hex
    setattr(campaign, chain.token_field, token)
    setattr(campaign, chain.due_field, timezone.now() + dt.timedelta(seconds=countdown))
    campaign.save(update_fields=[chain.token_field, chain.due_field])
    campaign_id = campaign.pk
    transaction.on_commit(lambda: chain.task.apply_async((campaign_id, token), countdown=countdown))


def chain_end(chain: Chain, campaign: ReconsentCampaign) -> list[str]:
    """End the live chain on ``campaign`` (not saved); the fields to save."""
    setattr(campaign, chain.token_field, "")
    setattr(campaign, chain.due_field, None)
    return [chain.token_field, chain.due_field]


def chain_claim(chain: Chain, campaign_id: int, chain_token: str | None) -> str | None:
    """Take the campaign's chain for one batch: the new token, or None when the batch is stale.

    ``chain_token`` None (an operator's or a test's direct call) takes over whatever chain is live.
    """
    with transaction.atomic():
        campaign = ReconsentCampaign.objects.select_for_update().get(pk=campaign_id)
        if campaign.status not in chain.statuses:
            return None
        if chain_token is not None and (not chain_token or chain.token(campaign) != chain_token):
            return None
        mine = uuid.uuid4().hex
        setattr(campaign, chain.token_field, mine)
        # While this batch runs its successor is due one interval from now.
        due = timezone.now() + dt.timedelta(seconds=batch_interval_seconds(campaign))
        setattr(campaign, chain.due_field, due)
        campaign.save(update_fields=[chain.token_field, chain.due_field])
        return mine


def chain_is_mine(chain: Chain, campaign_id: int, token: str) -> bool:
    return ReconsentCampaign.objects.filter(
        Q(pk=campaign_id, status__in=chain.statuses), Q(**{chain.token_field: token})
    ).exists()


def chain_is_overdue(chain: Chain, campaign: ReconsentCampaign, now: dt.datetime) -> bool:
    due = chain.due(campaign)
    return due is None or due < now - OVERDUE_GRACE


def chains_restart_overdue(chain: Chain, *, now: dt.datetime, live_only: bool) -> list[int]:
    """Restart every chain of this kind whose next batch is overdue; the campaigns' ids.

    ``live_only``: only chains that have a token (reminder chains end when nobody is left to
    remind; a campaign without one has nothing to restart).
    """
    cutoff = now - OVERDUE_GRACE
    candidates = ReconsentCampaign.objects.filter(status__in=chain.statuses).filter(
        Q(**{f"{chain.due_field}__isnull": True}) | Q(**{f"{chain.due_field}__lt": cutoff})
    )
    if live_only:
        candidates = candidates.exclude(**{chain.token_field: ""})
    restarted = []
    for campaign_id in candidates.values_list("pk", flat=True):
        with transaction.atomic():
            campaign = ReconsentCampaign.objects.select_for_update().get(pk=campaign_id)
            if campaign.status not in chain.statuses or not chain_is_overdue(chain, campaign, now):
                continue  # moved on meanwhile
            if live_only and not chain.token(campaign):
                continue
            chain_schedule(chain, campaign)
        restarted.append(campaign_id)
    return restarted
