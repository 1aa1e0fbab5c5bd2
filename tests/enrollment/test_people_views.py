import datetime as dt

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from enrollment import vault
from enrollment.forms import ClaimForm, FindForm, ImportForm, PatientForm, VolunteerForm
from enrollment.models import (
    DuplicateFlag,
    Participant,
    ParticipantStatus,
    ScreeningQuestion,
    Site,
    SiteDay,
    Visit,
)
from enrollment.services.funnel import participant_transition
from enrollment.services.visits import open_weekday_not_holiday
from portal.audit import Action
from portal.models import AuditEvent
from portal.roles import Role
from tests.audits import assert_access_denied
from tests.enrollment.people import (
    participant_with_profile,
    verify_email,
    years_ago,
)
from tests.factories import CohortFactory, SiteFactory, UserFactory, staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


@pytest.fixture
def staff_client(client, coordinator):
    from tests.factories import add_totp

    add_totp(coordinator)
    coordinator.preferred_language = "en"
    coordinator.save(update_fields=["preferred_language"])
    client.force_login(coordinator)
    return client


def registration(site, cohort, **overrides):
    data = {
        "name": "김하늘",
        "latin_name": "Kim Haneul",
        "birth_date": "1990-07-01",
        "sex": "female",
        "phone": "010-3456-7890",
        "email": "haneul@example.org",
        "address": "서울시 마포구",
        "cohort": cohort.pk,
        "site": site.pk,
    }
    data.update(overrides)
    return data


def next_open_day():
    day = timezone.localdate() + dt.timedelta(days=1)
    while not open_weekday_not_holiday(day):
        day += dt.timedelta(days=1)
    return day


def test_no_form_asks_for_a_resident_registration_number():
    words = ("resident", "rrn", "주민", "registration number")
    site = SiteFactory()
    forms = [
        VolunteerForm(),
        PatientForm(sites=Site.objects.filter(pk=site.pk)),
        FindForm(),
        ClaimForm(),
        ImportForm(sites=Site.objects.all()),
    ]
    for form in forms:
        for name, field in form.fields.items():
            text = f"{name} {field.label} {field.help_text}".lower()
            assert not any(w in text for w in words), (type(form).__name__, name)


def test_volunteer_registers_screens_and_books_a_visit(client, volunteer):
    site, cohort = SiteFactory(daily_capacity=5), CohortFactory()
    question = ScreeningQuestion.objects.create(
        cohort=cohort, order=1, text="현재 임신 중이십니까?", eligible_answer=False
    )
    response = client.post(reverse("enrollment:me_register"), registration(site, cohort))
    assert response.status_code == 302
    participant = Participant.objects.get(user=volunteer)
    assert participant.status == ParticipantStatus.REGISTERED

    response = client.post(reverse("enrollment:me_screening"), {f"q{question.pk}": "no"})
    assert response.url == reverse("enrollment:me_visit")
    day = next_open_day()
    response = client.post(reverse("enrollment:me_visit"), {"day": day.isoformat()})
    assert response.url == reverse("enrollment:me")
    page = client.get(reverse("enrollment:me")).content.decode()
    assert participant.code in page and site.name in page
    assert Visit.objects.get(participant=participant).day == day


def test_wrong_phone_is_explained_and_nothing_is_stored(client, volunteer):
    response = client.post(
        reverse("enrollment:me_register"),
        registration(SiteFactory(), CohortFactory(), phone="02-123-4567"),
    )
    assert response.status_code == 200
    assert "010-1234-5678" in response.content.decode()
    assert not Participant.objects.exists()


def test_register_answers_the_same_whether_or_not_the_details_are_known(client, volunteer):
    """No membership oracle: a known phone or e-mail changes nothing the registrant sees."""
    site, cohort = SiteFactory(), CohortFactory()
    known = participant_with_profile(email="haneul@example.org", phone="010-9999-8888")
    response = client.post(reverse("enrollment:me_register"), registration(site, cohort))
    assert response.status_code == 302
    assert response.url == reverse("enrollment:me_screening")
    page = client.get(response.url).content.decode()
    assert "already" not in page and known.code not in page
    assert Participant.objects.count() == 2
    assert DuplicateFlag.objects.get().participant.user == volunteer

    other = UserFactory()
    client.force_login(other)
    unknown = client.post(
        reverse("enrollment:me_register"),
        registration(site, cohort, email="nobody@example.org", phone="010-2222-3333"),
    )
    assert (unknown.status_code, unknown.url) == (response.status_code, response.url)


def test_staff_cannot_register_or_claim_and_the_refusal_is_audited(staff_client, coordinator):
    for name in ("enrollment:me_register", "enrollment:me_claim"):
        assert staff_client.get(reverse(name)).status_code == 404
    assert (
        AuditEvent.objects.filter(
            action=Action.PERMISSION_DENIED, actor=coordinator, reason="staff account"
        ).count()
        == 2
    )


