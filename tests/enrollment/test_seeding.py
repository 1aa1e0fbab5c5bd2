import pytest
from django.core.management import call_command
from django.utils import translation

from enrollment.models import Cohort, Participant, PersonalData, Site, StatusTransition
from enrollment.seeding import (
    synthetic_email,
    synthetic_participants_seeded,
    synthetic_phone,
    synthetic_seed,
)
from enrollment.vault import participant_find, profile_for_participant
from portal.roles import Role
from tests.enrollment.funnel_helpers import (
    current_direct,
    current_from_aggregates,
    daily_direct,
    daily_from_aggregates,
)
from tests.factories import staff_user

pytestmark = pytest.mark.django_db


def test_seeded_participants_are_consistent_with_their_transitions_and_aggregates():
    result = synthetic_seed(participants=400, workers=1, seed=7)
    assert Participant.objects.count() == 400
    assert PersonalData.objects.count() == 400
    assert StatusTransition.objects.count() == result.transitions > 400
    # Every participant's status is where their last transition led.
    mismatches = [
        p.code
        for p in Participant.objects.all()
        if p.transitions.order_by("-id").first().to_status != p.status
    ]
    assert mismatches == []
    statuses = set(Participant.objects.values_list("status", flat=True))
    assert {"registered", "eligible", "consented", "sample_collected", "in_dam"} <= statuses
    assert current_from_aggregates() == current_direct()
    assert daily_from_aggregates() == daily_direct()
    years = {t.year for t in Participant.objects.values_list("registered_at", flat=True)}
    assert years >= {2024, 2025}


def test_seeded_personal_data_is_encrypted_and_found_through_blind_indexes():
    result = synthetic_seed(participants=50, workers=1, seed=3)
    manager = staff_user(Role.PROGRAMME_MANAGER)
    adult = next(
        p
        for p in Participant.objects.filter(is_minor=False).order_by("id")
        if profile_for_participant(p).phone
    )
    assert participant_find(by=manager, phone=synthetic_phone(adult.pk)) == adult
    assert participant_find(by=manager, email=synthetic_email(adult.pk)) == adult
    row = PersonalData.objects.get(participant=adult)
    assert synthetic_email(adult.pk) not in row.email
    assert profile_for_participant(adult).email == synthetic_email(adult.pk)
    assert result.first_id <= adult.pk <= result.last_id


def test_seeded_sites_and_cohorts_have_english_names_regions_and_addresses():
    Site.objects.create(code="h01", name="서울대학교병원 제1", region="서울")  # an older run's site
    Site.objects.create(code="pnuh", name="부산대학교병원", region="부산")  # an older demo site
    synthetic_seed(participants=5, workers=1, seed=1, notify=False)
    sites = Site.objects.filter(code__startswith="h").order_by("code")
    assert sites.count() == 38
    assert all(s.name_en and s.region_en and s.address and s.address_en for s in sites)
    assert len({s.name_en for s in sites}) == 38
    first = sites[0]
    assert (first.name, first.name_en) == ("서울대학교병원 제1", "Seoul University Hospital No. 1")
    assert first.address.startswith("서울특별시 ") and first.address_en.endswith(", Seoul")
    assert (first.region, first.region_en) == ("서울", "Seoul")
    assert Site.objects.get(code="pnuh").region_en == "Busan"
    assert Site.objects.get(code="snuh").region_en == "Seoul"
    jeju = Site.objects.get(name="제주대학교병원")
    assert jeju.name_en == "Jeju University Hospital"
    assert jeju.address_en.endswith("Jeju, Jeju-do")
    with translation.override("en"):
        assert jeju.label == "Jeju University Hospital" and jeju.region_label == "Jeju"
        assert [c.label for c in Cohort.objects.order_by("code")] == [
            "General participants",
            "Rare diseases",
            "Severe diseases",
        ]
    with translation.override("ko"):
        assert jeju.label == "제주대학교병원" and jeju.address_label.startswith("제주특별자치도 ")
        assert jeju.region_label == "제주"
    # A second run changes nothing: the same names, regions and addresses, no new sites.
    columns = ("code", "name_en", "region_en", "address", "address_en")
    before = list(sites.values_list(*columns))
    synthetic_seed(participants=5, workers=1, seed=2, notify=False)
    assert list(sites.values_list(*columns)) == before


def test_other_apps_can_hook_into_seeding():
    received = []

    def receiver(sender, first_id, last_id, seeded_at, **kwargs):
        received.append((first_id, last_id))

    synthetic_participants_seeded.connect(receiver)
    try:
        result = synthetic_seed(participants=5, workers=1)
    finally:
        synthetic_participants_seeded.disconnect(receiver)
    assert received == [(result.first_id, result.last_id)]


def test_command_refuses_a_silly_count():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="between"):
        call_command("seed_synthetic", participants=0)
