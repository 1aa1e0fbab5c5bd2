"""Synthetic participants, one at a time: the reference data (programme, 38 sites, cohorts),
codes, phones and e-mails derived from the participant id, a plausible walk through the funnel and
a sealed vault row. Private to ``enrollment.seeding``; ``synthetic`` writes what this generates.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from ..models import Cohort, CohortGroup, Participant, ParticipantStatus, Phase, PhaseTarget, Site
from ..models.vault import ENCRYPTED_FIELDS
from ..services.people import CODE_ALPHABET, CODE_RANDOM_LENGTH, _check_character
from ..vault import Profile, personal_data_build
from .demo import seed_programme

Row = tuple[Any, ...]  # one row for COPY, values in column order

S = ParticipantStatus
START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)

# City, its name in English, how many sites, and the start of a site's address in Korean and in
# English (province and city).
CITIES = [
    ("서울", "Seoul", 9, "서울특별시", "Seoul"),
    ("부산", "Busan", 3, "부산광역시", "Busan"),
    ("대구", "Daegu", 3, "대구광역시", "Daegu"),
    ("인천", "Incheon", 2, "인천광역시", "Incheon"),
    ("광주", "Gwangju", 2, "광주광역시", "Gwangju"),
    ("대전", "Daejeon", 2, "대전광역시", "Daejeon"),
    ("울산", "Ulsan", 1, "울산광역시", "Ulsan"),
    ("수원", "Suwon", 2, "경기도 수원시", "Suwon, Gyeonggi-do"),
    ("성남", "Seongnam", 1, "경기도 성남시", "Seongnam, Gyeonggi-do"),
    ("고양", "Goyang", 1, "경기도 고양시", "Goyang, Gyeonggi-do"),
    ("춘천", "Chuncheon", 1, "강원특별자치도 춘천시", "Chuncheon, Gangwon-do"),
    ("원주", "Wonju", 1, "강원특별자치도 원주시", "Wonju, Gangwon-do"),
    ("청주", "Cheongju", 1, "충청북도 청주시", "Cheongju, Chungcheongbuk-do"),
    ("천안", "Cheonan", 1, "충청남도 천안시", "Cheonan, Chungcheongnam-do"),
    ("전주", "Jeonju", 1, "전북특별자치도 전주시", "Jeonju, Jeonbuk-do"),
    ("창원", "Changwon", 1, "경상남도 창원시", "Changwon, Gyeongsangnam-do"),
    ("진주", "Jinju", 1, "경상남도 진주시", "Jinju, Gyeongsangnam-do"),
    ("제주", "Jeju", 1, "제주특별자치도 제주시", "Jeju, Jeju-do"),
    ("포항", "Pohang", 1, "경상북도 포항시", "Pohang, Gyeongsangbuk-do"),
    ("안동", "Andong", 1, "경상북도 안동시", "Andong, Gyeongsangbuk-do"),
    ("순천", "Suncheon", 1, "전라남도 순천시", "Suncheon, Jeollanam-do"),
    ("세종", "Sejong", 1, "세종특별자치시", "Sejong"),
]  # 38 hospital sites in all
# The streets of the sites' addresses, in Korean and romanised.
SITE_STREETS = [
    ("중앙로", "Jungang-ro"),
    ("대학로", "Daehak-ro"),
    ("문화로", "Munhwa-ro"),
    ("시민로", "Simin-ro"),
    ("평화로", "Pyeonghwa-ro"),
]
SURNAMES = "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민진"
GIVEN = "민서준지현우예하윤도진수영은재원호성아연주경태동혜승희나유정빈채린"
LATIN_SURNAMES = {"김": "Kim", "이": "Lee", "박": "Park", "최": "Choi", "정": "Jung"}
STREETS = ["중앙로", "세종대로", "테헤란로", "해운대로", "동성로", "둔산로", "금남로", "경수대로"]
EMAIL_DOMAINS = ["example.com", "example.net", "example.org"]


# --- reference data ------------------------------------------------------------------------------


def site_specs() -> list[dict[str, Any]]:
    """The 38 synthetic hospital sites: code, names, regions and addresses in Korean and English, and
    capacity, all derived from the site's number (the same on every run)."""
    specs: list[dict[str, Any]] = []
    number = 0
    for city, city_en, count, place, place_en in CITIES:
        for k in range(count):
            number += 1
            street, street_en = SITE_STREETS[number % len(SITE_STREETS)]
            house = 10 + (number * 37) % 290
            specs.append(
                {
                    "code": f"h{number:02d}",
                    "name": f"{city}대학교병원" + ("" if count == 1 else f" 제{k + 1}"),
                    "name_en": f"{city_en} University Hospital"
                    + ("" if count == 1 else f" No. {k + 1}"),
                    "address": f"{place} {street} {house}",
                    "address_en": f"{house} {street_en}, {place_en}",
                    "region": city,
                    "region_en": city_en,
                    "daily_capacity": 40 + 10 * (number % 4),
                }
            )
    return specs