def test_underage_volunteer_is_told_plainly_and_marked_ineligible(client, volunteer):
    site, cohort = SiteFactory(), CohortFactory()
    client.post(
        reverse("enrollment:me_register"),
        registration(site, cohort, birth_date=years_ago(18, days=-1).isoformat()),
    )
    response = client.post(reverse("enrollment:me_screening"), {})
    assert "19" in response.content.decode()
    participant = Participant.objects.get(user=volunteer)
    assert participant.status == ParticipantStatus.INELIGIBLE
    assert not Visit.objects.exists()


def test_full_day_is_explained_and_books_nothing(client, volunteer):
    site, cohort = SiteFactory(daily_capacity=1), CohortFactory()
    client.post(reverse("enrollment:me_register"), registration(site, cohort))
    client.post(reverse("enrollment:me_screening"), {})
    day = next_open_day()
    SiteDay.objects.create(site=site, day=day, booked=1, capacity=1)
    response = client.post(reverse("enrollment:me_visit"), {"day": day.isoformat()})
    assert response.status_code == 200
    assert "fully booked" in response.content.decode()
    assert not Visit.objects.exists()


def test_cancel_from_the_participant_page(client, volunteer):
    site, cohort = SiteFactory(), CohortFactory()
    client.post(reverse("enrollment:me_register"), registration(site, cohort))
    client.post(reverse("enrollment:me_screening"), {})
    client.post(reverse("enrollment:me_visit"), {"day": next_open_day().isoformat()})
    # The link asks first, naming the day and the site; only the confirmation cancels.
    asked = client.get(reverse("enrollment:me_visit_cancel"))
    assert asked.status_code == 200
    page = asked.content.decode()
    assert site.name in page and str(next_open_day().day) in page
    assert Visit.objects.get().status == "booked"
    client.post(reverse("enrollment:me_visit_cancel"))
    assert Visit.objects.get().status == "cancelled"


def test_nothing_to_cancel_goes_back_to_the_participant_page(client, volunteer):
    site, cohort = SiteFactory(), CohortFactory()
    client.post(reverse("enrollment:me_register"), registration(site, cohort))
    response = client.get(reverse("enrollment:me_visit_cancel"))
    assert response.status_code == 302 and response.url == reverse("enrollment:me")


def test_coordinator_enrolls_and_sees_the_patient_page_audited(staff_client, coordinator, site):
    cohort = CohortFactory(code="rare", group="rare_disease", open_for_volunteers=False)
    data = registration(site, cohort, external_ref="H-77", referring_clinician="박의사")
    response = staff_client.post(reverse("enrollment:site_enroll"), data)
    participant = Participant.objects.get(external_ref="H-77")
    assert response.url == reverse("enrollment:site_participant", args=[participant.code])
    page = staff_client.get(response.url).content.decode()
    assert "김하늘" in page and "010-3456-7890" in page
    viewed = AuditEvent.objects.get(action=Action.PERSONAL_DATA_VIEWED)
    assert viewed.actor == coordinator and viewed.object_id == str(participant.pk)


def test_another_sites_participant_answers_404_and_is_audited(staff_client, coordinator):
    other = participant_with_profile(site=SiteFactory())
    response = staff_client.get(reverse("enrollment:site_participant", args=[other.code]))
    assert response.status_code == 404
    assert "홍길동" not in response.content.decode()
    assert_access_denied(
        actor=coordinator,
        object_type="enrollment.participant",
        object_id=other.code,
        reason="out of scope",
    )
    assert not AuditEvent.objects.filter(action=Action.PERSONAL_DATA_VIEWED).exists()


def test_find_by_exact_email_redirects_to_the_participant(staff_client, site):
    participant = participant_with_profile(site=site)
    response = staff_client.post(
        reverse("enrollment:site_find"), {"email": "GILDONG.HONG@example.org"}
    )
    assert response.url == reverse("enrollment:site_participant", args=[participant.code])
    response = staff_client.post(reverse("enrollment:site_find"), {"email": "gildong@example.org"})
    assert "No participant" in response.content.decode()


def test_invitation_letter_shows_the_code_once_and_the_patient_claims_it(
    staff_client, site, client
):
    cache.clear()
    participant = participant_with_profile(site=site, kind="patient")
    letter = staff_client.post(reverse("enrollment:site_invitation_new", args=[participant.code]))
    code = letter.context["invitation_code"]
    assert code in letter.content.decode()
    staff_client.logout()

    patient = UserFactory(preferred_language="en")
    verify_email(patient)
    client.force_login(patient)
    wrong = client.post(reverse("enrollment:me_claim"), {"code": code, "birth_date": "1985-03-15"})
    assert "do not match" in wrong.content.decode()
    right = client.post(reverse("enrollment:me_claim"), {"code": code, "birth_date": "1985-03-14"})
    assert right.url == reverse("enrollment:me")
    participant.refresh_from_db()
    assert participant.user == patient


