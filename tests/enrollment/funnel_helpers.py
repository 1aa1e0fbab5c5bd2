"""Helpers for funnel tests: participants created the way services create them, and the direct
counts the aggregates must equal."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db import connection

from enrollment.models import FunnelCurrent, FunnelDaily, FunnelMonthly, Participant
from enrollment.services.funnel import participant_record_created, participant_transition
from tests.factories import ParticipantFactory

PATH = ["eligible", "consented", "sample_collected", "in_dam"]


def registered(**kwargs: Any) -> Participant:
    participant = ParticipantFactory(**kwargs)
    participant_record_created(participant=participant, actor=None)
    return participant


def walk(participant: Participant, steps: int, *, actor: Any = None) -> Participant:
    for to_status in PATH[:steps]:
        participant_transition(participant=participant, to_status=to_status, actor=actor)
    return participant


def current_from_aggregates() -> Counter:
    return Counter(
        {
            (r.site_id, r.cohort_id, r.status, r.age_band, r.sex): r.n
            for r in FunnelCurrent.objects.all()
            if r.n
        }
    )


def current_direct() -> Counter:
    """Straight from the participants table (what the aggregates must equal)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT COALESCE(site_id, 0), cohort_id, status,
                   extract(year FROM registered_at AT TIME ZONE 'Asia/Seoul')::int - birth_year,
                   sex, count(*)
            FROM enrollment_participant GROUP BY 1, 2, 3, 4, 5
            """
        )
        rows = cursor.fetchall()
    from enrollment.models import AgeBand

    counts: Counter = Counter()
    for site_id, cohort_id, status, age, sex, n in rows:
        counts[(site_id, cohort_id, status, AgeBand.for_age(age).value, sex)] += n
    return counts


def daily_from_aggregates() -> Counter:
    return Counter(
        {(r.day, r.site_id, r.cohort_id, r.status): r.n for r in FunnelDaily.objects.all() if r.n}
    )


def monthly_from_aggregates() -> Counter:
    return Counter(
        {
            (r.month, r.site_id, r.cohort_id, r.status): r.n
            for r in FunnelMonthly.objects.all()
            if r.n
        }
    )


def daily_direct() -> Counter:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT (at AT TIME ZONE 'Asia/Seoul')::date, COALESCE(site_id_at, 0), cohort_id_at,
                   to_status, count(*)
            FROM enrollment_statustransition WHERE from_status <> to_status
            GROUP BY 1, 2, 3, 4
            """
        )
        return Counter({tuple(row[:4]): row[4] for row in cursor.fetchall()})


def monthly_direct() -> Counter:
    counts: Counter = Counter()
    for (day, site_id, cohort_id, status), n in daily_direct().items():
        counts[(day.replace(day=1), site_id, cohort_id, status)] += n
    return counts


def sign_in(client: Any, user: Any) -> Any:
    """Sign ``user`` in with English as their language, so assertions read the source strings."""
    user.preferred_language = "en"
    user.save(update_fields=["preferred_language"])
    client.force_login(user)
    return user
