import pytest
from django.core.exceptions import ValidationError

from enrollment.models import (
    DuplicateFlag,
    Participant,
    ParticipantStatus,
    PersonalData,
    ScreeningQuestion,
    StatusTransition,
)
from enrollment.services import (
    participant_enroll_patient,
    participant_register_volunteer,
    participant_screen,
)
from enrollment.services.people import participant_code_is_well_formed, participant_code_new
from enrollment.vault import profile_for_participant
from portal.roles import Role, has_role
from tests.enrollment.people import (
    participant_with_profile,
    profile,
    years_ago,
)
from tests.factories import CohortFactory, SiteFactory, UserFactory, staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


def _register(user=None, **overrides):
    return participant_register_volunteer(
        user=user or UserFactory(),
        profile=profile(**overrides),
        sex="female",
        cohort=CohortFactory(),
        site=SiteFactory(),
    )


def test_participant_codes_are_random_and_carry_a_check_character():
    codes = {participant_code_new() for _ in range(200)}
    assert len(codes) == 200
    assert all(participant_code_is_well_formed(c) for c in codes)
    code = next(iter(codes))
    typo = code[:3] + ("2" if code[3] != "2" else "3") + code[4:]
    assert not participant_code_is_well_formed(typo)


def test_volunteer_registration_creates_participant_vault_row_and_first_step():
    user = UserFactory()
    participant = _register(user)
    assert participant.status == ParticipantStatus.REGISTERED
    assert participant.user == user and participant.birth_year == 1985
    assert StatusTransition.objects.get(participant=participant).to_status == "registered"
    assert profile_for_participant(participant).phone == "+821023456789"
    assert has_role(user, Role.PARTICIPANT)


def test_invalid_phone_is_refused_and_nothing_is_stored():
    with pytest.raises(ValidationError, match="mobile phone"):
        _register(phone="02-123")
    assert not Participant.objects.exists()
    assert not PersonalData.objects.exists()


def test_duplicate_email_is_not_told_stored_flagged_and_the_earlier_participant_notified(
    mailoutbox, django_capture_on_commit_callbacks
):
    first = _register()
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        second = participant_register_volunteer(
            user=UserFactory(),
            profile=profile(phone="010-5555-6666", email="GILDONG.hong@example.org"),
            sex="male",
            cohort=CohortFactory(),
            site=SiteFactory(),
        )
    flag = DuplicateFlag.objects.get()
    assert (flag.participant, flag.matches, flag.matched_on) == (second, first, "email")
    # Nothing merged: two participants, two vault rows.
    assert PersonalData.objects.count() == 2
    # The earlier participant hears of it at their own address, never the new registrant.
    assert [m.to for m in mailoutbox] == [["gildong.hong@example.org"]]
    assert "register" in mailoutbox[0].subject.lower() or "등록" in mailoutbox[0].subject


def test_staff_accounts_cannot_register_as_participants():
    with pytest.raises(ValidationError, match="Staff accounts"):
        _register(staff_user(Role.COORDINATOR, sites=[SiteFactory()]))  # type: ignore[list-item]
    assert not Participant.objects.exists()


def test_registering_twice_with_one_account_is_refused():
    user = UserFactory()
    _register(user)
    with pytest.raises(ValidationError, match="already registered"):
        _register(user, phone="010-1111-2222", email="x@example.org")


def test_underage_volunteer_is_screened_ineligible_through_the_funnel():
    participant = _register(birth_date=years_ago(17))
    screening = participant_screen(participant=participant, answers={}, by=participant.user)
    participant.refresh_from_db()
    assert not screening.eligible and screening.reasons == ["underage"]
    assert participant.status == ParticipantStatus.INELIGIBLE


def test_screen_questions_decide_eligibility_and_a_rescreen_can_pass():
    participant = _register()
    question = ScreeningQuestion.objects.create(
        cohort=participant.cohort,
        order=1,
        text="최근 6개월 이내에 수혈을 받았습니까?",
        eligible_answer=False,
    )
    participant_screen(participant=participant, answers={question.pk: True}, by=None)
    participant.refresh_from_db()
    assert participant.status == ParticipantStatus.INELIGIBLE
    participant_screen(participant=participant, answers={question.pk: False}, by=None)
    participant.refresh_from_db()
    assert participant.status == ParticipantStatus.ELIGIBLE
    with pytest.raises(ValidationError, match="already been passed"):
        participant_screen(participant=participant, answers={question.pk: False}, by=None)


def test_coordinator_enrolls_a_patient_at_their_site(coordinator, site):
    cohort = CohortFactory(code="rare", group="rare_disease", open_for_volunteers=False)
    participant = participant_enroll_patient(
        by=coordinator,
        site=site,
        cohort=cohort,
        profile=profile(),
        sex="male",
        external_ref="H-0001",
        referring_clinician="김의사",
    )
    assert participant.kind == "patient" and participant.site == site
    assert participant.user is None and not participant.is_minor


def test_a_reference_stays_with_its_source_site_when_the_participant_moves(coordinator, site):
    from enrollment.services.funnel import participant_site_change

    cohort = CohortFactory(code="rare", group="rare_disease", open_for_volunteers=False)
    first = participant_enroll_patient(
        by=coordinator, site=site, cohort=cohort, profile=profile(), sex="male", external_ref="H-7"
    )
    participant_site_change(participant=first, site=SiteFactory(), actor=None, reason="moved")
    with pytest.raises(ValidationError, match="site reference"):
        participant_enroll_patient(
            by=coordinator,
            site=site,
            cohort=cohort,
            profile=profile(phone="010-3333-4444", email="else@example.org"),
            sex="male",
            external_ref="H-7",
        )
    assert Participant.objects.count() == 1


def test_coordinator_cannot_enroll_at_another_site(coordinator):
    with pytest.raises(ValidationError, match="your own sites"):
        participant_enroll_patient(
            by=coordinator,
            site=SiteFactory(),
            cohort=CohortFactory(),
            profile=profile(),
            sex="male",
        )
    assert not Participant.objects.exists()


def test_a_minor_is_enrolled_through_a_guardian_only(coordinator, site):
    child = {"birth_date": years_ago(9), "phone": "", "email": ""}
    with pytest.raises(ValidationError, match="guardian"):
        participant_enroll_patient(
            by=coordinator,
            site=site,
            cohort=CohortFactory(),
            profile=profile(**child),
            sex="female",
        )
    participant = participant_enroll_patient(
        by=coordinator,
        site=site,
        cohort=CohortFactory(),
        profile=profile(
            **child,
            guardian_name="홍판서",
            guardian_phone="010-7777-8888",
            guardian_relationship="부",
        ),
        sex="female",
    )
    assert participant.is_minor
    assert profile_for_participant(participant).contact_phone == "+821077778888"


def test_same_site_reference_twice_is_refused(coordinator, site):
    participant_with_profile(site=site, external_ref="H-9")
    with pytest.raises(ValidationError, match="site reference"):
        participant_enroll_patient(
            by=coordinator,
            site=site,
            cohort=CohortFactory(),
            external_ref="H-9",
            profile=profile(phone="010-3333-4444", email="y@example.org"),
            sex="female",
        )