def test_worklist_lists_todays_visits_and_records_attendance(staff_client, site):
    participant = participant_with_profile(site=site)
    participant_transition(participant=participant, to_status="eligible", actor=None)
    visit = Visit.objects.create(participant=participant, site=site, day=timezone.localdate())
    page = staff_client.get(reverse("enrollment:site_worklist")).content.decode()
    assert participant.code in page
    staff_client.post(
        reverse("enrollment:site_visit_outcome", args=[visit.pk]), {"outcome": "attended"}
    )
    visit.refresh_from_db()
    assert visit.status == "attended"


def test_import_page_reports_rows_by_line(staff_client, site):
    from django.core.files.uploadedfile import SimpleUploadedFile

    CohortFactory(code="rare", group="rare_disease", open_for_volunteers=False)
    content = (
        "external_ref,cohort,name,birth_date,sex,phone\n"
        "A1,rare,김가람,1970-01-01,M,010-1212-3434\n"
        "A2,rare,이나래,1970-02-30,F,010-1212-5656\n"
    ).encode("cp949")
    upload = SimpleUploadedFile("referrals.csv", content, content_type="text/csv")
    response = staff_client.post(
        reverse("enrollment:site_import"), {"site": site.pk, "file": upload}
    )
    body = response.content.decode()
    assert response.status_code == 200
    # All or nothing: one bad row, nothing imported, and the page says so.
    assert Participant.objects.filter(site=site).count() == 0
    assert "<td>3</td><td>birth_date</td>" in body
    assert "Nothing was imported" in body


def test_import_page_refuses_a_workbook_with_a_clear_message(staff_client, site):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("referrals.xlsx", b"PK\x03\x04...", content_type="application/zip")
    response = staff_client.post(
        reverse("enrollment:site_import"), {"site": site.pk, "file": upload}
    )
    assert "CSV" in response.content.decode()
    assert not Participant.objects.exists()


def test_volunteer_pages_need_no_staff_role_but_coordinator_pages_do(client, volunteer):
    response = client.get(reverse("enrollment:site_worklist"))
    assert response.status_code == 404
    assert_access_denied(actor=volunteer, object_type="view", object_id="worklist", reason="role")


def test_participant_corrects_their_phone_and_the_blind_index_follows(client, volunteer):
    site, cohort = SiteFactory(), CohortFactory()
    client.post(reverse("enrollment:me_register"), registration(site, cohort))
    data = registration(site, cohort, phone="010-4321-8765")
    data.pop("sex")
    response = client.post(reverse("enrollment:me_profile"), data)
    assert response.url == reverse("enrollment:me")
    participant = Participant.objects.get(user=volunteer)
    coordinator = staff_user(Role.COORDINATOR, sites=Site.objects.filter(pk=site.pk))
    assert vault.participant_find(by=coordinator, phone="01043218765") == participant
    assert vault.participant_find(by=coordinator, phone="01034567890") is None


def test_participant_moves_the_booked_visit_to_another_day(client, volunteer):
    site, cohort = SiteFactory(), CohortFactory()
    client.post(reverse("enrollment:me_register"), registration(site, cohort))
    client.post(reverse("enrollment:me_screening"), {})
    first = next_open_day()
    later = first + dt.timedelta(days=2)
    while not open_weekday_not_holiday(later):
        later += dt.timedelta(days=1)
    client.post(reverse("enrollment:me_visit"), {"day": first.isoformat()})
    response = client.post(reverse("enrollment:me_visit"), {"day": later.isoformat()})
    assert response.url == reverse("enrollment:me")
    visit = Visit.objects.get()
    assert (visit.day, visit.status) == (later, "booked")
    assert SiteDay.objects.get(site=site, day=first).booked == 0


def test_coordinator_screens_a_patient_and_resolves_a_duplicate_flag(staff_client, site):
    earlier = participant_with_profile(site=site)
    patient = participant_with_profile(site=site, kind="patient", email="other@example.org")
    flag = DuplicateFlag.objects.create(participant=patient, matches=earlier, matched_on="phone")
    page = staff_client.get(reverse("enrollment:site_worklist")).content.decode()
    assert patient.code in page and "same mobile phone number" in page

    staff_client.post(reverse("enrollment:site_duplicate_resolve", args=[flag.pk]))
    flag.refresh_from_db()
    assert flag.resolved_at is not None

    response = staff_client.post(
        reverse("enrollment:site_participant_screening", args=[patient.code]), {}
    )
    assert response.url == reverse("enrollment:site_participant", args=[patient.code])
    patient.refresh_from_db()
    assert patient.status == ParticipantStatus.ELIGIBLE


