"""The dam's part of ``/healthz`` and ``/metrics``: the age of the oldest message still waiting
for delivery, and the dead letters waiting for a person."""

from __future__ import annotations

from django.conf import settings

from portal.health import OK

BEHIND = "behind"


def outbox_health() -> str:
    """``behind`` (not ready) when a pending message has waited longer than
    ``DAM_OUTBOX_MAX_AGE_SECONDS`` (default 3600): the dam has been unreachable, or delivery stuck,
    that long.

    Dead letters do not turn the check red: they wait for a person on the steward page, and a web
    node is no less healthy for them (a load balancer acting on ``/healthz`` must not take the
    portal down over one refused message). They are reported as a figure instead.
    """
    pending_age = outbox_oldest_pending_seconds()
    if pending_age is None or pending_age <= settings.DAM_OUTBOX_MAX_AGE_SECONDS:
        return OK
    return BEHIND


def outbox_oldest_pending_seconds() -> float | None:
    from .services.delivery import outbox_ages

    pending_age, _dead_age, _dead = outbox_ages()
    return None if pending_age is None else round(pending_age)


def outbox_dead_letters() -> float:
    from .services.delivery import outbox_ages

    _pending_age, _dead_age, dead = outbox_ages()
    return float(dead)
