"""The shell every page shares: menus per role, keyboard use, phones, error pages."""

from __future__ import annotations

import pytest

from enrollment.models import InformationTopic
from enrollment.seeding import seed_information_pages
from portal.roles import Role
from tests import factories
from tests.browser.helpers import sign_in

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 375, "height": 740}, "is_mobile": True, "has_touch": True}
PUBLIC_PAGES = [
    "/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
    *(f"/info/{topic.value}/" for topic in InformationTopic),
]


def test_pages_fit_a_phone_screen_without_sideways_scrolling(new_page):
    seed_information_pages()
    factories.SiteFactory(address="서울특별시 종로구 대학로 101", address_en="101 Daehak-ro")
    phone = new_page(**PHONE)
    for path in PUBLIC_PAGES:
        phone.goto(path)
        overflow = phone.evaluate("() => document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, f"{path} is {overflow}px wider than the phone"
        header = phone.locator(".site-header")
        brand = header.locator(".brand").bounding_box()
        account = header.locator(".account").bounding_box()
        assert brand and account and abs(brand["y"] - account["y"]) < brand["height"], path


def test_keyboard_users_can_skip_to_the_content(page):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    assert skip.get_attribute("href") == "#main"
    assert skip.is_visible()  # shown when focused
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"


def test_menu_shows_staff_entries_to_staff_only(page, new_page, staff_user_with_totp):
    coordinator = staff_user_with_totp(Role.COORDINATOR, sites=[factories.SiteFactory()])
    sign_in(page, coordinator.email)
    menu = page.get_by_role("navigation", name="주 메뉴")
    assert menu.get_by_role("link", name="직원 홈").is_visible()

    participant = factories.UserFactory()
    other = new_page()
    sign_in(other, participant.email)
    assert other.get_by_role("link", name="직원 홈").count() == 0


def test_missing_page_is_a_readable_page_in_korean(page):
    response = page.goto("/no-such-page/")
    assert response is not None and response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "404"
    assert page.get_by_text("요청하신 페이지가 없습니다.").is_visible()
