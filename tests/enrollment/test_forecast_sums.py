"""The forecast's figures add up: the groups' projections sum to the total, whatever the history,
and the rate beside a forecast is never shown as 0.0 when people are still expected."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enrollment.models import CohortGroup
from enrollment.selectors.dashboards import (
    RATE_WINDOW_DAYS,
    Progress,
    apportion,
    dashboard_figures,
    forecasts_split,
)
from enrollment.views import tables
from tests.enrollment.funnel_helpers import registered, walk
from tests.factories import CohortFactory, SiteFactory

TODAY = dt.date(2026, 11, 29)
GROUPS = [g.value for g in CohortGroup]


@given(
    total=st.integers(min_value=0, max_value=10**7),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=8),
)
def test_apportion_adds_up_and_stays_within_one_of_the_exact_share(total, weights):
    parts = apportion(total, weights)
    if sum(weights) == 0:
        assert parts == [0] * len(weights)
        return
    assert sum(parts) == total
    for part, weight in zip(parts, weights, strict=True):
        exact = total * weight / sum(weights)
        assert abs(part - exact) < 1
        assert weight or part == 0


histories = st.fixed_dictionaries(
    {
        "enrolled": st.fixed_dictionaries(
            {g: st.integers(min_value=0, max_value=400_000) for g in GROUPS}
        ),
        "recent": st.fixed_dictionaries(
            {g: st.integers(min_value=0, max_value=50_000) for g in GROUPS}
        ),
        "other_recent": st.integers(min_value=0, max_value=100),
        "other_enrolled": st.integers(min_value=0, max_value=1_000),
        "days_left": st.integers(min_value=-30, max_value=3_000),
    }
)


@given(history=histories)
def test_groups_always_add_up_to_the_total(history):
    by_group = [Progress(g, g, history["enrolled"][g], None) for g in GROUPS]
    enrolled = sum(history["enrolled"].values()) + history["other_enrolled"]
    recent = dict(history["recent"])
    if history["other_recent"]:
        recent[""] = history["other_recent"]
    overall, *groups = forecasts_split(
        overall=Progress("all", "all", enrolled, 1_000_000),
        by_group=by_group,
        recent_by_group=recent,
        ends_on=TODAY + dt.timedelta(days=history["days_left"]),
        today=TODAY,
    )
    assert sum(g.enrolled for g in groups) == overall.enrolled
    assert sum(g.projected for g in groups) == overall.projected
    assert sum(g.recent for g in groups) == overall.recent
    days = max(history["days_left"], 0)
    exact = overall.recent * days / RATE_WINDOW_DAYS
    assert abs(overall.more - exact) <= 0.5
    for group in groups:
        assert group.projected >= group.enrolled
        if group.recent == 0:
            assert group.projected == group.enrolled


def test_three_groups_at_half_a_person_each_no_longer_lose_the_total():
    # Rounded on their own (half to even) three groups of 0.5 made 0, the total 1.5 made 2.
    groups = [Progress(g, g, 10, None) for g in GROUPS]
    overall, *parts = forecasts_split(
        overall=Progress("all", "all", 30, None),
        by_group=groups,
        recent_by_group=dict.fromkeys(GROUPS, 1),
        ends_on=TODAY + dt.timedelta(days=45),
        today=TODAY,
    )
    assert overall.projected == 32
    assert sum(p.projected for p in parts) == 32


def test_a_small_recent_rate_is_shown_with_the_decimals_it_needs():
    with_rate = 2 / RATE_WINDOW_DAYS  # two consents in 90 days
    assert tables.rate_display(with_rate) not in {"0", "0.0"}
    assert float(tables.rate_display(with_rate)) == pytest.approx(with_rate, rel=0.2)
    assert tables.rate_display(0.0) == "0.0"
    assert tables.rate_display(12.345) == "12.3"


@pytest.fixture
def recruitment(db):
    from enrollment.models import Phase, PhaseTarget, Programme

    programme = Programme.objects.create(code="bdd", name="Bio Data Dam", total_target=100)
    phase = Phase.objects.create(
        programme=programme,
        number=1,
        name="Phase 1",
        starts_on=TODAY.replace(year=2025),
        ends_on=dt.date(2028, 12, 31),
    )
    cohorts = {
        "general": CohortFactory(code="gen"),
        "rare_disease": CohortFactory(code="rare", group="rare_disease"),
        "severe_disease": CohortFactory(code="sev", group="severe_disease"),
    }
    with_target, without = SiteFactory(code="tgt"), SiteFactory(code="none")
    PhaseTarget.objects.create(phase=phase, target=50)
    PhaseTarget.objects.create(phase=phase, site=with_target, target=20)
    for i, cohort in enumerate(cohorts.values()):
        for _ in range(i + 1):
            walk(registered(site=with_target, cohort=cohort), 2)
        walk(registered(site=without, cohort=cohort), 2)
    return {"with_target": with_target, "without": without}


@pytest.mark.usefixtures("in_english")
def test_dashboard_forecast_rows_add_up_to_the_total(recruitment):
    figures = dashboard_figures(site_ids=None)
    overall, *groups = figures.forecasts
    assert overall.recent == 9
    assert sum(g.projected for g in groups) == overall.projected
    table = tables.forecast(figures)
    projected_column = table.headers.index("Projected at phase end")
    assert sum(row[projected_column] for row in table.rows[1:]) == table.rows[0][projected_column]


@pytest.mark.usefixtures("in_english")
def test_a_site_without_targets_shows_no_target_columns(recruitment):
    figures = dashboard_figures(site_ids=frozenset({recruitment["without"].pk}))
    table = tables.forecast(figures)
    assert "Target" not in table.headers and "Rate needed per day" not in table.headers
    assert all(len(row) == len(table.headers) for row in table.rows)
    with_target = tables.forecast(
        dashboard_figures(site_ids=frozenset({recruitment["with_target"].pk}))
    )
    assert "Target" in with_target.headers
    assert all(len(row) == len(with_target.headers) for row in with_target.rows)


DASHBOARD_ENROLLED = [
    "Enrolled",
    "Enrolled against target",
    "Enrolled per site",
    "Enrollments per month",
    "Enrollments",
    "Age and sex of enrolled participants",
    "Enrolled against the phase target, per cohort group",
    "Enrolled against the site targets",
]


def test_korean_dashboard_says_enrolled_one_way_and_never_like_registered():
    from django.utils import translation

    with translation.override("ko"):
        registered = translation.gettext("Registered")
        enrolled = [translation.gettext(msgid) for msgid in DASHBOARD_ENROLLED]
        in_dam = translation.gettext("In the data dam")
    assert registered == "등록"
    assert all("참여 확정" in text for text in enrolled), enrolled
    assert not any("등록" in text for text in enrolled), enrolled
    assert "등록" not in in_dam
