import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from enrollment.models import Phase, Programme, Visit
from enrollment.vault import Profile, personal_data_write
from portal.models import AuditEvent
from portal.roles import Role
from tests.audits import assert_access_denied
from tests.enrollment.funnel_helpers import registered, sign_in, walk
from tests.factories import SiteFactory, staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


@pytest.fixture
def two_sites():
    return SiteFactory(code="a"), SiteFactory(code="b")


@pytest.fixture
def coordinator_api(client, two_sites):
    sign_in(client, staff_user(Role.COORDINATOR, sites=[two_sites[0]], mfa=True))
    return client


@pytest.fixture
def manager_api(client):
    sign_in(client, staff_user(Role.PROGRAMME_MANAGER, mfa=True))
    return client


def _with_vault(participant):
    personal_data_write(
        participant=participant,
        profile=Profile(
            name="홍길동",
            birth_date=dt.date(1980, 5, 1),
            phone="010-1234-5678",
            email="hong@example.org",
        ),
    )
    return participant


def test_participant_list_is_scoped_and_carries_no_personal_data(coordinator_api, two_sites):
    mine = [_with_vault(walk(registered(site=two_sites[0]), i % 3)) for i in range(3)]
    registered(site=two_sites[1])
    response = coordinator_api.get(reverse("enrollment:api_participants"))
    assert response.status_code == 200
    body = response.json()
    assert {p["code"] for p in body["results"]} == {p.code for p in mine}
    text = response.content.decode()
    for personal in ("홍길동", "hong@example.org", "1234", "1980-05-01"):
        assert personal not in text
    assert set(body["results"][0]) == {
        "code",
        "kind",
        "site",
        "cohort",
        "status",
        "registered_at",
        "status_changed_at",
    }


def test_participant_list_paginates_with_a_cursor_and_pinned_queries(
    coordinator_api, two_sites, django_assert_max_num_queries
):
    for _ in range(7):
        registered(site=two_sites[0])
    url = reverse("enrollment:api_participants") + "?page_size=3"
    seen = []
    while url:
        with django_assert_max_num_queries(10):
            body = coordinator_api.get(url).json()
        seen += [p["code"] for p in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 7


def test_participant_list_filters_and_bad_filters_are_json_400(coordinator_api, two_sites):
    walk(registered(site=two_sites[0]), 2)
    registered(site=two_sites[0])
    response = coordinator_api.get(reverse("enrollment:api_participants"), {"status": "consented"})
    assert [p["status"] for p in response.json()["results"]] == ["consented"]
    response = coordinator_api.get(reverse("enrollment:api_participants"), {"status": "cured"})
    assert response.status_code == 400
    assert "status" in response.json()
    response = coordinator_api.get(reverse("enrollment:api_participants"), {"cursor": "garbage"})
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")


def test_participant_of_another_site_is_404_and_audited(coordinator_api, two_sites):
    other = registered(site=two_sites[1])
    response = coordinator_api.get(reverse("enrollment:api_participant", args=[other.code]))
    assert response.status_code == 404
    assert response.json()
    assert AuditEvent.objects.get(action="access.denied", object_id=other.code).reason == (
        "out of scope"
    )


def test_participant_detail_and_transitions(coordinator_api, two_sites):
    p = walk(registered(site=two_sites[0]), 3)
    detail = coordinator_api.get(reverse("enrollment:api_participant", args=[p.code.lower()]))
    assert detail.json()["status"] == "sample_collected"
    steps = coordinator_api.get(reverse("enrollment:api_participant_transitions", args=[p.code]))
    assert [s["to_status"] for s in steps.json()["results"]] == [
        "sample_collected",
        "consented",
        "eligible",
        "registered",
    ]


def test_transition_feed_is_scoped_and_filterable(coordinator_api, two_sites):
    walk(registered(site=two_sites[0]), 2)
    walk(registered(site=two_sites[1]), 2)
    response = coordinator_api.get(
        reverse("enrollment:api_transitions"), {"to_status": "consented"}
    )
    assert len(response.json()["results"]) == 1
    bad = coordinator_api.get(reverse("enrollment:api_transitions"), {"since": "yesterday"})
    assert bad.status_code == 400


def test_visits_are_scoped(coordinator_api, two_sites):
    day = timezone.localdate() + dt.timedelta(days=3)
    mine = Visit.objects.create(
        participant=registered(site=two_sites[0]), site=two_sites[0], day=day
    )
    Visit.objects.create(participant=registered(site=two_sites[1]), site=two_sites[1], day=day)
    response = coordinator_api.get(reverse("enrollment:api_visits"), {"day": day.isoformat()})
    assert [v["id"] for v in response.json()["results"]] == [mine.pk]
    assert (
        coordinator_api.get(reverse("enrollment:api_visits"), {"day": "31/02"}).status_code == 400
    )


def test_dashboard_figures_national_for_managers(
    manager_api, two_sites, django_assert_max_num_queries
):
    programme = Programme.objects.create(code="bdd", name="BDD", total_target=10)
    today = timezone.localdate()
    Phase.objects.create(
        programme=programme,
        number=1,
        name="P1",
        starts_on=today - dt.timedelta(days=30),
        ends_on=today + dt.timedelta(days=300),
    )
    walk(registered(site=two_sites[0]), 2)
    walk(registered(site=two_sites[1]), 3)
    with django_assert_max_num_queries(16):
        response = manager_api.get(reverse("enrollment:api_dashboard"))
    body = response.json()
    assert body["overall"]["enrolled"] == 2
    assert {s["key"]: s["enrolled"] for s in body["by_site"]} == {"a": 1, "b": 1}
    assert body["forecasts"][0]["enrolled"] == 2
    assert manager_api.get(reverse("enrollment:api_dashboard"), {"phase": "x"}).status_code == 400
    assert manager_api.get(reverse("enrollment:api_dashboard"), {"phase": 999}).status_code == 400


def test_dashboard_figures_for_a_coordinator_cover_their_sites(coordinator_api, two_sites):
    walk(registered(site=two_sites[0]), 2)
    walk(registered(site=two_sites[1]), 2)
    body = coordinator_api.get(reverse("enrollment:api_dashboard")).json()
    assert body["overall"]["enrolled"] == 1
    refused = coordinator_api.get(reverse("enrollment:api_dashboard"), {"site": "b"})
    assert refused.status_code == 400


def test_participants_cannot_use_the_staff_api(client):
    from tests.factories import UserFactory

    participant = sign_in(client, UserFactory())
    assert client.get(reverse("enrollment:api_participants")).status_code == 403
    assert_access_denied(
        actor=participant, object_type="api", object_id="ParticipantListApi", reason="role"
    )


def test_schema_documents_the_enrollment_api(manager_api):
    response = manager_api.get("/api/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "/api/enrollment/participants/" in text and "/api/enrollment/dashboard/" in text
