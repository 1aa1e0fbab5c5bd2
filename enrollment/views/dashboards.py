"""National and site dashboards: charts (server-side SVG), their tables and CSV downloads."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _

from portal.audit import Action, audit_record
from portal.csv_stream import csv_response
from portal.roles import Role, role_required, site_ids_for

from ..models import Site
from ..selectors.dashboards import Figures, dashboard_figures
from . import charts, tables


def _int_param(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name, "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


def _all_sites() -> list[Site]:
    return list(Site.objects.only("id", "code", "name", "name_en").order_by("code"))


def _scope(request: HttpRequest, kind: str) -> tuple[frozenset[int] | None, list[Site], int | None]:
    """The sites a dashboard covers: all (national) or the user's, narrowed by ``?site=``."""
    allowed = None if kind == "national" else site_ids_for(request.user)
    site_choices = [s for s in _all_sites() if allowed is None or s.pk in allowed]
    chosen = _int_param(request, "site")
    if chosen is not None and chosen in {s.pk for s in site_choices}:
        return frozenset({chosen}), site_choices, chosen
    return allowed, site_choices, None


def _charts(f: Figures) -> dict[str, Any]:
    bars_groups = [charts.Bar(f.overall.label, f.overall.enrolled, f.overall.target)]
    bars_groups += [charts.Bar(p.label, p.enrolled, p.target) for p in f.by_group]
    result: dict[str, Any] = {
        "groups": charts.horizontal_bars(
            title=_("Enrolled against target"),
            desc=_(
                "Horizontal bars: enrolled participants per cohort group, drawn over the "
                "phase target where one is set."
            ),
            bars=bars_groups,
        ),
        "sites": charts.horizontal_bars(
            title=_("Enrolled per site"),
            desc=_("Horizontal bars: enrolled participants per site, over the site target."),
            bars=[charts.Bar(p.label, p.enrolled, p.target) for p in f.by_site],
        ),
        "monthly": charts.columns(
            title=_("Enrollments per month"),
            desc=_("Columns: consents given in each month."),
            points=[(m.strftime("%Y-%m"), n) for m, n in f.monthly],
        ),
        "funnel": charts.horizontal_bars(
            title=_("The funnel"),
            desc=_("Horizontal bars: how many participants are in each status now."),
            bars=[charts.Bar(label, n) for _code, label, n in f.funnel],
        ),
        "demographics": charts.grouped_columns(
            title=_("Age and sex of enrolled participants"),
            desc=_(
                "Grouped columns: enrolled participants per age band at registration, one "
                "column per sex."
            ),
            groups=f.age_bands,
            series=f.by_sex,
        ),
    }
    overall = f.forecasts[0] if f.forecasts else None
    if f.phase is not None and overall is not None and overall.target:
        result["forecast"] = charts.forecast_line(
            title=_("Forecast to the end of the phase"),
            desc=_(
                "Solid line: enrolled so far. Dashed line: projection at the rate of the last "
                "90 days. Dotted line: the pace needed to reach the target."
            ),
            actual=f.cumulative,
            today=f.today,
            enrolled=overall.enrolled,
            projected=overall.projected,
            end=f.phase.ends_on,
            target=overall.target,
        )
    return result


def _dashboard(request: HttpRequest, kind: str) -> HttpResponse:
    site_ids, site_choices, chosen_site = _scope(request, kind)
    phase_param = _int_param(request, "phase")
    figures = dashboard_figures(site_ids=site_ids, phase_id=phase_param, all_sites=site_choices)
    context = {
        "kind": kind,
        "figures": figures,
        "charts": _charts(figures),
        "tables": {name: build(figures) for name, build in tables.TABLES.items()},
        "overall_forecast": figures.forecasts[0] if figures.forecasts else None,
        "recent_rate": tables.rate_display(figures.forecasts[0].rate_per_day)
        if figures.forecasts
        else "",
        "site_choices": site_choices,
        "chosen_site": chosen_site,
        "query": request.GET.urlencode(),
        "unknown_phase": phase_param is not None and figures.phase is None,
    }
    return render(request, "enrollment/dashboard.html", context)


@role_required(Role.PROGRAMME_MANAGER, Role.ADMIN)
def national(request: HttpRequest) -> HttpResponse:
    return _dashboard(request, "national")


@role_required(Role.COORDINATOR, Role.ADMIN)
def site(request: HttpRequest) -> HttpResponse:
    return _dashboard(request, "site")


def _csv(request: HttpRequest, kind: str, name: str) -> HttpResponseBase:
    build = tables.TABLES.get(name)
    if build is None:
        raise Http404
    site_ids, _choices, _chosen = _scope(request, kind)
    table = build(dashboard_figures(site_ids=site_ids, phase_id=_int_param(request, "phase")))
    audit_record(
        action=Action.EXPORTED,
        actor=request.user,  # type: ignore[arg-type]
        object_type=f"dashboard.{kind}",
        object_id=name,
        reason="dashboard table download",
        details={"format": "csv", "sites": sorted(site_ids) if site_ids is not None else "all"},
    )
    return csv_response(filename=f"{kind}-{name}.csv", header=table.headers, rows=table.rows)


@role_required(Role.PROGRAMME_MANAGER, Role.ADMIN)
def national_csv(request: HttpRequest, name: str) -> HttpResponseBase:
    return _csv(request, "national", name)


@role_required(Role.COORDINATOR, Role.ADMIN)
def site_csv(request: HttpRequest, name: str) -> HttpResponseBase:
    return _csv(request, "site", name)
