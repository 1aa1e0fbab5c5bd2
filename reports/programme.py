"""Programme reports for programme managers: recruitment per phase and the biobank's yearly
figures.

Recruitment reuses the dashboards' selector (``dashboard_figures``: the pre-aggregated funnel
tables, about ten queries at any size) and their tables and charts. The biobank figures count
samples collected by type and month (``dam.Sample``), samples shipped to the dam (manifest lines
sent) and what was done with samples after withdrawal (the recorded fates: destroyed, kept
anonymized, not recallable) by type and month (``reports.samples``), and consents and withdrawals
by month and level from the consent ledger, with the fate of samples the participant chose.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _

from consent.models import ConsentEvent, EventKind, SamplesFate, WithdrawalLevel
from dam.models import Sample, SampleType
from dam.services.fates import samples_awaiting_fate
from enrollment.selectors.dashboards import Figures, dashboard_figures
from enrollment.views import charts, tables

from .samples import fates_by_month, shipped_by_month

__all__ = [
    "BiobankFigures",
    "biobank_figures",
    "biobank_rows",
    "recruitment_charts",
    "recruitment_figures",
    "recruitment_rows",
]

SEOUL = ZoneInfo("Asia/Seoul")


def recruitment_figures(*, phase_id: int | None) -> tuple[Figures, list[tables.Table]]:
    figures = dashboard_figures(site_ids=None, phase_id=phase_id)
    return figures, [build(figures) for build in tables.TABLES.values()]


def recruitment_charts(figures: Figures) -> dict[str, str]:
    result: dict[str, str] = {
        "groups": charts.horizontal_bars(
            title=_("Enrolled against target"),
            desc=_("Horizontal bars: enrolled participants per cohort group, over the target."),
            bars=[
                charts.Bar(figures.overall.label, figures.overall.enrolled, figures.overall.target)
            ]
            + [charts.Bar(p.label, p.enrolled, p.target) for p in figures.by_group],
        ),
        "monthly": charts.columns(
            title=_("Enrollments per month"),
            desc=_("Columns: consents given in each month."),
            points=[(m.strftime("%Y-%m"), n) for m, n in figures.monthly],
        ),
    }
    return result


def recruitment_rows(table_list: list[tables.Table]) -> Iterator[Sequence[object]]:
    """Every dashboard table, one after the other: table, then its own columns."""
    for table in table_list:
        yield (table.caption, *table.headers)
        for row in table.rows:
            yield (table.name, *row)


@dataclass
class BiobankFigures:
    year: int
    samples: list[tuple[str, str, int]]  # month, sample type label, collected
    consents: list[tuple[str, int]]  # month, consents given (first consent and re-consent)
    withdrawals: list[tuple[str, str, str, int]]  # month, level, chosen fate, withdrawals
    shipped: list[tuple[str, str, int]]  # month, sample type label, tubes sent to the dam
    fates: list[tuple[str, str, str, int]]  # month, sample type label, recorded fate, tubes
    awaiting_fate: int  # tubes of "no further use" withdrawals with no fate recorded (now)


def _month(value: dt.datetime | dt.date) -> str:
    return value.strftime("%Y-%m")


def biobank_figures(*, year: int) -> BiobankFigures:
    start = dt.datetime(year, 1, 1, tzinfo=SEOUL)
    end = dt.datetime(year + 1, 1, 1, tzinfo=SEOUL)
    type_labels = dict(SampleType.choices)
    samples = [
        (_month(r["month"]), str(type_labels.get(r["sample_type"], r["sample_type"])), r["n"])
        for r in Sample.objects.filter(collected_at__gte=start, collected_at__lt=end)
        .annotate(month=TruncMonth("collected_at", tzinfo=SEOUL))
        .values("month", "sample_type")
        .annotate(n=Count("pk"))
        .order_by("month", "sample_type")
    ]
    events = ConsentEvent.objects.filter(signed_at__gte=start, signed_at__lt=end).annotate(
        month=TruncMonth("signed_at", tzinfo=SEOUL)
    )
    consents = [
        (_month(r["month"]), r["n"])
        for r in events.filter(kind__in=[EventKind.GRANT, EventKind.RECONSENT])
        .values("month")
        .annotate(n=Count("pk"))
        .order_by("month")
    ]
    levels = dict(WithdrawalLevel.choices)
    fates = dict(SamplesFate.choices)
    withdrawals = [
        (
            _month(r["month"]),
            str(levels.get(r["withdrawal_level"], r["withdrawal_level"])),
            str(fates.get(r["samples_fate"], "—")) if r["samples_fate"] else "—",
            r["n"],
        )
        for r in events.filter(kind=EventKind.WITHDRAW)
        .values("month", "withdrawal_level", "samples_fate")
        .annotate(n=Count("pk"))
        .order_by("month", "withdrawal_level", "samples_fate")
    ]
    return BiobankFigures(
        year=year,
        samples=samples,
        consents=consents,
        withdrawals=withdrawals,
        shipped=shipped_by_month(start=start, end=end),
        fates=fates_by_month(start=start, end=end),
        awaiting_fate=samples_awaiting_fate().count(),
    )


def biobank_rows(figures: BiobankFigures) -> Iterator[Sequence[object]]:
    for month, kind, n in figures.samples:
        yield (_("samples collected"), month, kind, "", n)
    for month, n in figures.consents:
        yield (_("consents"), month, "", "", n)
    for month, level, fate, n in figures.withdrawals:
        yield (_("withdrawals"), month, level, fate, n)
    for month, kind, n in figures.shipped:
        yield (_("samples shipped"), month, kind, "", n)
    for month, kind, fate, n in figures.fates:
        yield (_("sample fates after withdrawal"), month, kind, fate, n)
    yield (_("samples awaiting a recorded fate"), "", "", "", figures.awaiting_fate)
