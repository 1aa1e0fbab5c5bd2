"""The dam's part of ``/healthz``: the age of the oldest message still waiting for delivery."""

from __future__ import annotations

from typing import Any

from django.conf import settings


def outbox_health() -> tuple[bool, dict[str, Any]]:
    """Unhealthy when a pending message has waited longer than ``DAM_OUTBOX_MAX_AGE_SECONDS``
    (default 3600): the dam has been unreachable, or delivery stuck, that long.

    Dead letters are reported (how many, and the oldest one's age) but do not turn the check red:
    they wait for a person on the steward page, and a web node is no less healthy for them (a
    load balancer acting on ``/healthz`` must not take the portal down over one refused message).
    """
    from .services.delivery import outbox_ages

    pending_age, dead_age, dead = outbox_ages()
    limit = settings.DAM_OUTBOX_MAX_AGE_SECONDS
    details = {
        "oldest_undelivered_seconds": None if pending_age is None else round(pending_age),
        "max_age_seconds": limit,
        "dead_letters": dead,
        "oldest_dead_letter_seconds": None if dead_age is None else round(dead_age),
    }
    return (pending_age is None or pending_age <= limit), details
