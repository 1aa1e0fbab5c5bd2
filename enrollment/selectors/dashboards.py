"""Dashboard figures, read from the pre-aggregated funnel tables only.

Never touches the participants table: every figure comes from ``FunnelCurrent`` (who is where now),
``FunnelMonthly`` (enrollments per month) and ``FunnelDaily`` (the last 90 days), plus the small
programme tables (phases, targets, sites, cohorts). About ten queries, whatever the number of
participants.

Definitions (also shown on the page):
* enrolled: participants whose consent stands, i.e. now "consented", "sample collected" or "in the
  dam"; withdrawn participants no longer count;
* targets are cumulative: a phase's target is the number enrolled by its end date;
* enrollments per month: consents given in that month (Asia/Seoul);
* forecast: the consents of the last 90 days, as a daily rate, carried on to the phase's end date;
  the groups' forecasts add up to the overall one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import (
    NO_SITE,
    AgeBand,
    Cohort,
    CohortGroup,
    FunnelCurrent,
    FunnelDaily,
    FunnelMonthly,
    ParticipantStatus,
    Phase,
    PhaseTarget,
    Sex,
    Site,
)

S = ParticipantStatus
ENROLLED = (S.CONSENTED, S.SAMPLE_COLLECTED, S.IN_DAM)
FUNNEL_ORDER = [
    S.REGISTERED,
    S.INELIGIBLE,
    S.ELIGIBLE,
    S.CONSENTED,
    S.SAMPLE_COLLECTED,
    S.IN_DAM,
    S.WITHDRAWN,
]
RATE_WINDOW_DAYS = 90


@dataclass(frozen=True)
class Progress:
    key: str
    label: str
    enrolled: int
    target: int | None

    @property
    def share(self) -> float | None:
        return self.enrolled / self.target if self.target else None


@dataclass(frozen=True)
class Forecast:
    """Where a group stands at the phase end if the recent pace holds.

    ``projected`` is given, not computed here: the groups' extra enrollments are apportioned
    from the overall one (see ``_forecasts``) so that the groups always add up to the total."""

    label: str
    enrolled: int
    target: int | None
    ends_on: dt.date
    days_left: int
    recent: int  # consents in the last RATE_WINDOW_DAYS days
    projected: int

    @property
    def rate_per_day(self) -> float:
        return self.recent / RATE_WINDOW_DAYS

    @property
    def more(self) -> int:
        """Enrollments still expected at the recent pace, on top of those enrolled today."""
        return self.projected - self.enrolled

    @property
    def needed_per_day(self) -> float | None:
        if self.target is None:
            return None
        missing = max(self.target - self.enrolled, 0)
        if missing == 0:
            return 0.0
        return missing / self.days_left if self.days_left > 0 else None

    @property
    def on_track(self) -> bool | None:
        return None if self.target is None else self.projected >= self.target


@dataclass
class Figures:
    phase: Phase | None
    phases: list[Phase]
    today: dt.date
    sites: list[Site]
    overall: Progress
    by_group: list[Progress]
    by_site: list[Progress]
    monthly: list[tuple[dt.date, int]]
    cumulative: list[tuple[dt.date, int]]
    funnel: list[tuple[str, str, int]]
    age_bands: list[str]
    by_sex: list[tuple[str, str, list[int]]]
    forecasts: list[Forecast] = field(default_factory=list)


def _phase_for(phases: list[Phase], phase_id: int | None, today: dt.date) -> Phase | None:
    if phase_id is not None:
        return next((p for p in phases if p.pk == phase_id), None)
    current = [p for p in phases if p.starts_on <= today <= p.ends_on]
    upcoming = [p for p in phases if p.ends_on >= today]
    candidates = current or upcoming or phases[-1:]
    return candidates[0] if candidates else None


def dashboard_figures(
    *,
    site_ids: frozenset[int] | None,
    phase_id: int | None = None,
    today: dt.date | None = None,
    all_sites: list[Site] | None = None,
) -> Figures:
    """Everything a dashboard shows; ``site_ids=None`` is the national view.

    ``all_sites`` saves a query when the caller has loaded the sites already (ordered by code)."""
    today = today or timezone.localdate()
    phases = list(Phase.objects.select_related("programme").order_by("ends_on", "number"))
    phase = _phase_for(phases, phase_id, today)
    if all_sites is None:
        all_sites = list(Site.objects.only("id", "code", "name", "name_en").order_by("code"))
    sites = [s for s in all_sites if site_ids is None or s.pk in site_ids]
    cohort_group = dict(Cohort.objects.values_list("id", "group"))
    scope = Q() if site_ids is None else Q(site_id__in=site_ids)
    targets = _targets(phase, site_ids)

    now_by_site_cohort_status, by_age_sex = _current_counts(site_ids)
    enrolled_by_site: dict[int, int] = defaultdict(int)
    enrolled_by_group: dict[str, int] = defaultdict(int)
    by_status: dict[str, int] = defaultdict(int)
    for site_id, cohort_id, status, total in now_by_site_cohort_status:
        by_status[status] += total
        if status in ENROLLED:
            enrolled_by_site[site_id] += total
            enrolled_by_group[cohort_group.get(cohort_id, "")] += total
    enrolled = sum(enrolled_by_site.values())

    overall_target = targets.get(("", None))
    if overall_target is None and site_ids is not None:
        site_level = [targets[("", s.pk)] for s in sites if ("", s.pk) in targets]
        overall_target = sum(site_level) if site_level else None
    overall = Progress("all", str(_("All participants")), enrolled, overall_target)
    by_group = [
        Progress(
            group.value,
            str(group.label),
            enrolled_by_group.get(group.value, 0),
            _group_target(targets, group.value, sites, site_ids),
        )
        for group in CohortGroup
    ]
    by_site = [
        Progress(s.code, s.label, enrolled_by_site.get(s.pk, 0), targets.get(("", s.pk)))
        for s in sites
    ]
    if site_ids is None and enrolled_by_site.get(NO_SITE):
        by_site.append(Progress("-", str(_("Not yet at a site")), enrolled_by_site[NO_SITE], None))

    monthly = _monthly(scope, phase, today)
    cumulative = _cumulative(monthly, enrolled)
    funnel = [(s.value, str(s.label), by_status.get(s.value, 0)) for s in FUNNEL_ORDER]
    age_bands, by_sex = _demographics(by_age_sex)
    forecasts = _forecasts(scope, phase, today, overall, by_group, cohort_group)
    return Figures(
        phase=phase,
        phases=phases,
        today=today,
        sites=sites,
        overall=overall,
        by_group=by_group,
        by_site=by_site,
        monthly=monthly,
        cumulative=cumulative,
        funnel=funnel,
        age_bands=age_bands,
        by_sex=by_sex,
        forecasts=forecasts,
    )


def _targets(
    phase: Phase | None, site_ids: frozenset[int] | None
) -> dict[tuple[str, int | None], int]:
    if phase is None:
        return {}
    rows = PhaseTarget.objects.filter(phase=phase)
    if site_ids is not None:
        rows = rows.filter(site_id__in=site_ids)
    return {(t.cohort_group, t.site_id): t.target for t in rows}


def _group_target(
    targets: dict[tuple[str, int | None], int],
    group: str,
    sites: Iterable[Site],
    site_ids: frozenset[int] | None,
) -> int | None:
    if site_ids is None:
        return targets.get((group, None))
    values = [targets[(group, s.pk)] for s in sites if (group, s.pk) in targets]
    return sum(values) if values else None


def _month_range(first: dt.date, last: dt.date) -> list[dt.date]:
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append(day)
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return months


def _monthly(scope: Q, phase: Phase | None, today: dt.date) -> list[tuple[dt.date, int]]:
    rows = dict(
        FunnelMonthly.objects.filter(scope, status=S.CONSENTED)
        .values_list("month")
        .annotate(total=Sum("n"))
        .values_list("month", "total")
    )
    if not rows and phase is None:
        return []
    first = min([*rows, today.replace(day=1)])
    if phase is not None:
        first = min(first, phase.starts_on.replace(day=1))
    # Keep the chart readable: at most the last 60 months.
    months = _month_range(first, today)[-60:]
    return [(m, rows.get(m, 0)) for m in months]


def _cumulative(monthly: list[tuple[dt.date, int]], enrolled: int) -> list[tuple[dt.date, int]]:
    """Enrolled at the end of each month, counted back from today's figure by the monthly
    consents (withdrawals before today are thereby spread over the past, which is close enough
    for a trend line)."""
    points, remaining = [], enrolled
    for month, n in reversed(monthly):
        end = (month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        points.append((end, max(remaining, 0)))
        remaining -= n
    if monthly:
        points.append((monthly[0][0], max(remaining, 0)))
    return list(reversed(points))


def _current_counts(
    site_ids: frozenset[int] | None,
) -> tuple[list[tuple[int, int, str, int]], dict[tuple[str, str], int]]:
    """Who is where now: (site, cohort, status, n) rows, and enrolled per (age band, sex).

    On PostgreSQL both come from one scan of ``FunnelCurrent`` (GROUPING SETS)."""
    if connection.vendor != "postgresql":
        scope = Q() if site_ids is None else Q(site_id__in=site_ids)
        rows = list(
            FunnelCurrent.objects.filter(scope)
            .values_list("site_id", "cohort_id", "status")
            .annotate(total=Sum("n"))
        )
        enrolled_by_age_sex = {
            (band, sex): total
            for band, sex, total in FunnelCurrent.objects.filter(scope, status__in=ENROLLED)
            .values_list("age_band", "sex")
            .annotate(total=Sum("n"))
        }
        return rows, enrolled_by_age_sex
    where, params = "", []
    if site_ids is not None:
        where, params = "WHERE site_id = ANY(%s)", [list(site_ids)]
    table = FunnelCurrent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT site_id, cohort_id, status, age_band, sex, SUM(n), GROUPING(site_id)
            FROM {table} {where}
            GROUP BY GROUPING SETS ((site_id, cohort_id, status), (status, age_band, sex))
            """,  # noqa: S608 - the table name comes from the model
            params,
        )
        result = cursor.fetchall()
    rows = [
        (site, cohort, status, int(n)) for site, cohort, status, _b, _s, n, g in result if not g
    ]
    demographics: dict[tuple[str, str], int] = defaultdict(int)
    for _site, _cohort, status, band, sex, n, by_age in result:
        if by_age and status in ENROLLED:
            demographics[(band, sex)] += int(n)
    return rows, demographics