BILINGUAL_SITE_FIELDS = ("name_en", "region_en", "address", "address_en")


def _sites_ensure() -> None:
    """Create the synthetic sites that are missing; sites an earlier run created without English
    names, regions or addresses get them (fields someone has filled in are left alone). Three queries."""
    specs = site_specs()
    existing = Site.objects.in_bulk([s["code"] for s in specs], field_name="code")
    Site.objects.bulk_create([Site(**s) for s in specs if s["code"] not in existing])
    filled: list[Site] = []
    for spec in specs:
        site = existing.get(spec["code"])
        if site is None:
            continue
        blank = [f for f in BILINGUAL_SITE_FIELDS if not getattr(site, f)]
        for field in blank:
            setattr(site, field, spec[field])
        if blank:
            filled.append(site)
    Site.objects.bulk_update(filled, BILINGUAL_SITE_FIELDS)


def reference_data_ensure() -> tuple[list[int], dict[str, list[int]]]:
    """The programme, its phases and targets, 38 sites and the cohorts; returns site ids and
    cohort ids per cohort group."""
    seed_programme()
    _sites_ensure()
    phase = Phase.objects.filter(number=1).order_by("programme_id").first()
    sites = list(Site.objects.filter(is_active=True).order_by("id").values_list("id", flat=True))
    if phase is not None:
        per_site = 772_000 // max(len(sites), 1) // 1000 * 1000
        for site_id in sites:
            PhaseTarget.objects.get_or_create(
                phase=phase, cohort_group="", site_id=site_id, defaults={"target": per_site}
            )
    groups: dict[str, list[int]] = {g.value: [] for g in CohortGroup}
    for cohort_id, group in Cohort.objects.values_list("id", "group"):
        groups[group].append(cohort_id)
    return sites, groups


# --- one participant -------------------------------------------------------------------------------


def participant_code_for(number: int) -> str:
    """A valid participant code derived from a sequence number (unique, with its check character)."""
    base = len(CODE_ALPHABET)
    digits = []
    for _ in range(CODE_RANDOM_LENGTH):
        number, rest = divmod(number, base)
        digits.append(CODE_ALPHABET[rest])
    body = "".join(reversed(digits))
    return f"P{body}{_check_character(body)}"


def synthetic_phone(number: int) -> str:
    """The E.164 mobile number of the synthetic participant with id ``number`` (benchmarks look
    these up)."""
    return f"+8210{number % 100_000_000:08d}"


def synthetic_email(number: int) -> str:
    return f"p{number}@{EMAIL_DOMAINS[number % len(EMAIL_DOMAINS)]}"


def _registration_time(rng: random.Random, now: dt.datetime) -> dt.datetime:
    # Growing recruitment: the density rises linearly, so draw from a triangular distribution.
    span = (now - START).total_seconds()
    return START + dt.timedelta(seconds=rng.triangular(0, span, span))


def _path(rng: random.Random, patient: bool) -> list[str]:
    """The statuses this participant will pass through, if time allows."""
    path = [S.REGISTERED.value]
    if rng.random() < (0.03 if patient else 0.06):
        path.append(S.INELIGIBLE.value)
        if rng.random() < 0.3:
            path.append(S.ELIGIBLE.value)
        else:
            return path
    else:
        path.append(S.ELIGIBLE.value)
    for nxt, p in ((S.CONSENTED, 0.9), (S.SAMPLE_COLLECTED, 0.93), (S.IN_DAM, 0.9)):
        if rng.random() > p:
            break
        path.append(nxt.value)
    if rng.random() < 0.025:
        path.append(S.WITHDRAWN.value)
    return path


