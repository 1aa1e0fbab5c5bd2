"""Rebuilding the funnel aggregates from the append-only transition log.

The funnel service keeps the aggregates current transition by transition; this rebuild is the
proof and the repair: after a bulk load (seeding) or if anyone ever doubts the counts.
"""

# SQL is built from model table names and constants only, never from input.
# ruff: noqa: S608

from __future__ import annotations

from collections import Counter

from django.db import connection, transaction

from portal.paging import rows_by_id

from ..models import (
    NO_SITE,
    FunnelCurrent,
    FunnelDaily,
    FunnelMonthly,
    Participant,
    StatusTransition,
)
from .funnel import SEOUL, CurrentKey, DailyKey, age_band_of, aggregates_add

__all__ = ["funnel_aggregates_rebuild"]

_AGE_BAND_SQL = """
    CASE
        WHEN a.age < 19 THEN '0-18'
        WHEN a.age < 30 THEN '19-29'
        WHEN a.age >= 70 THEN '70+'
        ELSE (a.age / 10 * 10)::text || '-' || (a.age / 10 * 10 + 9)::text
    END
"""


@transaction.atomic
def funnel_aggregates_rebuild() -> dict[str, int]:
    """Replace the aggregate tables with counts recomputed from ``StatusTransition``.

    Returns the number of rows written per table.
    """
    tables = [m._meta.db_table for m in (FunnelDaily, FunnelMonthly, FunnelCurrent)]
    if connection.vendor == "postgresql":
        _rebuild_postgresql(tables)
    else:
        _rebuild_portable()
    return {
        "daily": FunnelDaily.objects.count(),
        "monthly": FunnelMonthly.objects.count(),
        "current": FunnelCurrent.objects.count(),
    }


# A participant's current status is the one their latest transition (by id: the order in which
# the steps were taken, even when a step was back-dated) led to.


def _rebuild_postgresql(tables: list[str]) -> None:
    daily, monthly, current = tables
    transitions = StatusTransition._meta.db_table
    participants = Participant._meta.db_table
    with connection.cursor() as cursor:
        # Transitions that are busy moving the counts finish first; new ones wait for the rebuild.
        cursor.execute(f"LOCK TABLE {daily}, {monthly}, {current} IN SHARE ROW EXCLUSIVE MODE")
        # The latest step of each participant is found by sorting the log: in memory, not on disk.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(f"DELETE FROM {daily}")
        cursor.execute(f"DELETE FROM {monthly}")
        cursor.execute(f"DELETE FROM {current}")
        cursor.execute(
            f"""
            INSERT INTO {daily} (day, site_id, cohort_id, status, n)
            SELECT (at AT TIME ZONE %s)::date, COALESCE(site_id_at, {NO_SITE}), cohort_id_at,
                   to_status, count(*)
            FROM {transitions}
            WHERE from_status <> to_status
            GROUP BY 1, 2, 3, 4
            ORDER BY 4, 1
            """,
            [str(SEOUL)],
        )
        cursor.execute(
            f"""
            INSERT INTO {monthly} (month, site_id, cohort_id, status, n)
            SELECT date_trunc('month', day)::date, site_id, cohort_id, status, sum(n)
            FROM {daily}
            GROUP BY 1, 2, 3, 4
            ORDER BY 4, 1
            """
        )
        cursor.execute(
            f"""
            INSERT INTO {current} (site_id, cohort_id, status, age_band, sex, n)
            SELECT a.site_id, a.cohort_id, a.status, {_AGE_BAND_SQL}, a.sex, count(*)
            FROM (
                SELECT DISTINCT ON (t.participant_id)
                       COALESCE(t.site_id_at, {NO_SITE}) AS site_id, t.cohort_id_at AS cohort_id,
                       t.to_status AS status, p.sex,
                       (extract(year FROM p.registered_at AT TIME ZONE %s)::int - p.birth_year)
                           AS age
                FROM {transitions} t JOIN {participants} p ON p.id = t.participant_id
                ORDER BY t.participant_id, t.id DESC
            ) a
            GROUP BY a.site_id, a.cohort_id, a.status, 4, a.sex
            """,
            [str(SEOUL)],
        )
        # Fresh statistics, or the first dashboards after a rebuild get poor plans.
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


def _rebuild_portable() -> None:
    """The same, in Python, for the embedded SQLite database (small by nature)."""
    from django.utils import timezone

    FunnelDaily.objects.all().delete()
    FunnelMonthly.objects.all().delete()
    FunnelCurrent.objects.all().delete()
    entered: Counter[DailyKey] = Counter()
    latest: dict[int, StatusTransition] = {}
    for t in rows_by_id(StatusTransition.objects.all(), size=5000):
        if t.from_status != t.to_status:
            day = timezone.localtime(t.at, SEOUL).date()
            entered[(day, t.site_id_at or NO_SITE, t.cohort_id_at, t.to_status)] += 1
        latest[t.participant_id] = t
    current: Counter[CurrentKey] = Counter()
    people = Participant.objects.filter(pk__in=latest).only("birth_year", "sex", "registered_at")
    for p in rows_by_id(people, size=5000):
        t = latest[p.pk]
        band = age_band_of(birth_year=p.birth_year, registered_at=p.registered_at)
        current[(t.site_id_at or NO_SITE, t.cohort_id_at, t.to_status, band, p.sex)] += 1
    aggregates_add(entered=entered, current=current)
