"""Enrollment in the browser, in Korean: a volunteer from sign-up to a booked visit; a coordinator
enrolls a patient and hands over an invitation code that the patient claims; a referral upload
with bad rows."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page

from enrollment.models import Participant, ParticipantStatus, ScreeningQuestion, Visit
from enrollment.vault import profile_for_participant
from portal.models import User
from portal.roles import Role
from tests.browser.helpers import link_in_email, sign_in, wait_for_email
from tests.factories import CohortFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.browser

PASSWORD = "a-long-and-unusual-passphrase-77"


def submit(page: Page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).click()


def test_volunteer_signs_up_registers_screens_and_books_a_visit_in_korean(page, transactional_db):
    site = SiteFactory(name="서울대학교병원", daily_capacity=3)
    cohort = CohortFactory(name="일반 참여자")
    question = ScreeningQuestion.objects.create(
        cohort=cohort,
        order=1,
        text="최근 6개월 이내에 수혈을 받은 적이 있습니까?",
        eligible_answer=False,
    )

    page.goto("/accounts/signup/")
    page.get_by_label("이메일").fill("haneul@example.org")
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    page.goto(link_in_email(wait_for_email("haneul@example.org"), "/accounts/confirm-email/"))
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    # Confirming the address signed them in.
    assert page.get_by_role("button", name="로그아웃").is_visible()

    page.goto("/me/")
    assert page.locator("html").get_attribute("lang") == "ko"
    with page.expect_navigation():
        page.get_by_role("link", name="자원 참여자로 등록").first.click()
    page.get_by_label("이름(한글)").fill("김하늘")
    page.get_by_label("영문 이름(선택)").fill("Kim Haneul")
    page.get_by_label("생년월일").fill("1990-07-01")
    page.locator("input[name=sex][value=female]").check()
    page.get_by_label(re.compile("^휴대전화")).fill("02-123-4567")  # a landline: refused
    page.get_by_label(re.compile("^주소")).fill("서울특별시 마포구 월드컵로 1")
    page.get_by_label("채취 기관").select_option(label=str(site))
    submit(page, "등록")
    assert page.get_by_text("한국 휴대전화 번호를 입력하세요").first.is_visible()
    assert not Participant.objects.exists()

    page.get_by_label(re.compile("^휴대전화")).fill("010-3456-7890")
    submit(page, "등록")
    assert "/me/screening/" in page.url
    page.get_by_role("group", name=question.text).get_by_label("아니요").check()
    submit(page, "답변 보내기")

    assert "/me/visit/" in page.url
    page.get_by_label("방문일").select_option(index=1)
    submit(page, "이 날짜로 예약")
    assert page.get_by_test_id("status").inner_text() == "방문 예약"
    assert page.get_by_text("서울대학교병원").first.is_visible()

    participant = Participant.objects.get(user__email="haneul@example.org")
    assert participant.status == ParticipantStatus.ELIGIBLE
    assert Visit.objects.get(participant=participant).status == "booked"
    assert profile_for_participant(participant).phone == "+821034567890"
    assert wait_for_email("haneul@example.org").subject.endswith("방문이 예약되었습니다")


def test_full_day_and_underage_get_plain_messages(page, transactional_db):
    site = SiteFactory(name="부산대학교병원", daily_capacity=1)
    CohortFactory()
    young = UserFactory(email="young@example.org")
    sign_in(page, young.email)
    page.goto("/me/register/")
    page.get_by_label("이름(한글)").fill("박어린")
    page.get_by_label("생년월일").fill("2012-01-01")
    page.locator("input[name=sex][value=male]").check()
    page.get_by_label(re.compile("^휴대전화")).fill("010-5555-1212")
    page.get_by_label("채취 기관").select_option(label=str(site))
    submit(page, "등록")
    submit(page, "답변 보내기")
    assert page.get_by_text("만 19세 이상").is_visible()
    participant = Participant.objects.get(user=young)
    assert participant.status == ParticipantStatus.INELIGIBLE
    assert not Visit.objects.exists()


def test_coordinator_enrolls_a_patient_who_claims_the_invitation(
    page, new_page, staff_user_with_totp
):
    site = SiteFactory(name="충남대학교병원")
    CohortFactory(code="rare", name="희귀질환", group="rare_disease", open_for_volunteers=False)
    coordinator = staff_user_with_totp(Role.COORDINATOR, sites=[site])
    sign_in(page, coordinator.email)
    page.goto("/sites/enroll/")
    page.get_by_label("코호트").select_option(label="희귀질환")
    page.get_by_label("기관 참조번호").fill("H-2026-0042")
    page.get_by_label("의뢰 의사").fill("이정민")
    page.get_by_label("이름(한글)").fill("최유나")
    page.get_by_label("생년월일").fill("1979-10-09")
    page.locator("input[name=sex][value=female]").check()
    page.get_by_label(re.compile("^휴대전화")).fill("010-7000-4242")
    page.get_by_label(re.compile("^이메일 주소")).fill("yuna@example.org")
    submit(page, "등록")
    participant = Participant.objects.get(external_ref="H-2026-0042")
    assert participant.code in page.url
    assert page.get_by_text("최유나").is_visible()

    submit(page, "초대 코드 발급")
    code = page.get_by_test_id("invitation-code").inner_text().strip()
    assert len(code) == 14
    assert code in wait_for_email("yuna@example.org").body

    patient_page = new_page()
    patient = UserFactory(email="yuna.online@example.org")
    sign_in(patient_page, patient.email)
    patient_page.goto("/me/")
    with patient_page.expect_navigation():
        patient_page.get_by_role("link", name="병원에서 등록했고 초대 코드가 있습니다").click()
    patient_page.get_by_label("초대 코드").fill(code)
    patient_page.get_by_label("생년월일").fill("1979-10-10")
    submit(patient_page, "내 기록 연결")
    assert patient_page.get_by_text("일치하지 않습니다").is_visible()
    patient_page.get_by_label("생년월일").fill("1979-10-09")
    submit(patient_page, "내 기록 연결")
    assert patient_page.get_by_text(participant.code).first.is_visible()
    participant.refresh_from_db()
    assert participant.user == User.objects.get(email="yuna.online@example.org")


def test_coordinator_uploads_referrals_and_sees_bad_rows_by_line(
    page, staff_user_with_totp, tmp_path
):
    site = SiteFactory(name="서울아산병원")
    CohortFactory(code="severe", name="중증질환", group="severe_disease", open_for_volunteers=False)
    coordinator = staff_user_with_totp(Role.COORDINATOR, sites=[site])
    path = tmp_path / "referrals.csv"
    path.write_bytes(
        (
            "external_ref,cohort,name,birth_date,sex,phone\n"
            "S-1,severe,한지우,1961-02-03,남,010-3100-0001\n"
            "S-2,severe,오세린,1961-02-30,여,010-3100-0002\n"
            "S-3,nosuch,문다온,1970-01-01,여,010-31\n"
        ).encode("cp949")
    )
    sign_in(page, coordinator.email)
    page.goto("/sites/import/")
    page.get_by_label("의뢰 명단 파일(CSV)").set_input_files(str(path))
    submit(page, "가져오기")
    # All or nothing: bad rows mean no row is imported, and the page says so plainly.
    assert page.get_by_text("아무것도 가져오지 않았습니다").is_visible()
    assert page.get_by_text("환자 0명 등록").is_visible()
    rows = page.locator("table tbody tr")
    assert rows.count() == 3
    assert rows.nth(0).inner_text().split("\t")[:2] == ["3", "birth_date"]
    assert Participant.objects.filter(site=site).count() == 0