def test_find_asks_for_exactly_one_criterion(staff_client):
    response = staff_client.post(
        reverse("enrollment:site_find"), {"code": "P123", "email": "a@example.org"}
    )
    assert "Fill in one of" in response.content.decode()


def test_worklist_query_count_does_not_grow_with_rows(
    staff_client, site, django_assert_max_num_queries
):
    from enrollment.services import invitation_issue

    coordinator = site.memberships.get().user
    for n in range(6):
        participant = participant_with_profile(
            site=site, phone=f"010-6000-{n:04d}", email=f"w{n}@example.org"
        )
        participant_transition(participant=participant, to_status="eligible", actor=None)
        Visit.objects.create(participant=participant, site=site, day=timezone.localdate())
        invitation_issue(participant=participant, by=coordinator, send=False)
        if n:
            DuplicateFlag.objects.create(
                participant=participant, matches_id=participant.pk - 1, matched_on="email"
            )
    with django_assert_max_num_queries(14):
        response = staff_client.get(reverse("enrollment:site_worklist"))
    # six visits, five flags, six invitations
    assert response.content.decode().count("/sites/participants/") == 6 + 5 + 6


def test_volunteer_books_at_another_collection_site_and_moves_there(client, volunteer):
    first, other = SiteFactory(name="Hospital First"), SiteFactory(name="Hospital Other")
    client.post(reverse("enrollment:me_register"), registration(first, CohortFactory()))
    client.post(reverse("enrollment:me_screening"), {})
    page = client.get(reverse("enrollment:me_visit"), {"site": other.code}).content.decode()
    assert "Visits at Hospital Other" in page
    day = next_open_day()
    response = client.post(
        reverse("enrollment:me_visit"), {"site": other.code, "day": day.isoformat()}
    )
    assert response.url == reverse("enrollment:me")
    participant = Participant.objects.get()
    assert participant.site == other
    assert Visit.objects.get(participant=participant).site == other
    assert SiteDay.objects.get(site=other, day=day).booked == 1
    assert not SiteDay.objects.filter(site=first).exists()
    moved = participant.transitions.order_by("-id").first()
    assert moved.from_status == moved.to_status == ParticipantStatus.ELIGIBLE
    assert moved.site_id_at == other.pk


def test_an_unknown_site_code_keeps_the_registered_site(client, volunteer):
    site = SiteFactory(name="Hospital Registered")
    client.post(reverse("enrollment:me_register"), registration(site, CohortFactory()))
    client.post(reverse("enrollment:me_screening"), {})
    page = client.get(reverse("enrollment:me_visit"), {"site": "nowhere"}).content.decode()
    assert "Visits at Hospital Registered" in page


def _cross_site_flag(site):
    here = participant_with_profile(site=site, phone="010-7777-1111", email="a@example.org")
    there = participant_with_profile(site=SiteFactory(), phone="010-7777-2222", email="b@ex.org")
    nearby = participant_with_profile(site=site, phone="010-7777-3333", email="c@example.org")
    vault.duplicate_flags_record(participant=here, matches=[(there.pk, "phone")])
    vault.duplicate_flags_record(participant=here, matches=[(nearby.pk, "email")])
    return here, there, nearby


def test_coordinator_sees_only_that_a_match_exists_at_another_site(staff_client, site):
    here, there, nearby = _cross_site_flag(site)
    for url in (
        reverse("enrollment:site_worklist"),
        reverse("enrollment:site_participant", args=[here.code]),
    ):
        page = staff_client.get(url).content.decode()
        assert there.code not in page and "another site" in page
        assert nearby.code in page  # a match at their own site is named as before


def test_coordinator_cannot_resolve_a_cross_site_flag_a_data_steward_does(
    staff_client, site, coordinator, client
):
    here, there, _nearby = _cross_site_flag(site)
    flag = DuplicateFlag.objects.get(participant=here, matches=there)
    url = reverse("enrollment:site_duplicate_resolve", args=[flag.pk])
    assert staff_client.post(url).status_code == 404
    assert AuditEvent.objects.filter(
        action=Action.PERMISSION_DENIED, actor=coordinator, reason="other site"
    ).exists()
    flag.refresh_from_db()
    assert flag.resolved_at is None

    steward = staff_user(Role.DATA_STEWARD, mfa=True)
    client.force_login(steward)
    page = client.get(reverse("enrollment:duplicates_cross_site")).content.decode()
    assert here.code in page and there.code in page
    assert client.post(url).status_code == 302
    flag.refresh_from_db()
    assert flag.resolved_by == steward
