"""Journeys of issue 12, in Korean, by visible text, role and label: a volunteer books a visit on
an open day (phone), a coordinator works the desk (staff home, upcoming visits, a site closure,
the next step after enrolling, the tablet hand-over, tube after tube), and a programme manager
reads a forecast that adds up."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page

from enrollment.models import Phase, PhaseTarget, Programme, SiteClosure, Visit
from enrollment.services.funnel import participant_transition
from enrollment.services.visits import bookable_days, public_holiday
from portal.roles import Role
from tests.browser.helpers import fresh_totp_code, sign_in, wait_for_email
from tests.consent import signing_builders as ca
from tests.dam.custody_builders import consented
from tests.enrollment.funnel_helpers import registered, walk
from tests.enrollment.people import eligible, open_day
from tests.factories import CohortFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.browser

ADDRESS = "서울특별시 종로구 대학로 101"


def test_volunteer_books_an_open_day_and_keeps_it_in_a_calendar(
    new_page, live_url, transactional_db
):
    site = SiteFactory(
        name="서울대학교병원",
        address=ADDRESS,
        daily_capacity=5,
        opens_at=dt.time(8, 30),
        closes_at=dt.time(12, 0),
    )
    user = UserFactory(email="haneul@example.org")
    eligible(site=site, user=user, email="haneul@example.org")
    closed = open_day(2)
    SiteClosure.objects.create(site=site, first_day=closed, last_day=closed, reason="직원 교육")
    page: Page = new_page(viewport={"width": 375, "height": 740})
    sign_in(page, user.email)

    page.goto("/me/")
    # The next step, in the list of steps.
    page.locator("ol.journey").get_by_role("link", name="방문 예약").click()
    page.wait_for_url("**/me/visit/")
    main = page.locator("main")
    assert ADDRESS in main.inner_text() and "08:30\u201312:00" in main.inner_text()
    options = page.get_by_label("방문일").locator("option")
    labels = options.all_inner_texts()
    days = [dt.date.fromisoformat(v) for v in options.evaluate_all("os => os.map(o => o.value)")]
    # Every offered day names its weekday; no Sunday, public holiday or closed day is offered.
    assert all(re.search(r"\((월|화|수|목|금|토)요일\)", label) for label in labels), labels
    assert closed not in days
    assert not any(public_holiday(day) or day.weekday() == 6 for day in days)
    page.get_by_label("방문일").select_option(index=0)
    with page.expect_navigation():
        page.get_by_role("button", name="이 날짜로 예약").click()

    assert page.get_by_test_id("status").inner_text() == "방문 예약"
    assert f"주소: {ADDRESS}" in page.locator("main").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="내 캘린더에 추가(.ics 파일)").click()
    with open(download.value.path(), encoding="utf-8") as calendar_file:
        ics = calendar_file.read()
    assert "METHOD:PUBLISH" in ics
    assert f"DTSTART;TZID=Asia/Seoul:{days[0]:%Y%m%d}T083000" in ics

    message = wait_for_email("haneul@example.org")
    ((name, content, _mimetype),) = message.attachments
    assert name == "visit.ics" and "METHOD:PUBLISH" in content
    # The link in the mail is the configured address, never the host the browser used.
    assert f"{settings.SITE_URL}/me/" in message.body
    assert live_url not in message.body


def test_coordinator_works_the_desk_in_korean(page: Page, staff_user_with_totp, transactional_db):
    site = SiteFactory(name="서울대학교병원", address=ADDRESS)
    # The active consent version comes with the participant who already signed.
    sampled = consented(site, phone="010-7777-8888", email="d@example.org")
    coordinator = staff_user_with_totp(Role.COORDINATOR, sites=[site])
    today = timezone.localdate()
    Visit.objects.create(participant=eligible(site=site), site=site, day=today)
    soon = today + dt.timedelta(days=3)
    Visit.objects.create(
        participant=eligible(site=site, phone="010-3333-4444", email="b@example.org"),
        site=site,
        day=soon,
    )
    patient = ca.eligible_participant(site=site, phone="010-5555-6666", email="c@example.org")
    sign_in(page, coordinator.email)

    # Staff home: the work, with counts and links.
    assert page.get_by_role("heading", name="내 업무").is_visible()
    visits_card = page.locator(".card", has_text="오늘 방문")
    assert visits_card.locator(".figure").inner_text() == "1"
    visits_card.get_by_role("link", name="방문 업무 목록 열기").click()
    page.wait_for_url("**/sites/worklist/")
    # Upcoming days, grouped by day.
    assert page.get_by_role("heading", name=re.compile(r"· 오늘")).first.is_visible()
    weekday = "월화수목금토일"[soon.weekday()]
    assert page.get_by_role("heading", name=re.compile(f"\\({weekday}요일\\)")).count() >= 1

    # A closure for a day ahead: that day is no longer offered.
    page.get_by_role("link", name="기관 휴무일").click()
    closed = open_day(10)
    page.get_by_label("기관:", exact=True).select_option(label=str(site))
    page.get_by_label("휴무 첫날").fill(closed.isoformat())
    page.get_by_label("휴무 마지막 날").fill(closed.isoformat())
    page.get_by_label("사유").fill("직원 교육")
    with page.expect_navigation():
        page.get_by_role("button", name="휴무 저장").click()
    assert "더 이상 예약할 수 없습니다" in page.locator(".messages").inner_text()
    assert closed not in {d.day for d in bookable_days(site=site)}

    # The participant page says what comes next: record consent, on the tablet.
    page.goto(f"/sites/participants/{patient.code}/")
    page.get_by_role("link", name="다음 단계: 동의 기록").click()
    page.get_by_role("link", name="참여자가 이 태블릿에 서명").click()
    assert ca.NAME in page.get_by_test_id("patient-name").inner_text()
    with page.expect_navigation():
        page.get_by_role("button", name=f"성명 일치({ca.NAME}): 태블릿 건네기").click()
    # The patient sees the form, no staff menu, and two clearly named clear buttons.
    assert page.locator("header nav").count() == 0
    assert page.get_by_role("button", name="환자 서명 지우기").is_visible()
    assert page.get_by_role("button", name="연구자 서명 지우기").is_visible()
    page.goto("/staff/")
    assert page.get_by_role("heading", name="태블릿을 담당 직원에게 돌려주세요").is_visible()
    page.get_by_label("비밀번호 또는 인증 앱의 코드").fill("000000")
    with page.expect_navigation():
        page.get_by_role("button", name="태블릿 돌려받기").click()
    assert "담당 직원만" in page.locator("main").inner_text()
    page.get_by_label("비밀번호 또는 인증 앱의 코드").fill(fresh_totp_code(coordinator.email))
    with page.expect_navigation():
        page.get_by_role("button", name="태블릿 돌려받기").click()
    page.wait_for_url(f"**/site/consent/participants/{patient.code}/")

    # Tube after tube for the same participant.
    page.goto(f"/sites/participants/{sampled.code}/")
    page.get_by_role("link", name="다음 단계: 검체 기록").click()
    page.get_by_label("튜브 바코드").fill("BDD-000201")
    page.get_by_label("용량(ml)").fill("4.0")
    with page.expect_navigation():
        page.get_by_role("button", name="검체 기록").click()
    assert page.get_by_role("heading", name=f"{sampled.code}의 다음 검체 튜브").is_visible()
    assert page.evaluate("document.activeElement.name") == "barcode"
    assert page.get_by_label("참여자 번호").input_value() == sampled.code


def test_manager_reads_a_forecast_whose_groups_add_up(page: Page, staff_user_with_totp):
    today = timezone.localdate()
    programme = Programme.objects.create(code="bdd", name="바이오 데이터 댐", total_target=1000)
    phase = Phase.objects.create(
        programme=programme,
        number=1,
        name="1단계",
        starts_on=today - dt.timedelta(days=300),
        ends_on=today + dt.timedelta(days=45),
    )
    PhaseTarget.objects.create(phase=phase, target=100)
    site = SiteFactory(code="snuh", name="서울대학교병원")
    cohorts = [
        CohortFactory(code="gen"),
        CohortFactory(code="rare", group="rare_disease", open_for_volunteers=False),
        CohortFactory(code="sev", group="severe_disease", open_for_volunteers=False),
    ]
    # One recent consent per group: each group alone is half a person more by the phase end.
    for cohort in cohorts:
        p = walk(registered(site=site, cohort=cohort), 1)
        participant_transition(participant=p, to_status="consented", actor=None)
    manager = staff_user_with_totp(Role.PROGRAMME_MANAGER)
    sign_in(page, manager.email)
    page.get_by_role("link", name="전국 대시보드 열기").click()
    page.wait_for_url("**/dashboards/national/")
    assert page.locator(".card", has_text="참여 확정").first.is_visible()
    forecast = page.locator("section", has=page.get_by_role("heading", name="예측", exact=True))
    forecast.locator("details").evaluate("details => { details.open = true; }")
    table = forecast.locator("table")
    headers = table.locator("thead th").all_inner_texts()
    column = headers.index("단계 종료 시 예상")
    rows = [r.locator("th, td").all_inner_texts() for r in table.locator("tbody tr").all()]
    total, *groups = (int(row[column].replace(",", "")) for row in rows)
    assert total == sum(groups) == 5