def _demographics(
    counts: dict[tuple[str, str], int],
) -> tuple[list[str], list[tuple[str, str, list[int]]]]:
    bands = [b.value for b in AgeBand]
    series = [
        (str(sex.label), f"bar-{sex.value}", [counts.get((b, sex.value), 0) for b in bands])
        for sex in Sex
    ]
    return [str(b.label) for b in AgeBand], series


def apportion(total: int, weights: list[int]) -> list[int]:
    """Split the whole number ``total`` in proportion to ``weights`` so that the parts add up to
    it exactly (largest remainder; ties go to the earlier part, so the result never depends on
    anything but the inputs)."""
    weight_sum = sum(weights)
    if weight_sum == 0 or total == 0:
        return [0] * len(weights)
    parts = [total * w // weight_sum for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % weight_sum), i))
    for i in remainders[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _forecasts(
    scope: Q,
    phase: Phase | None,
    today: dt.date,
    overall: Progress,
    by_group: list[Progress],
    cohort_group: dict[int, str],
) -> list[Forecast]:
    """The overall forecast and one per cohort group, which add up to it.

    Each group's pace is its own consents of the last 90 days; rounding each group's projection
    on its own made the groups miss the total by one or two, so the overall extra enrollments
    are rounded once and shared out by each group's recent consents."""
    if phase is None:
        return []
    since = today - dt.timedelta(days=RATE_WINDOW_DAYS)
    recent_by_group: dict[str, int] = defaultdict(int)
    for cohort_id, total in (
        FunnelDaily.objects.filter(scope, status=S.CONSENTED, day__gt=since, day__lte=today)
        .values_list("cohort_id")
        .annotate(total=Sum("n"))
        .values_list("cohort_id", "total")
    ):
        recent_by_group[cohort_group.get(cohort_id, "")] += total
    return forecasts_split(
        overall=overall,
        by_group=by_group,
        recent_by_group=recent_by_group,
        ends_on=phase.ends_on,
        today=today,
    )


def forecasts_split(
    *,
    overall: Progress,
    by_group: list[Progress],
    recent_by_group: dict[str, int],
    ends_on: dt.date,
    today: dt.date,
) -> list[Forecast]:
    """The overall forecast first, then one per group; the groups' ``projected`` add up to the
    overall one, and a group with no recent consents is projected to stay where it is."""
    days_left = max((ends_on - today).days, 0)
    recent_total = sum(recent_by_group.values())
    # Exact arithmetic: recent * days / window, rounded half up once for the whole programme.
    more_total = (2 * recent_total * days_left + RATE_WINDOW_DAYS) // (2 * RATE_WINDOW_DAYS)
    groups = list(by_group)
    others = overall.enrolled - sum(g.enrolled for g in groups)
    if recent_by_group.get("") or others:
        # Participants of a cohort outside the known groups still count in the total; a row of
        # their own keeps the table adding up.
        groups.append(Progress("", str(_("Other cohorts")), others, None))
    more = apportion(more_total, [recent_by_group.get(g.key, 0) for g in groups])
    forecasts = [
        Forecast(
            overall.label,
            overall.enrolled,
            overall.target,
            ends_on,
            days_left,
            recent_total,
            overall.enrolled + more_total,
        )
    ]
    forecasts += [
        Forecast(
            g.label,
            g.enrolled,
            g.target,
            ends_on,
            days_left,
            recent_by_group.get(g.key, 0),
            g.enrolled + extra,
        )
        for g, extra in zip(groups, more, strict=True)
    ]
    return forecasts
