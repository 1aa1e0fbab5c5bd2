"""The public information pages: read by anyone, written by programme managers, every edit kept."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from enrollment.models import InformationRevision, InformationTopic
from enrollment.seeding import seed_information_pages
from enrollment.services.pages import information_page_revise
from portal.models import AuditEvent
from portal.roles import Role
from tests.audits import assert_access_denied
from tests.enrollment.funnel_helpers import sign_in
from tests.factories import SiteFactory, UserFactory, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client):
    manager = staff_user(Role.PROGRAMME_MANAGER, mfa=True)
    sign_in(client, manager)
    client.manager = manager
    return client


def _page(client, topic: str, language: str = "ko") -> str:
    client.cookies["portal_language"] = language
    response = client.get(reverse("enrollment:information", args=[topic]))
    assert response.status_code == 200
    return response.content.decode()


def test_every_seeded_page_reads_in_korean_and_english(client):
    assert seed_information_pages() == len(InformationTopic)
    assert seed_information_pages() == 0  # a second run changes nothing
    for topic in InformationTopic:
        revision = InformationRevision.objects.get(topic=topic)
        assert f"<h1>{revision.title_ko}</h1>" in _page(client, topic.value, "ko")
        assert f"<h1>{revision.title_en}</h1>" in _page(client, topic.value, "en")
    taking_part = _page(client, "taking-part", "ko")
    assert "혈액" in taking_part and "소변" in taking_part and "약 1시간" in taking_part


def test_the_sites_page_lists_each_active_site_with_its_address_and_hours(client):
    seed_information_pages()
    SiteFactory(
        name="부산대학교병원",
        name_en="Pusan National University Hospital",
        address="부산광역시 서구 구덕로 179",
        address_en="179 Gudeok-ro, Seo-gu, Busan",
        opens_at=dt.time(8, 30),
        closes_at=dt.time(16, 30),
    )
    SiteFactory(name="문 닫은 병원", is_active=False)
    korean = _page(client, "sites", "ko")
    assert "부산대학교병원" in korean and "부산광역시 서구 구덕로 179" in korean
    assert "08:30\u201316:30" in korean
    assert "문 닫은 병원" not in korean
    english = _page(client, "sites", "en")
    assert "Pusan National University Hospital" in english
    assert "179 Gudeok-ro, Seo-gu, Busan" in english


def test_contact_details_come_from_settings_on_pages_and_in_the_footer(client, settings):
    settings.PROGRAMME_CONTACT_EMAIL = "help@biobank.example.org"
    settings.PROGRAMME_CONTACT_PHONE = "02-740-8114"
    seed_information_pages()
    contact = _page(client, "contact", "ko")
    assert contact.count("mailto:help@biobank.example.org") == 2  # the page and the footer
    assert 'href="tel:027408114"' in contact
    home = client.get("/").content.decode()
    assert "mailto:help@biobank.example.org" in home


def test_the_home_page_links_every_information_page(client):
    client.cookies["portal_language"] = "en"
    home = client.get("/").content.decode()
    for topic in InformationTopic:
        assert reverse("enrollment:information", args=[topic.value]) in home


def test_a_page_without_text_yet_says_so_instead_of_failing(client):
    page = _page(client, "faq", "en")
    assert "This page is being written" in page


def test_an_unknown_page_is_not_found(client):
    assert client.get("/info/no-such-page/").status_code == 404


def test_a_page_without_english_is_shown_in_korean_marked_as_korean(client):
    information_page_revise(
        topic="faq", title_ko="자주 묻는 질문", body_ko="## 비용\n없습니다.", by=None
    )
    page = _page(client, "faq", "en")
    assert '<article class="information" lang="ko">' in page
    assert "<h2>비용</h2>" in page


def test_markdown_is_cleaned_like_consent_texts(client):
    information_page_revise(
        topic="faq",
        title_ko="질문",
        body_ko=(
            "안녕 <script>alert(1)</script> [나쁜 링크](javascript:alert(1)) "
            '<img src="https://tracker.example/x.png"> [좋은 링크](https://example.org)'
        ),
        by=None,
    )
    page = _page(client, "faq", "ko")
    assert "<script>alert" not in page and "javascript:" not in page
    assert "tracker.example" not in page
    assert 'href="https://example.org"' in page


def test_a_manager_publishes_a_new_version_and_the_old_one_stays(manager_client, in_english):
    seed_information_pages()
    first = InformationRevision.objects.get(topic="faq")
    edit = reverse("enrollment:information_edit", args=["faq"])
    form = manager_client.get(edit).content.decode()
    assert first.body_markdown_ko.splitlines()[0] in form  # the form starts from the current text
    response = manager_client.post(
        edit,
        {
            "title_ko": "자주 묻는 질문",
            "body_markdown_ko": "## 주차할 수 있나요?\n네, 무료입니다.",
            "title_en": "FAQ",
            "body_markdown_en": "## Can I park?\nYes, for free.",
            "note": "parking",
        },
    )
    assert response.status_code == 302
    assert InformationRevision.objects.filter(topic="faq").count() == 2
    newest = InformationRevision.objects.filter(topic="faq").latest("id")
    assert newest.created_by == manager_client.manager and newest.note == "parking"
    assert AuditEvent.objects.filter(
        action="information.revised", actor=manager_client.manager, object_id=str(newest.pk)
    ).exists()
    assert "Can I park?" in _page(manager_client, "faq", "en")
    history = manager_client.get(edit).content.decode()
    assert "parking" in history and "first version" in history


def test_half_an_english_page_is_refused_with_a_message(manager_client, in_english):
    response = manager_client.post(
        reverse("enrollment:information_edit", args=["faq"]),
        {"title_ko": "질문", "body_markdown_ko": "내용", "title_en": "FAQ", "body_markdown_en": ""},
    )
    assert response.status_code == 200
    assert "Enter the English text, or leave the English title empty." in response.content.decode()
    assert not InformationRevision.objects.exists()


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.ETHICS_REVIEWER, Role.PARTICIPANT])
def test_only_programme_managers_edit_the_pages(client, role):
    user = staff_user(role, mfa=True) if role != Role.PARTICIPANT else UserFactory()
    sign_in(client, user)
    response = client.post(
        reverse("enrollment:information_edit", args=["privacy"]),
        {"title_ko": "x", "body_markdown_ko": "y"},
    )
    assert response.status_code == 404
    assert not InformationRevision.objects.exists()
    assert_access_denied(
        actor=user, object_type="view", object_id="information_edit", reason="role"
    )


def test_a_published_version_cannot_be_changed_or_deleted():
    revision = information_page_revise(
        topic="privacy", title_ko="처리방침", body_ko="본문", by=None
    )
    for statement in (
        f"UPDATE enrollment_informationrevision SET body_html_ko = 'x' WHERE id = {revision.pk}",
        f"DELETE FROM enrollment_informationrevision WHERE id = {revision.pk}",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)


def test_a_manager_gives_a_site_its_english_name_address_and_hours(manager_client, in_english):
    response = manager_client.post(
        reverse("enrollment:programme_site_new"),
        {
            "code": "jnuh",
            "name": "전남대학교병원",
            "name_en": "Chonnam National University Hospital",
            "region": "광주",
            "region_en": "Gwangju",
            "address": "광주광역시 동구 제봉로 42",
            "address_en": "42 Jebong-ro, Dong-gu, Gwangju",
            "opens_at": "08:00",
            "closes_at": "16:00",
            "daily_capacity": "45",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    page = _page(manager_client, "sites", "en")
    assert "Chonnam National University Hospital" in page and "<dd>Gwangju</dd>" in page
    assert "42 Jebong-ro, Dong-gu, Gwangju" in page and "08:00\u201316:00" in page


def test_a_site_closing_before_it_opens_is_refused_with_a_message(manager_client, in_english):
    response = manager_client.post(
        reverse("enrollment:programme_site_new"),
        {
            "code": "jnuh",
            "name": "전남대학교병원",
            "region": "광주",
            "opens_at": "17:00",
            "closes_at": "09:00",
            "daily_capacity": "45",
        },
    )
    assert response.status_code == 200
    assert "The closing time must come after the opening time." in response.content.decode()
