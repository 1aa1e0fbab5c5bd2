"""Demo data for the embedded default: a programme with phases and targets, sites, cohorts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from portal.programme import programme_name

from ..models import Cohort, CohortGroup, Phase, PhaseTarget, Programme, Site


@dataclass(frozen=True)
class DemoSite:
    code: str
    name: str
    name_en: str
    region: str
    region_en: str
    capacity: int
    address: str
    address_en: str
    opens_at: dt.time = dt.time(8, 30)
    closes_at: dt.time = dt.time(17, 0)


SITES = [
    DemoSite(
        "snuh",
        "서울대학교병원",
        "Seoul National University Hospital",
        "서울",
        "Seoul",
        60,
        "서울특별시 종로구 대학로 101",
        "101 Daehak-ro, Jongno-gu, Seoul",
    ),
    DemoSite(
        "amc",
        "서울아산병원",
        "Asan Medical Center",
        "서울",
        "Seoul",
        60,
        "서울특별시 송파구 올림픽로43길 88",
        "88 Olympic-ro 43-gil, Songpa-gu, Seoul",
    ),
    DemoSite(
        "pnuh",
        "부산대학교병원",
        "Pusan National University Hospital",
        "부산",
        "Busan",
        40,
        "부산광역시 서구 구덕로 179",
        "179 Gudeok-ro, Seo-gu, Busan",
        dt.time(9, 0),
    ),
    DemoSite(
        "cnuh",
        "충남대학교병원",
        "Chungnam National University Hospital",
        "대전",
        "Daejeon",
        30,
        "대전광역시 중구 문화로 282",
        "282 Munhwa-ro, Jung-gu, Daejeon",
        dt.time(9, 0),
        dt.time(16, 30),
    ),
]
COHORTS = [
    ("general", "일반 참여자", "General participants", CohortGroup.GENERAL, True),
    ("rare", "희귀질환", "Rare diseases", CohortGroup.RARE_DISEASE, False),
    ("severe", "중증질환", "Severe diseases", CohortGroup.SEVERE_DISEASE, False),
]


def seed_programme() -> Programme:
    programme, _ = Programme.objects.get_or_create(
        code="bdd",
        defaults={
            "name": programme_name("ko"),
            "name_en": programme_name("en"),
            "total_target": 1_000_000,
        },
    )
    for site in SITES:
        row, created = Site.objects.get_or_create(
            code=site.code,
            defaults={
                "name": site.name,
                "name_en": site.name_en,
                "region": site.region,
                "region_en": site.region_en,
                "daily_capacity": site.capacity,
                "address": site.address,
                "address_en": site.address_en,
                "opens_at": site.opens_at,
                "closes_at": site.closes_at,
            },
        )
        if not created and not row.region_en:  # a site seeded before regions had English names
            row.region_en = site.region_en
            row.save(update_fields=["region_en"])
    for code, name, name_en, group, open_ in COHORTS:
        Cohort.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "group": group,
                "open_for_volunteers": open_,
            },
        )
    phase1, _ = Phase.objects.get_or_create(
        programme=programme,
        number=1,
        defaults={
            "name": "1단계",
            "name_en": "Phase 1",
            "starts_on": dt.date(2024, 1, 1),
            "ends_on": dt.date(2028, 12, 31),
        },
    )
    Phase.objects.get_or_create(
        programme=programme,
        number=2,
        defaults={
            "name": "2단계",
            "name_en": "Phase 2",
            "starts_on": dt.date(2029, 1, 1),
            "ends_on": dt.date(2032, 12, 31),
        },
    )
    targets: list[tuple[str, int]] = [
        ("", 772_000),
        (CohortGroup.GENERAL.value, 472_000),
        (CohortGroup.RARE_DISEASE.value, 150_000),
        (CohortGroup.SEVERE_DISEASE.value, 150_000),
    ]
    for cohort_group, target in targets:
        PhaseTarget.objects.get_or_create(
            phase=phase1, cohort_group=cohort_group, site=None, defaults={"target": target}
        )
    return programme


# --- People: a few volunteers and patients with personal data, created through the services ---

SCREENING_QUESTIONS = [
    (
        "general",
        "최근 6개월 이내에 수혈을 받은 적이 있습니까?",
        "Have you had a blood transfusion in the last 6 months?",
        False,
    ),
    (
        "general",
        "현재 항암 치료(항암화학요법 또는 방사선 치료)를 받고 있습니까?",
        "Are you currently receiving cancer treatment (chemotherapy or radiotherapy)?",
        False,
    ),
]

DEMO_VOLUNTEER_EMAIL = "volunteer@demo.portal.invalid"


def seed_screening_questions() -> None:
    from ..models import ScreeningQuestion

    for order, (cohort_code, text, text_en, eligible_answer) in enumerate(SCREENING_QUESTIONS):
        cohort = Cohort.objects.filter(code=cohort_code).first()
        if cohort is not None:
            ScreeningQuestion.objects.get_or_create(
                cohort=cohort,
                text=text,
                defaults={"text_en": text_en, "order": order, "eligible_answer": eligible_answer},
            )


def seed_people(password: str) -> list[str]:
    """Volunteers with accounts and site-enrolled patients (idempotent); returns lines to print."""
    from allauth.account.models import EmailAddress

    from portal.models import User
    from portal.roles import Role, has_role

    from ..models import Participant, ParticipantStatus
    from ..services import (
        bookable_days,
        invitation_issue,
        participant_enroll_patient,
        participant_register_volunteer,
        participant_screen,
        screening_questions_for,
        visit_book,
    )
    from ..vault import Profile

    seed_screening_questions()
    snuh = Site.objects.get(code="snuh")
    if Participant.objects.filter(site=snuh, external_ref="DEMO-001").exists():
        return [f"  volunteer            {DEMO_VOLUNTEER_EMAIL}"]
    coordinator = next(
        (
            u
            for u in User.objects.filter(site_memberships__site=snuh)
            if has_role(u, Role.COORDINATOR)
        ),
        None,
    )
    assert coordinator is not None, "seed the staff accounts first"
    general = Cohort.objects.get(code="general")
    rare = Cohort.objects.get(code="rare")
    severe = Cohort.objects.get(code="severe")

    def account(email: str) -> User:
        user, created = User.objects.get_or_create(email=email)
        if created:
            user.set_password(password)
            user.save()
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        return user

    volunteer = account(DEMO_VOLUNTEER_EMAIL)
    booked = participant_register_volunteer(
        user=volunteer,
        profile=Profile(
            name="김서연",
            latin_name="Kim Seoyeon",
            birth_date=dt.date(1988, 4, 21),
            phone="010-2000-0001",
            email=DEMO_VOLUNTEER_EMAIL,
            address="서울특별시 종로구 대학로 101",
        ),
        sex="female",
        cohort=general,
        site=snuh,
    )
    answers = {q.pk: q.eligible_answer for q in screening_questions_for(general)}
    participant_screen(participant=booked, answers=answers, by=volunteer)
    first_free = next(d.day for d in bookable_days(site=snuh) if not d.is_full)
    visit_book(participant=booked, site=snuh, day=first_free, by=volunteer)

    participant_register_volunteer(
        user=account("volunteer2@demo.portal.invalid"),
        profile=Profile(
            name="이준호",
            birth_date=dt.date(1975, 11, 2),
            phone="010-2000-0002",
            email="volunteer2@demo.portal.invalid",
            address="부산광역시 서구 구덕로 179",
        ),
        sex="male",
        cohort=general,
        site=Site.objects.get(code="pnuh"),
    )

    patients = [
        ("DEMO-001", rare, "박지민", dt.date(1969, 8, 30), "male", "010-2000-0011", {}),
        ("DEMO-002", severe, "최유나", dt.date(1992, 1, 15), "female", "010-2000-0012", {}),
        (
            "DEMO-003",
            rare,
            "정하은",
            dt.date(2016, 6, 5),
            "female",
            "",
            {
                "guardian_name": "정민수",
                "guardian_phone": "010-2000-0013",
                "guardian_relationship": "아버지",
            },
        ),
    ]
    lines = [f"  volunteer            {DEMO_VOLUNTEER_EMAIL} (visit booked)"]
    for ref, cohort, name, birth_date, sex, phone, guardian in patients:
        patient = participant_enroll_patient(
            by=coordinator,
            site=snuh,
            cohort=cohort,
            profile=Profile(name=name, birth_date=birth_date, phone=phone, **guardian),
            sex=sex,
            external_ref=ref,
            referring_clinician="김태호 교수",
        )
        if patient.status == ParticipantStatus.REGISTERED and not patient.is_minor:
            participant_screen(participant=patient, answers={}, by=coordinator)
        if ref == "DEMO-001":
            _invitation, code = invitation_issue(participant=patient, by=coordinator, send=False)
            lines.append(f"  invitation code      {code} for {patient.code} (born 1969-08-30)")
    return lines
