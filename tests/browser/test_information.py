"""First contact on a phone, in Korean: what taking part involves, the sites, privacy, contact;
and a programme manager rewriting a page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from playwright.sync_api import Page

from enrollment.seeding import seed_information_pages
from portal.roles import Role
from tests import factories
from tests.browser.helpers import sign_in
from tests.browser.volunteers import focus_is_visible, tab_to_link

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}


def _fits_the_phone(page: Page) -> None:
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the phone"


def _header_is_one_line(page: Page) -> None:
    brand = page.locator(".site-header .brand").bounding_box()
    sign_in_link = page.locator(".site-header .account a").first.bounding_box()
    assert brand is not None and sign_in_link is not None
    assert abs(brand["y"] - sign_in_link["y"]) < brand["height"], "the header wrapped"


@pytest.fixture
def information():
    seed_information_pages()
    return factories.SiteFactory(
        name="부산대학교병원",
        name_en="Pusan National University Hospital",
        region="부산",
        address="부산광역시 서구 구덕로 179",
        address_en="179 Gudeok-ro, Seo-gu, Busan",
        opens_at=dt.time(8, 30),
        closes_at=dt.time(17, 0),
    )


def test_a_visitor_on_a_phone_learns_what_taking_part_involves(new_page, information):
    phone = new_page(**PHONE)
    phone.goto("/")
    assert phone.get_by_role("heading", level=1).inner_text() == (
        f"{settings.PROGRAMME_NAME_KO}에 오신 것을 환영합니다"
    )
    _fits_the_phone(phone)
    _header_is_one_line(phone)

    before = phone.get_by_role("navigation", name="참여를 결정하기 전에")
    before.get_by_role("link", name="참여 방법").click()
    assert phone.get_by_role("heading", level=1).inner_text() == "참여 방법"
    assert phone.get_by_text("약 1시간").first.is_visible()
    assert phone.get_by_role("heading", name="3. 참여 기관 한 번 방문 (약 30분)").is_visible()
    _fits_the_phone(phone)

    phone.get_by_role("link", name="참여 기관").click()
    card = phone.locator(".site-card", has=phone.get_by_role("heading", name="부산대학교병원"))
    assert card.get_by_text("부산광역시 서구 구덕로 179").is_visible()
    assert card.get_by_text("08:30\u201317:00").is_visible()
    _fits_the_phone(phone)

    footer = phone.get_by_role("contentinfo")
    footer.get_by_role("link", name="개인정보 처리방침").click()
    assert phone.get_by_role("heading", level=1).inner_text() == "개인정보 처리방침"
    assert phone.get_by_text("개인정보 보호법", exact=False).first.is_visible()
    _fits_the_phone(phone)

    footer = phone.get_by_role("contentinfo")
    assert footer.get_by_role("link", name=settings.PROGRAMME_CONTACT_EMAIL).is_visible()
    contact = phone.get_by_role("region", name="문의하기")
    assert contact.get_by_role("link", name=settings.PROGRAMME_CONTACT_PHONE).is_visible()

    phone.goto("/")
    phone.get_by_role("link", name="자원 참여자로 등록").click()
    assert "/accounts/signup/" in phone.url
    _fits_the_phone(phone)


def _follow_by_keyboard(page: Page, axe_check, link: str, *, within: str, path: str) -> None:
    """Tab to ``link`` in the navigation named ``within`` (focus visible), press Enter, and land
    on ``path``, whose heading is the link's text and where axe finds nothing serious."""
    tab_to_link(page, link)
    focus_is_visible(page)
    assert page.get_by_role("navigation", name=within).locator(":focus").count()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(path)
    assert page.get_by_role("heading", level=1).inner_text() == link
    assert [v for v in axe_check(page) if v.impact in ("serious", "critical")] == []


def test_a_keyboard_user_reaches_the_privacy_notice_and_the_faq_from_the_home_page(
    page, axe_check, information
):
    page.goto("/")
    assert page.get_by_role("heading", level=1).inner_text() == (
        f"{settings.PROGRAMME_NAME_KO}에 오신 것을 환영합니다"
    )
    # The first Tab shows the skip link.
    page.keyboard.press("Tab")
    assert page.locator(":focus").inner_text() == "본문으로 건너뛰기"
    focus_is_visible(page)

    # Through the home page's "before you decide" links to the privacy notice, by Tab and Enter.
    _follow_by_keyboard(
        page, axe_check, "개인정보 처리방침", within="참여를 결정하기 전에", path="/info/privacy/"
    )
    # From there, through the page's "more about taking part" links to the questions people ask.
    _follow_by_keyboard(page, axe_check, "자주 묻는 질문", within="참여 안내", path="/info/faq/")
    assert page.get_by_role("heading", name="참여하면 비용이 드나요?").is_visible()

    # And back home by the portal's name, the first link after the skip link.
    page.keyboard.press("Tab")
    assert page.locator(":focus").inner_text() == "본문으로 건너뛰기"
    tab_to_link(page, "댐 포털")
    focus_is_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_role("heading", level=1).inner_text() == (
        f"{settings.PROGRAMME_NAME_KO}에 오신 것을 환영합니다"
    )


def test_korean_wraps_between_words_and_long_tokens_still_fit(new_page, information):
    phone = new_page(**PHONE)
    phone.goto("/info/privacy/")
    styles = phone.evaluate(
        "() => { const s = getComputedStyle(document.querySelector('main p'));"
        " return [s.wordBreak, s.overflowWrap]; }"
    )
    assert styles == ["keep-all", "anywhere"]


def test_the_favicon_the_pages_ask_for_is_served(page):
    page.goto("/")
    icons = page.locator("link[rel=icon]")
    assert icons.count() >= 1
    for href in icons.evaluate_all("links => links.map(l => l.href)"):
        response = page.request.get(href)
        assert response.status == 200 and response.headers["content-type"].startswith("image/")


def test_a_programme_manager_rewrites_the_faq_and_visitors_read_it(
    page, new_page, staff_user_with_totp, information
):
    manager = staff_user_with_totp(Role.PROGRAMME_MANAGER)
    sign_in(page, manager.email)
    page.get_by_role("navigation", name="주 메뉴").get_by_role("link", name="안내 페이지").click()
    page.get_by_role("link", name="“자주 묻는 질문” 편집").click()
    body = page.get_by_label("본문(한국어, 마크다운)")
    assert "참여하면 비용이 드나요?" in body.input_value()
    body.fill("## 주차할 수 있나요?\n네, 방문하는 날에는 무료입니다.")
    page.get_by_label("변경 내용").fill("주차 안내 추가")
    page.get_by_role("button", name="게시").click()
    assert page.get_by_role("status").get_by_text("페이지를 게시했습니다.").is_visible()

    visitor = new_page(**PHONE)
    visitor.goto("/info/faq/")
    assert visitor.get_by_role("heading", name="주차할 수 있나요?").is_visible()
    _fits_the_phone(visitor)

    page.goto("/programmes/information/faq/")
    history = page.get_by_role("region", name="이전 판")
    assert history.get_by_text("주차 안내 추가").is_visible()
