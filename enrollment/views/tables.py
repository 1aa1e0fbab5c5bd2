"""The figures of each chart as a table: shown under the chart and offered as CSV."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from ..selectors.dashboards import Figures


@dataclass(frozen=True)
class Table:
    name: str
    caption: str
    headers: list[str]
    rows: list[list[object]]

    @property
    def display_rows(self) -> list[list[str]]:
        """The rows as shown on the page: whole numbers with thousands separators."""
        return [
            [f"{cell:,}" if isinstance(cell, int) else str(cell) for cell in row]
            for row in self.rows
        ]


def _share(enrolled: int, target: int | None) -> str:
    return f"{enrolled / target:.1%}" if target else ""


def _rate(value: float | None) -> str:
    return "" if value is None else number_format(value, 1)


def progress_groups(f: Figures) -> Table:
    rows: list[list[object]] = [
        [
            f.overall.label,
            f.overall.enrolled,
            f.overall.target or "",
            _share(f.overall.enrolled, f.overall.target),
        ]
    ]
    rows += [
        [p.label, p.enrolled, p.target or "", _share(p.enrolled, p.target)] for p in f.by_group
    ]
    return Table(
        "groups",
        _("Enrolled against the phase target, per cohort group"),
        [_("Group"), _("Enrolled"), _("Target"), _("Reached")],
        rows,
    )


def progress_sites(f: Figures) -> Table:
    rows: list[list[object]] = [
        [p.key, p.label, p.enrolled, p.target or "", _share(p.enrolled, p.target)]
        for p in f.by_site
    ]
    return Table(
        "sites",
        _("Enrolled against the site targets"),
        [_("Site code"), _("Site"), _("Enrolled"), _("Target"), _("Reached")],
        rows,
    )


def monthly(f: Figures) -> Table:
    rows: list[list[object]] = [[m.strftime("%Y-%m"), n] for m, n in f.monthly]
    return Table(
        "monthly", _("Enrollments (consents given) per month"), [_("Month"), _("Enrollments")], rows
    )


def funnel(f: Figures) -> Table:
    rows: list[list[object]] = [[label, n] for _code, label, n in f.funnel]
    return Table(
        "funnel", _("Participants by current status"), [_("Status"), _("Participants")], rows
    )


def demographics(f: Figures) -> Table:
    headers = [_("Age band"), *[label for label, _css, _v in f.by_sex], _("Total")]
    rows: list[list[object]] = []
    for i, band in enumerate(f.age_bands):
        values = [v[i] for _l, _c, v in f.by_sex]
        rows.append([band, *values, sum(values)])
    return Table(
        "demographics", _("Enrolled participants by age at registration and sex"), headers, rows
    )


def forecast(f: Figures) -> Table:
    rows: list[list[object]] = []
    for fc in f.forecasts:
        status = "" if fc.on_track is None else (_("On track") if fc.on_track else _("Behind"))
        rows.append(
            [
                fc.label,
                fc.enrolled,
                fc.target or "",
                _rate(fc.rate_per_day),
                fc.projected,
                _rate(fc.needed_per_day),
                status,
            ]
        )
    return Table(
        "forecast",
        _("Forecast to the end of the phase at the rate of the last 90 days"),
        [
            _("Group"),
            _("Enrolled"),
            _("Target"),
            _("Recent rate per day"),
            _("Projected at phase end"),
            _("Rate needed per day"),
            _("Status"),
        ],
        rows,
    )


TABLES: dict[str, Callable[[Figures], Table]] = {
    "groups": progress_groups,
    "sites": progress_sites,
    "monthly": monthly,
    "funnel": funnel,
    "demographics": demographics,
    "forecast": forecast,
}
