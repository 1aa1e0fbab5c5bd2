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


def rate_display(value: float | None) -> str:
    """A rate with enough decimals to show it is not zero: 0.02 a day, not "0.0" beside a
    forecast of 27 more people."""
    if value is None:
        return ""
    decimals = 1
    while 0 < value < 10 ** (1 - decimals) and decimals < 4:
        decimals += 1
    return number_format(value, decimals)


_rate = rate_display


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
    """The forecast per group. Without any target (a site none were set for) the target, the
    pace needed and the verdict are left out rather than shown as empty columns."""
    with_targets = any(fc.target for fc in f.forecasts)
    rows: list[list[object]] = []
    for fc in f.forecasts:
        row: list[object] = [fc.label, fc.enrolled]
        if with_targets:
            row.append(fc.target or "")
        row += [fc.recent, _rate(fc.rate_per_day), fc.projected]
        if with_targets:
            status = "" if fc.on_track is None else (_("On track") if fc.on_track else _("Behind"))
            row += [_rate(fc.needed_per_day), status]
        rows.append(row)
    headers = [_("Group"), _("Enrolled")]
    if with_targets:
        headers.append(_("Target"))
    headers += [
        _("Consents in the last 90 days"),
        _("Recent rate per day"),
        _("Projected at phase end"),
    ]
    if with_targets:
        headers += [_("Rate needed per day"), _("Status")]
    return Table(
        "forecast",
        _("Forecast to the end of the phase at the rate of the last 90 days"),
        headers,
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
