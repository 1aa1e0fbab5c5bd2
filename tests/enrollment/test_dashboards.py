import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from enrollment.models import Phase, PhaseTarget, Programme
from enrollment.selectors.dashboards import dashboard_figures
from enrollment.services.funnel import participant_transition
from portal.roles import Role
from tests.audits import assert_access_denied
from tests.enrollment.funnel_helpers import registered, sign_in, walk
from tests.factories import CohortFactory, SiteFactory, staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


@pytest.fixture
def programme_data():
    today = timezone.localdate()
    programme = Programme.objects.create(code="bdd", name="Bio Data Dam", total_target=100)
    phase = Phase.objects.create(
        programme=programme,
        number=1,
        name="Phase 1",
        starts_on=today - dt.timedelta(days=400),
        ends_on=today + dt.timedelta(days=100),
    )
    a, b = SiteFactory(code="a", name="Site A"), SiteFactory(code="b", name="Site B")
    general = CohortFactory()
    rare = CohortFactory(code="rare", name="Rare", group="rare_disease", open_for_volunteers=False)
    PhaseTarget.objects.create(phase=phase, target=20)
    PhaseTarget.objects.create(phase=phase, cohort_group="rare_disease", target=5)
    PhaseTarget.objects.create(phase=phase, site=a, target=12)
    long_ago = timezone.now() - dt.timedelta(days=200)
    # Site A: 6 enrolled (2 rare), one of them consented 200 days ago; 1 withdrawn; 2 eligible.
    for i in range(6):
        p = walk(registered(site=a, cohort=rare if i < 2 else general, birth_year=1960 + i), 1)
        at = long_ago if i == 0 else None
        participant_transition(participant=p, to_status="consented", actor=None, at=at)
        if i % 2:
            participant_transition(participant=p, to_status="sample_collected", actor=None)
    gone = walk(registered(site=a), 2)
    participant_transition(participant=gone, to_status="withdrawn", actor=None)
    for _ in range(2):
        walk(registered(site=a), 1)
    # Site B: 3 enrolled, 1 registered.
    for _ in range(3):
        walk(registered(site=b, sex="male", birth_year=1990), 2)
    registered(site=b)
    return {"phase": phase, "a": a, "b": b}


def test_national_figures_count_enrolled_against_targets(programme_data):
    f = dashboard_figures(site_ids=None)
    assert f.phase == programme_data["phase"]
    assert (f.overall.enrolled, f.overall.target) == (9, 20)
    groups = {p.key: (p.enrolled, p.target) for p in f.by_group}
    assert groups == {"general": (7, None), "rare_disease": (2, 5), "severe_disease": (0, None)}
    sites = {p.key: (p.enrolled, p.target) for p in f.by_site}
    assert sites == {"a": (6, 12), "b": (3, None)}
    funnel = {code: n for code, _label, n in f.funnel}
    assert funnel["withdrawn"] == 1 and funnel["eligible"] == 2 and funnel["registered"] == 1
    assert funnel["sample_collected"] == 3 and funnel["consented"] == 6


def test_monthly_enrollments_and_demographics(programme_data):
    f = dashboard_figures(site_ids=None)
    assert sum(n for _m, n in f.monthly) == 10  # ten consents given, one later withdrawn
    this_month = timezone.localdate().replace(day=1)
    assert dict(f.monthly)[this_month] >= 8
    male = next(values for label, css, values in f.by_sex if css == "bar-male")
    assert sum(male) == 3
    assert f.cumulative[-1][1] == 9


def test_forecast_projects_the_last_90_days_to_the_phase_end(programme_data):
    f = dashboard_figures(site_ids=None)
    overall = f.forecasts[0]
    assert overall.recent == 9  # ten consents, one 200 days ago
    assert overall.days_left == 100
    assert overall.rate_per_day == pytest.approx(9 / 90)
    assert overall.projected == 9 + round(9 / 90 * 100)
    assert overall.needed_per_day == pytest.approx(11 / 100)
    assert overall.on_track is False


def test_site_figures_use_only_that_sites_counts_and_targets(programme_data):
    f = dashboard_figures(site_ids=frozenset({programme_data["a"].pk}))
    assert (f.overall.enrolled, f.overall.target) == (6, 12)
    assert [p.key for p in f.by_site] == ["a"]


def _capture(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, [q["sql"] for q in queries.captured_queries]


def test_national_dashboard_renders_charts_without_touching_participants(
    client, programme_data, django_assert_max_num_queries
):
    sign_in(client, staff_user(Role.PROGRAMME_MANAGER, mfa=True))
    with django_assert_max_num_queries(16):
        response, sql = _capture(client, reverse("enrollment:dashboard_national"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<svg") >= 6
    assert "<title" in html and "<caption>" in html
    assert not [q for q in sql if "enrollment_participant" in q]
    assert not [q for q in sql if "enrollment_statustransition" in q]


def test_query_count_does_not_grow_with_participants(client, programme_data):
    sign_in(client, staff_user(Role.PROGRAMME_MANAGER, mfa=True))
    _response, before = _capture(client, reverse("enrollment:dashboard_national"))
    for _ in range(5):
        walk(registered(site=programme_data["b"]), 3)
    _response, after = _capture(client, reverse("enrollment:dashboard_national"))

    def figures_queries(sql):  # the session may or may not be saved on a given request
        return [
            q
            for q in sql
            if "django_session" not in q and not q.startswith(("SAVEPOINT", "RELEASE"))
        ]

    assert len(figures_queries(after)) == len(figures_queries(before))


def test_site_dashboard_shows_only_the_coordinators_sites(client, programme_data):
    a, b = programme_data["a"], programme_data["b"]
    sign_in(client, staff_user(Role.COORDINATOR, sites=[a], mfa=True))
    response, sql = _capture(client, reverse("enrollment:dashboard_site"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Site A" in html and "Site B" not in html
    assert not [q for q in sql if "enrollment_participant" in q]
    # Asking for another site's figures falls back to the coordinator's own sites.
    response = client.get(reverse("enrollment:dashboard_site"), {"site": b.pk})
    assert "Site B" not in response.content.decode()


def test_csv_download_has_the_table(client, programme_data):
    sign_in(client, staff_user(Role.PROGRAMME_MANAGER, mfa=True))
    response = client.get(reverse("enrollment:dashboard_national_csv", args=["sites"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = response.content.decode("utf-8-sig").splitlines()
    assert body[1].startswith("a,Site A,6,12,50.0%")


def test_unknown_csv_table_is_404_and_bad_params_are_no_500(client, programme_data):
    sign_in(client, staff_user(Role.PROGRAMME_MANAGER, mfa=True))
    assert (
        client.get(reverse("enrollment:dashboard_national_csv", args=["nope"])).status_code == 404
    )
    response = client.get(
        reverse("enrollment:dashboard_national"), {"phase": "x'; drop", "site": "-1"}
    )
    assert response.status_code == 200
    response = client.get(reverse("enrollment:dashboard_national"), {"phase": "99999"})
    assert response.status_code == 200


def test_coordinators_cannot_open_the_national_dashboard(client, programme_data):
    coordinator = sign_in(
        client, staff_user(Role.COORDINATOR, sites=[programme_data["a"]], mfa=True)
    )
    assert client.get(reverse("enrollment:dashboard_national")).status_code == 404
    assert_access_denied(actor=coordinator, object_type="view", object_id="national", reason="role")


def test_dashboard_without_any_phase_or_data_renders(client):
    sign_in(client, staff_user(Role.PROGRAMME_MANAGER, mfa=True))
    response = client.get(reverse("enrollment:dashboard_national"))
    assert response.status_code == 200
