import datetime as dt

import pytest
from django.urls import reverse

from enrollment.models import Cohort, Phase, PhaseTarget, Programme, Site
from portal.models import AuditEvent
from portal.roles import Role
from tests.audits import assert_access_denied
from tests.enrollment.funnel_helpers import sign_in
from tests.factories import SiteFactory, staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


@pytest.fixture
def manager_client(client):
    sign_in(client, staff_user(Role.PROGRAMME_MANAGER, mfa=True))
    return client


@pytest.fixture
def programme():
    return Programme.objects.create(code="bdd", name="Bio Data Dam", total_target=1_000_000)


@pytest.fixture
def phase(programme):
    return Phase.objects.create(
        programme=programme,
        number=1,
        name="Phase 1",
        starts_on=dt.date(2024, 1, 1),
        ends_on=dt.date(2028, 12, 31),
    )


def test_manager_creates_a_site_and_it_is_audited(manager_client):
    response = manager_client.post(
        reverse("enrollment:programme_site_new"),
        {
            "code": "jnuh",
            "name": "전남대학교병원",
            "region": "광주",
            "daily_capacity": "45",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    site = Site.objects.get(code="jnuh")
    assert site.daily_capacity == 45
    assert AuditEvent.objects.filter(action="programme.changed", object_id=str(site.pk)).exists()


def test_site_with_duplicate_code_or_silly_capacity_is_refused_clearly(manager_client):
    SiteFactory(code="snuh")
    response = manager_client.post(
        reverse("enrollment:programme_site_new"),
        {"code": "snuh", "name": "X", "region": "서울", "daily_capacity": "0"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "already exists" in html
    assert "between 1 and 10,000" in html
    assert Site.objects.count() == 1


def test_phase_must_end_after_it_starts_and_not_overlap(manager_client, phase):
    url = reverse("enrollment:phase_new", args=[phase.programme_id])
    response = manager_client.post(
        url, {"number": "2", "name": "P2", "starts_on": "2030-01-01", "ends_on": "2029-01-01"}
    )
    assert "must come after the start date" in response.content.decode()
    response = manager_client.post(
        url, {"number": "2", "name": "P2", "starts_on": "2028-06-01", "ends_on": "2032-12-31"}
    )
    assert "overlap" in response.content.decode()
    response = manager_client.post(
        url, {"number": "2", "name": "P2", "starts_on": "2029-01-01", "ends_on": "2032-12-31"}
    )
    assert response.status_code == 302
    assert Phase.objects.filter(number=2, programme=phase.programme).exists()


def test_phase_end_date_can_be_moved(manager_client, phase):
    response = manager_client.post(
        reverse("enrollment:phase_edit", args=[phase.pk]),
        {"number": "1", "name": "Phase 1", "starts_on": "2024-01-01", "ends_on": "2029-06-30"},
    )
    assert response.status_code == 302
    phase.refresh_from_db()
    assert phase.ends_on == dt.date(2029, 6, 30)


def test_targets_per_group_and_site_are_saved_and_removed(manager_client, phase):
    site = SiteFactory()
    PhaseTarget.objects.create(phase=phase, cohort_group="general", target=1)
    url = reverse("enrollment:phase_targets", args=[phase.pk])
    assert manager_client.get(url).status_code == 200
    response = manager_client.post(
        url,
        {
            "overall": "772000",
            "group_rare_disease": "150000",
            "group_severe_disease": "150000",
            "group_general": "",
            f"site_{site.pk}": "20000",
        },
    )
    assert response.status_code == 302
    targets = {(t.cohort_group, t.site_id): t.target for t in phase.targets.all()}
    assert targets == {
        ("", None): 772000,
        ("rare_disease", None): 150000,
        ("severe_disease", None): 150000,
        ("", site.pk): 20000,
    }


def test_group_targets_above_the_overall_target_are_refused(manager_client, phase):
    response = manager_client.post(
        reverse("enrollment:phase_targets", args=[phase.pk]),
        {"overall": "100", "group_rare_disease": "80", "group_general": "80"},
    )
    assert response.status_code == 200
    assert "add up to 160" in response.content.decode()
    assert not phase.targets.exists()


def test_negative_or_text_targets_are_refused(manager_client, phase):
    response = manager_client.post(
        reverse("enrollment:phase_targets", args=[phase.pk]),
        {"overall": "-5", "group_general": "many"},
    )
    assert response.status_code == 200
    assert not phase.targets.exists()


def test_cohort_and_programme_pages(manager_client, programme, phase):
    response = manager_client.post(
        reverse("enrollment:cohort_new"),
        {"code": "cancer", "name": "Cancer", "group": "severe_disease", "min_age": "0"},
    )
    assert response.status_code == 302
    assert Cohort.objects.get(code="cancer").group == "severe_disease"
    index = manager_client.get(reverse("enrollment:programmes"))
    assert index.status_code == 200
    assert "Bio Data Dam" in index.content.decode() and "cancer" in index.content.decode()


def test_coordinators_cannot_manage_programmes(client, site):
    coordinator = sign_in(client, staff_user(Role.COORDINATOR, sites=[site], mfa=True))
    assert client.get(reverse("enrollment:programmes")).status_code == 404
    assert client.post(reverse("enrollment:programme_site_new"), {"code": "x"}).status_code == 404
    assert_access_denied(actor=coordinator, object_type="view", object_id="index", reason="role")
    assert_access_denied(
        actor=coordinator, object_type="view", object_id="site_edit", reason="role"
    )
    assert not Site.objects.filter(code="x").exists()


def test_site_visit_hours_are_kept_and_must_be_in_order(manager_client):
    url = reverse("enrollment:programme_site_new")
    base = {"code": "cbnuh", "name": "충북대학교병원", "region": "청주", "daily_capacity": "30"}
    refused = manager_client.post(url, {**base, "opens_at": "12:00", "closes_at": "08:00"})
    assert refused.status_code == 200
    assert "The closing time must come after the opening time." in refused.content.decode()
    manager_client.post(url, {**base, "address": "충청북도 청주시", "opens_at": "09:00"})
    site = Site.objects.get(code="cbnuh")
    assert (site.address, site.opening_hours) == ("충청북도 청주시", "09:00\u201317:00")
