"""Demo data for the embedded default: a programme with phases and targets, sites, cohorts."""

from __future__ import annotations

import datetime as dt

from .models import Cohort, CohortGroup, Phase, PhaseTarget, Programme, Site

SITES = [
    ("snuh", "서울대학교병원", "서울", 60),
    ("amc", "서울아산병원", "서울", 60),
    ("pnuh", "부산대학교병원", "부산", 40),
    ("cnuh", "충남대학교병원", "대전", 30),
]
COHORTS = [
    ("general", "일반 참여자", CohortGroup.GENERAL, True),
    ("rare", "희귀질환", CohortGroup.RARE_DISEASE, False),
    ("severe", "중증질환", CohortGroup.SEVERE_DISEASE, False),
]


def seed_programme() -> Programme:
    programme, _ = Programme.objects.get_or_create(
        code="bdd",
        defaults={"name": "국가 바이오 빅데이터 (Bio Data Dam)", "total_target": 1_000_000},
    )
    for code, name, region, capacity in SITES:
        Site.objects.get_or_create(
            code=code, defaults={"name": name, "region": region, "daily_capacity": capacity}
        )
    for code, name, group, open_ in COHORTS:
        Cohort.objects.get_or_create(
            code=code, defaults={"name": name, "group": group, "open_for_volunteers": open_}
        )
    phase1, _ = Phase.objects.get_or_create(
        programme=programme,
        number=1,
        defaults={
            "name": "1단계",
            "starts_on": dt.date(2024, 1, 1),
            "ends_on": dt.date(2028, 12, 31),
        },
    )
    Phase.objects.get_or_create(
        programme=programme,
        number=2,
        defaults={
            "name": "2단계",
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
