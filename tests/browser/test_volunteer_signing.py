"""Signing the consent form with the keyboard alone, in Korean on a phone: the error summary
takes the focus and leads to each missing answer; the password on the form confirms."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from consent.models import ConsentEvent
from tests.browser.helpers import sign_in
from tests.browser.volunteers import PHONE, focused_id, tab_to, volunteer
from tests.consent import signing_builders as ca
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.browser


def test_volunteer_signs_by_keyboard_and_the_summary_leads_to_what_is_missing(
    new_page, transactional_db
):
    version = ca.active_version()
    user, participant = volunteer()
    page: Page = new_page(viewport=PHONE)
    sign_in(page, user.email)
    page.goto("/consent/sign/")

    # Every item "yes" (Space on the first choice of each group) except "유전체 분석", skipped.
    for code in ca.all_yes(version):
        tab_to(page, f"input[name=item_{code}]")
        if code != "genomic_analysis":
            page.keyboard.press("Space")
    for question in version.questions.all():
        tab_to(page, f"input[name=q_{question.pk}]")
        for _ in range(question.correct_choice):
            page.keyboard.press("ArrowDown")
        page.keyboard.press("Space")
    tab_to(page, "input[name=typed_name]")
    page.keyboard.type(ca.NAME)
    tab_to(page, "input[name=password]")
    page.keyboard.type(DEFAULT_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    # The summary has the focus, says how many problems, and links each to its field.
    assert focused_id(page) == "error-summary"
    summary = page.get_by_role("heading", name="서명하기 전에 고칠 곳이 2개 있습니다")
    assert summary.is_visible()
    links = page.locator("#error-summary a")
    assert links.count() == 2
    assert "유전체 분석" in links.nth(0).inner_text()
    assert page.locator("#id_item_genomic_analysis_0").get_attribute("aria-invalid") == "true"
    # What was answered is still answered.
    assert page.locator("#fieldset-item_data_sharing").get_by_label("예, 동의합니다").is_checked()
    assert page.get_by_label("등록하신 성명(전체)").input_value() == ca.NAME

    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert focused_id(page) == "id_item_genomic_analysis_0"
    page.keyboard.press("ArrowDown")  # "아니요": an optional item may be refused
    tab_to(page, "input[name=confirm]")
    page.keyboard.press("Space")
    # A wrong password: the same form again, the error on the password field only.
    tab_to(page, "input[name=password]")
    page.keyboard.type("a-wrong-password-typed")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert focused_id(page) == "error-summary"
    assert page.locator("#error-summary a").count() == 1
    assert "비밀번호가 맞지 않습니다" in page.locator("#password-error").inner_text()
    assert not ConsentEvent.objects.exists()
    assert (
        page.locator("#fieldset-item_genomic_analysis")
        .get_by_label("아니요, 동의하지 않습니다")
        .is_checked()
    )

    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert focused_id(page) == "id_password"
    page.keyboard.type(DEFAULT_PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "동의가 기록되었습니다" in page.locator(".messages").inner_text()
    event = ConsentEvent.objects.get(participant=participant)
    assert event.choices["genomic_analysis"] is False and event.choices["data_sharing"] is True