@dataclass
class _Context:
    first_id: int
    now: dt.datetime
    sites: list[int]
    groups: dict[str, list[int]]
    participant_columns: list[str]
    participant_defaults: dict[str, Any]
    seed: int


def _participant_columns() -> tuple[list[str], dict[str, Any]]:
    """Every concrete column of Participant with its default ("" for text), so that columns
    added later by other features are filled in too."""
    columns: list[str] = []
    defaults: dict[str, Any] = {}
    for field in Participant._meta.concrete_fields:
        column = str(field.column)
        columns.append(column)
        defaults[column] = field.get_default()
    return columns, defaults


def _generate(ctx: _Context, start: int, count: int) -> tuple[list[Row], list[Row], list[Row]]:
    rng = random.Random(ctx.seed * 1_000_003 + start)
    people: list[Row] = []
    vault: list[Row] = []
    steps: list[Row] = []
    for offset in range(count):
        number = start + offset
        pid = ctx.first_id + number
        roll = rng.random()
        group = "general" if roll < 0.6 else ("rare_disease" if roll < 0.8 else "severe_disease")
        cohort_ids = ctx.groups.get(group) or ctx.groups["general"]
        cohort_id = cohort_ids[number % len(cohort_ids)]
        patient = group != "general"
        registered_at = _registration_time(rng, ctx.now)
        # Volunteers who registered online and never booked have no site yet.
        site_id = None if (not patient and rng.random() < 0.04) else rng.choice(ctx.sites)
        age = int(rng.triangular(0 if patient else 19, 85, 52 if patient else 45))
        if not patient:
            age = max(age, 19)
        birth_date = dt.date(registered_at.year - age, 1, 1) + dt.timedelta(days=rng.randrange(365))
        birth_date = min(birth_date, registered_at.date())
        sex = "female" if rng.random() < 0.52 else "male"
        # Walk the funnel with delays, stopping where the clock stops.
        at, status, status_at = registered_at, S.REGISTERED.value, registered_at
        path = _path(rng, patient)
        previous = ""
        for i, to_status in enumerate(path):
            if i:
                at = at + dt.timedelta(hours=rng.expovariate(1 / (24 * 9)) + 1)
                if at > ctx.now:
                    break
            steps.append((pid, previous, to_status, at, site_id, cohort_id, ""))
            previous, status, status_at = to_status, to_status, at
        row = dict(ctx.participant_defaults)
        row.update(
            id=pid,
            code=participant_code_for(pid),
            kind="patient" if patient else "volunteer",
            user_id=None,
            site_id=site_id,
            cohort_id=cohort_id,
            status=status,
            birth_year=birth_date.year,
            sex=sex,
            external_ref=f"EMR-{pid}" if patient and site_id else "",
            is_minor=age < 19,
            registered_at=registered_at,
            status_changed_at=status_at,
        )
        people.append(tuple(row.get(c) for c in ctx.participant_columns))
        vault.append(_vault_row(rng, pid, birth_date, age))
    return people, vault, steps


def _vault_row(rng: random.Random, pid: int, birth: dt.date, age: int) -> Row:
    surname = rng.choice(SURNAMES)
    given = rng.choice(GIVEN) + rng.choice(GIVEN)
    minor = age < 19
    profile = Profile(
        name=surname + given,
        latin_name=f"{LATIN_SURNAMES.get(surname, 'Han')} Synthetic",
        birth_date=birth,
        phone="" if minor else synthetic_phone(pid),
        email=synthetic_email(pid),
        address=f"{rng.choice(STREETS)} {rng.randrange(1, 300)}",
        guardian_name=(rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN))
        if minor
        else "",
        guardian_phone=synthetic_phone(pid + 50_000_000) if minor else "",
        guardian_relationship="부모" if minor else "",
    )
    row = personal_data_build(participant_id=pid, profile=profile)
    return (
        pid,
        *(getattr(row, f) for f in ENCRYPTED_FIELDS),
        row.key_id,
        row.email_index,
        row.phone_index,
        row.name_birth_index,
    )
