"""A volunteer's journey on a phone, in Korean, by what the pages say: "My participation" leads
from each step to the next (book, sign, receipt); cancelling a visit asks first; the history
says what each change changed; a partial withdrawal names its level, cancels the booked visit
(the site is told) and offers to widen it or to take part again."""

from __future__ import annotations

import pytest
from django.core import mail
from playwright.sync_api import Page

from consent.models import ConsentState
from enrollment.models import Visit
from portal.roles import Role
from tests.browser.helpers import sign_in
from tests.browser.volunteers import PHONE, volunteer
from tests.consent import signing_builders as ca
from tests.factories import DEFAULT_PASSWORD, staff_user

pytestmark = pytest.mark.browser

YES = "예, 동의합니다"
NO = "아니요, 동의하지 않습니다"


def steps_text(page: Page) -> str:
    return page.locator("ol.journey").inner_text()


def book_first_free_day(page: Page) -> None:
    page.locator("ol.journey").get_by_role("link", name="방문 예약").click()
    day = page.get_by_label("방문일")
    day.select_option(index=1)
    with page.expect_navigation():
        page.get_by_role("button", name="이 날짜로 예약").click()


def test_volunteer_follows_the_steps_cancels_signs_changes_and_withdraws_partly(
    new_page, transactional_db
):
    version = ca.active_version()
    user, participant = volunteer()
    assert participant.site is not None
    coordinator = staff_user(Role.COORDINATOR, sites=[participant.site])
    page: Page = new_page(viewport=PHONE)
    sign_in(page, user.email)
    page.goto("/me/")

    # Each step with its state; the next ones are links.
    steps = steps_text(page)
    assert "참여 자격" in steps and "확인됨" in steps and "아직 예약하지 않음" in steps
    book_first_free_day(page)
    assert "방문 예약됨" in steps_text(page)

    # Cancelling asks first, with the day and the site; keeping it changes nothing.
    page.get_by_role("link", name="방문 취소").click()
    assert page.get_by_role("heading", name="방문을 취소하시겠습니까?").is_visible()
    assert participant.site.name in page.locator("main").inner_text()
    page.get_by_role("link", name="아니요, 방문을 유지합니다").click()
    assert Visit.objects.get(participant=participant).status == "booked"
    page.get_by_role("link", name="방문 취소").click()
    with page.expect_navigation():
        page.get_by_role("button", name="예, 이 방문을 취소합니다").click()
    assert "방문이 취소되었습니다" in page.locator(".messages").inner_text()
    assert Visit.objects.get(participant=participant).status == "cancelled"
    book_first_free_day(page)

    # Signing from the step's link, the password on the form.
    page.locator("ol.journey").get_by_role("link", name="동의서를 읽고 서명하기").click()
    for code in ca.all_yes(version):
        page.locator(f"#fieldset-item_{code}").get_by_label(YES).check()
    for question in version.questions.all():
        page.get_by_role("group", name=question.text).get_by_label(
            question.choices[question.correct_choice]
        ).check()
    page.get_by_label("등록하신 성명(전체)").fill(ca.NAME)
    page.get_by_label("동의서를 읽었고").check()
    page.get_by_label("비밀번호", exact=True).fill(DEFAULT_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="동의서에 서명").click()
    page.goto("/me/")
    assert "서명함" in steps_text(page)
    assert page.get_by_role("link", name="확인서 보기").is_visible()

    # Changing a choice and back: the history says which item went which way.
    page.goto("/consent/")
    for answer in (NO, YES):
        page.get_by_role("link", name="내 선택 변경").click()
        page.locator("#fieldset-item_genomic_analysis").get_by_label(answer).check()
        page.get_by_label("지금부터 이 선택이 적용되기를 원합니다.").check()
        with page.expect_navigation():
            page.get_by_role("button", name="선택 저장").click()
    history = page.get_by_role("table").inner_text()
    assert "유전체 분석: 예 → 아니요" in history and "유전체 분석: 아니요 → 예" in history

    # A partial withdrawal: no further collection.
    mail.outbox.clear()
    page.get_by_role("link", name="사업 참여 철회").click()
    page.get_by_label("추가 수집 중단").check()
    page.get_by_label("철회 시 처리 내용을 읽었으며 철회를 원합니다.").check()
    with page.expect_navigation():
        page.get_by_role("button", name="철회 확인").click()
    status = page.get_by_test_id("consent-status").inner_text()
    assert "일부 철회: 추가 수집 중단" in status and "전면" not in status
    assert "예약된 방문은 취소되었습니다" in page.locator("main").inner_text()
    assert Visit.objects.filter(participant=participant, status="cancelled").count() == 2
    assert not Visit.objects.filter(participant=participant, status="booked").exists()
    assert any(coordinator.email in m.to and participant.code in m.subject for m in mail.outbox)

    # Widening offers only the stricter level; taking part again is a new signature.
    page.get_by_role("link", name="철회 범위 넓히기").click()
    levels = page.get_by_role("group", name="어느 범위까지 철회하시겠습니까?").inner_text()
    assert "추가 연락 중단" not in levels and "추가 수집 중단" not in levels
    page.get_by_role("link", name="취소", exact=True).click()
    page.goto("/me/")
    assert "일부 철회: 추가 수집 중단" in steps_text(page)
    page.locator("ol.journey").get_by_role("link", name="다시 서명하여 참여하기").click()
    assert "다시 서명하면 이 철회가 거두어지고" in page.locator("main").inner_text()
    for code in ca.all_yes(version):
        page.locator(f"#fieldset-item_{code}").get_by_label(YES).check()
    for question in version.questions.all():
        page.get_by_role("group", name=question.text).get_by_label(
            question.choices[question.correct_choice]
        ).check()
    page.get_by_label("등록하신 성명(전체)").fill(ca.NAME)
    page.get_by_label("동의서를 읽었고").check()
    page.get_by_label("비밀번호", exact=True).fill(DEFAULT_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="동의서에 서명").click()
    state = ConsentState.objects.get(participant=participant)
    assert (state.status, state.withdrawal_level) == ("active", "")
    # Nothing sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
