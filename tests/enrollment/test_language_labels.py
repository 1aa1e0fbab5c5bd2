"""Sites, cohorts, phases and programmes are named in the reader's language: the English name on
English pages and files (where there is one), the Korean name on Korean ones."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from enrollment.models import Phase, PhaseTarget, Programme, Site, SiteClosure
from portal.roles import Role
from tests.enrollment.funnel_helpers import registered, walk
from tests.factories import CohortFactory, SiteFactory, staff_user

pytestmark = pytest.mark.django_db

NAMES = {
    "ko": {"a": "서울대학교병원", "b": "부산대학교병원", "phase": "1단계", "cohort": "희귀질환"},
    "en": {
        "a": "Seoul National University Hospital",
        "b": "Pusan National University Hospital",
        "phase": "Phase 1",
        "cohort": "Rare diseases",
    },
}
OTHER = {"ko": "en", "en": "ko"}


@pytest.fixture
def bilingual() -> dict[str, Any]:
    today = timezone.localdate()
    programme = Programme.objects.create(
        code="bdd", name="바이오 데이터 댐", name_en="Bio Data Dam", total_target=100
    )
    phase = Phase.objects.create(
        programme=programme,
        number=1,
        name="1단계",
        name_en="Phase 1",
        starts_on=today - dt.timedelta(days=100),
        ends_on=today + dt.timedelta(days=100),
    )
    a = SiteFactory(code="snuh", name="서울대학교병원", name_en=NAMES["en"]["a"])
    b = SiteFactory(code="pnuh", name="부산대학교병원", name_en=NAMES["en"]["b"])
    CohortFactory(name="일반 참여자", name_en="General participants")
    rare = CohortFactory(
        code="rare",
        name="희귀질환",
        name_en="Rare diseases",
        group="rare_disease",
        open_for_volunteers=False,
    )
    PhaseTarget.objects.create(phase=phase, target=20)
    PhaseTarget.objects.create(phase=phase, site=a, target=10)
    for site in (a, a, b):
        walk(registered(site=site, cohort=rare), 2)
    return {"phase": phase, "a": a, "b": b, "rare": rare}


def _sign_in(client: Any, user: Any, language: str) -> Any:
    """Sign in with ``language`` saved on the account (it wins over the cookie) and active here."""
    user.preferred_language = language
    user.save(update_fields=["preferred_language"])
    client.cookies["portal_language"] = language
    client.force_login(user)
    return user


def _names_shown(text: str, language: str, *keys: str) -> None:
    for key in keys:
        assert NAMES[language][key] in text, (language, key)
        assert NAMES[OTHER[language]][key] not in text, (language, key)


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_dashboard_and_its_csv_name_sites_and_phases_in_the_readers_language(
    client, bilingual, language
):
    _sign_in(client, staff_user(Role.PROGRAMME_MANAGER, mfa=True), language)
    response = client.get(reverse("enrollment:dashboard_national"))
    assert response.status_code == 200
    _names_shown(response.content.decode(), language, "a", "b", "phase")

    response = client.get(reverse("enrollment:dashboard_national_csv", args=["sites"]))
    assert response.status_code == 200
    rows = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert rows[1].startswith(f"pnuh,{NAMES[language]['b']},1,")
    assert rows[2].startswith(f"snuh,{NAMES[language]['a']},2,10,")
    _names_shown("\n".join(rows), language, "a", "b")


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_site_dashboard_names_the_coordinators_site_in_their_language(
    client, bilingual, language
):
    coordinator = staff_user(Role.COORDINATOR, sites=[bilingual["a"]], mfa=True)
    _sign_in(client, coordinator, language)
    html = client.get(reverse("enrollment:dashboard_site")).content.decode()
    assert NAMES[language]["a"] in html and NAMES[OTHER[language]]["a"] not in html
    rows = client.get(reverse("enrollment:dashboard_site_csv", args=["sites"]))
    body = b"".join(rows.streaming_content).decode("utf-8-sig")
    assert f"snuh,{NAMES[language]['a']}," in body


@pytest.mark.parametrize("language", ["ko", "en"])
def test_choices_of_sites_and_phases_read_in_the_readers_language(client, bilingual, language):
    manager = _sign_in(client, staff_user(Role.PROGRAMME_MANAGER, mfa=True), language)
    SiteClosure.objects.create(
        site=bilingual["b"],
        first_day=timezone.localdate() + dt.timedelta(days=30),
        last_day=timezone.localdate() + dt.timedelta(days=31),
        reason="staff training",
        created_by=manager,
    )
    # The closures page: the list of closures and the site to close.
    html = client.get(reverse("enrollment:site_closures")).content.decode()
    _names_shown(html, language, "a", "b")
    assert f"pnuh {NAMES[language]['b']}</option>" in html
    # The targets of a phase: one field per site, labelled with its name.
    html = client.get(reverse("enrollment:phase_targets", args=[bilingual["phase"].pk])).content
    _names_shown(html.decode(), language, "a", "b", "phase")
    # The programme reports: the phase to report on.
    html = client.get(reverse("reports:programme")).content.decode()
    programme = "Bio Data Dam" if language == "en" else "바이오 데이터 댐"
    assert f"{programme} · {NAMES[language]['phase']}</option>" in html


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_consent_page_of_a_participant_names_their_site_in_the_readers_language(
    client, bilingual, language
):
    participant = walk(registered(site=bilingual["a"], cohort=bilingual["rare"]), 1)
    coordinator = staff_user(Role.COORDINATOR, sites=[bilingual["a"]], mfa=True)
    _sign_in(client, coordinator, language)
    response = client.get(reverse("consent:site_participant", args=[participant.code]))
    assert response.status_code == 200
    assert f"snuh {NAMES[language]['a']}" in response.content.decode()


def test_the_overlap_message_of_a_phase_names_the_other_phase_in_the_readers_language(bilingual):
    from django.core.exceptions import ValidationError

    from enrollment.services.programmes import programme_object_save

    phase = bilingual["phase"]
    clash = Phase(
        programme=phase.programme,
        number=2,
        name="2단계",
        name_en="Phase 2",
        starts_on=phase.starts_on + dt.timedelta(days=10),
        ends_on=phase.ends_on + dt.timedelta(days=10),
    )
    for language in ("ko", "en"):
        with translation.override(language), pytest.raises(ValidationError) as raised:
            programme_object_save(obj=clash, by=staff_user(Role.PROGRAMME_MANAGER), changed=[])
        assert NAMES[language]["phase"] in str(raised.value)


@pytest.mark.parametrize("language", ["ko", "en"])
def test_a_volunteer_reads_their_sites_name_and_address_in_their_language(
    client, bilingual, language, django_capture_on_commit_callbacks
):
    from django.core import mail

    from enrollment.services import visit_book, visit_cancel
    from tests.enrollment.people import eligible, open_day
    from tests.factories import UserFactory

    site = bilingual["a"]
    site.address, site.address_en = (
        "서울특별시 종로구 대학로 101",
        "101 Daehak-ro, Jongno-gu, Seoul",
    )
    site.region, site.region_en = "서울", "Seoul"
    site.save(update_fields=["address", "address_en", "region", "region_en"])
    user = UserFactory(preferred_language=language)
    participant = eligible(site=site, user=user)
    with django_capture_on_commit_callbacks(execute=True):
        visit = visit_book(participant=participant, site=site, day=open_day(), by=None)
    address = site.address_en if language == "en" else site.address
    assert NAMES[language]["a"] in mail.outbox[-1].body and address in mail.outbox[-1].body
    _sign_in(client, user, language)
    _names_shown(client.get(reverse("enrollment:me")).content.decode(), language, "a")
    html = client.get(reverse("enrollment:me_visit_cancel")).content.decode()
    _names_shown(html, language, "a")
    region = "Seoul" if language == "en" else "서울"
    assert f"{NAMES[language]['a']} · {region}</dd>" in html
    with django_capture_on_commit_callbacks(execute=True):
        visit_cancel(visit=visit, by=None)
    _names_shown(mail.outbox[-1].body, language, "a")


# Four sites whose order differs between the languages, by region as by name.
REGIONS = {
    "ko": {"snuh": "서울", "amc": "서울", "pnuh": "부산", "cnuh": "대전"},
    "en": {"snuh": "Seoul", "amc": "Seoul", "pnuh": "Busan", "cnuh": "Daejeon"},
}
# By name: Asan, Chungnam, Pusan, Seoul; 부산대, 서울대, 서울아산, 충남대.
BY_NAME = {"en": ["amc", "cnuh", "pnuh", "snuh"], "ko": ["pnuh", "snuh", "amc", "cnuh"]}
# By region, then by name: Busan, Daejeon, Seoul (Asan, Seoul); 대전, 부산, 서울 (서울대, 서울아산).
BY_REGION = {"en": ["pnuh", "cnuh", "amc", "snuh"], "ko": ["cnuh", "pnuh", "snuh", "amc"]}


@pytest.fixture
def four_sites(bilingual: dict[str, Any]) -> dict[str, Any]:
    """The two sites of ``bilingual`` with their regions, and two more."""
    SiteFactory(code="amc", name="서울아산병원", name_en="Asan Medical Center")
    SiteFactory(code="cnuh", name="충남대학교병원", name_en="Chungnam National University Hospital")
    for site in Site.objects.all():
        site.region, site.region_en = REGIONS["ko"][site.code], REGIONS["en"][site.code]
        site.save(update_fields=["region", "region_en"])
    return bilingual


def _site_options(html: str, select_name: str) -> list[str]:
    select = re.search(rf'<select name="{select_name}".*?</select>', html, re.S)
    assert select is not None, select_name
    return re.findall(r'<option value="([^"]*)"', select.group(0))


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_sites_page_shows_regions_and_sorts_sites_in_the_readers_language(
    client, four_sites, language
):
    client.cookies["portal_language"] = language
    response = client.get(reverse("enrollment:information", args=["sites"]))
    assert response.status_code == 200
    html = response.content.decode()
    names = {s.code: s.name_en if language == "en" else s.name for s in Site.objects.all()}
    assert re.findall(r"<h3>(.*?)</h3>", html) == [names[code] for code in BY_REGION[language]]
    for code, region in REGIONS[language].items():
        assert f"<dd>{region}</dd>" in html, code
        assert f"<dd>{REGIONS[OTHER[language]][code]}</dd>" not in html, code


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_volunteers_site_choices_show_regions_and_sort_in_the_readers_language(
    client, four_sites, language
):
    from tests.enrollment.people import eligible
    from tests.factories import UserFactory

    # Registering: the site to give samples at.
    _sign_in(client, UserFactory(), language)
    html = client.get(reverse("enrollment:me_register")).content.decode()
    pks = {str(s.pk): s.code for s in Site.objects.all()}
    assert [pks[pk] for pk in _site_options(html, "site") if pk] == BY_NAME[language]
    client.logout()

    # Booking a visit: the site to visit, with its region.
    user = UserFactory()
    eligible(site=four_sites["a"], user=user)
    _sign_in(client, user, language)
    html = client.get(reverse("enrollment:me_visit")).content.decode()
    assert _site_options(html, "site") == BY_NAME[language]
    region = REGIONS[language]
    assert f"{NAMES[language]['b']} ({region['pnuh']})</option>" in html
    assert f"{NAMES[language]['a']} ({region['snuh']})</option>" in html
    assert f"({REGIONS[OTHER[language]]['pnuh']})</option>" not in html


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_sites_to_ship_from_sort_by_name_in_the_readers_language(client, four_sites, language):
    _sign_in(client, staff_user(Role.ADMIN, mfa=True), language)
    response = client.get(reverse("dam:shipments"))
    assert response.status_code == 200
    pks = {str(s.pk): s.code for s in Site.objects.all()}
    options = _site_options(response.content.decode(), "site")
    assert [pks[pk] for pk in options] == BY_NAME[language]
