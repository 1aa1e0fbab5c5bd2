"""Consent in the browser: a volunteer signs in Korean, downloads the receipt, changes an item and
withdraws; a coordinator records an in-person consent with countersignature and a second
coordinator fails its quality check."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import Page

from consent.models import ConsentEvent, ConsentState
from portal.roles import Role, grant_role
from tests.browser.helpers import sign_in
from tests.consent import signing_builders as ca
from tests.factories import DEFAULT_PASSWORD, SiteFactory, UserFactory

pytestmark = pytest.mark.browser

YES = "예, 동의합니다"
NO = "아니요, 동의하지 않습니다"


def draw(page: Page, canvas_index: int = 0) -> None:
    canvas = page.locator("canvas").nth(canvas_index)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 20, box["y"] + 100)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 25, box["y"] + 100 - (step % 3) * 25)
    page.mouse.up()


def answer_items(page: Page, version, overrides: dict[str, str] | None = None) -> None:
    for code in ca.all_yes(version):
        label = (overrides or {}).get(code, YES)
        page.locator(f"#fieldset-item_{code}").get_by_label(label).check()


def answer_questions(page: Page, version) -> None:
    for question in version.questions.all():
        page.get_by_role("group", name=question.text).get_by_label(
            question.choices[question.correct_choice]
        ).check()


def reauthenticate_if_asked(page: Page) -> None:
    if "/accounts/reauthenticate/" in page.url:
        page.locator("input[name=password]").fill(DEFAULT_PASSWORD)
        with page.expect_navigation():
            page.locator("input[name=password]").press("Enter")


def test_volunteer_signs_downloads_changes_and_withdraws(page: Page, transactional_db, tmp_path):
    version = ca.active_version()
    user = UserFactory(email="haneul@example.org")
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    grant_role(user, Role.PARTICIPANT)
    participant = ca.eligible_participant(email="haneul@example.org")
    participant.user = user
    participant.save(update_fields=["user"])

    sign_in(page, user.email)
    page.get_by_role("link", name="나의 동의").first.click()
    page.get_by_role("link", name="동의서를 읽고 서명하기").click()
    assert "백만 명" in page.locator(".consent-body").inner_text()

    # A required item answered "no" is explained plainly and nothing is recorded.
    answer_items(page, version, {"sample_storage": NO})
    answer_questions(page, version)
    page.get_by_label("등록하신 성명(전체)").fill(ca.NAME)
    page.get_by_label("동의서를 읽었고").check()
    page.get_by_label("비밀번호", exact=True).fill(DEFAULT_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="동의서에 서명").click()
    assert "참여하지 않으셔도 됩니다" in page.locator("#fieldset-item_sample_storage").inner_text()
    assert not ConsentEvent.objects.exists()

    # The other answers are still there; the password is asked again.
    page.locator("#fieldset-item_sample_storage").get_by_label(YES).check()
    assert page.get_by_label("등록하신 성명(전체)").input_value() == ca.NAME
    draw(page)
    page.get_by_label("비밀번호", exact=True).fill(DEFAULT_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="동의서에 서명").click()
    assert "/consent/" in page.url
    assert "동의가 기록되었습니다" in page.locator(".messages").inner_text()
    event = ConsentEvent.objects.get(participant=participant)
    assert event.method == "drawn" and event.signature_sha256

    with page.expect_download() as download_info:
        page.get_by_role("link", name=f"PDF 내려받기 {event.verification_code}").click()
    target = Path(tmp_path) / "receipt.pdf"
    download_info.value.save_as(target)
    reader = pypdf.PdfReader(io.BytesIO(target.read_bytes()))
    text = "".join("".join(p.extract_text().split()) for p in reader.pages)
    assert ca.NAME in text and event.hash in text and version.text_sha256 in text

    page.get_by_role("link", name="내 선택 변경").click()
    page.locator("#fieldset-item_genomic_analysis").get_by_label(NO).check()
    page.get_by_label("지금부터 이 선택이 적용되기를 원합니다.").check()
    with page.expect_navigation():
        page.get_by_role("button", name="선택 저장").click()
    reauthenticate_if_asked(page)
    assert "선택이 변경되었습니다" in page.locator(".messages").inner_text()
    state = ConsentState.objects.get(participant=participant)
    assert state.choices["genomic_analysis"] is False

    page.get_by_role("link", name="사업 참여 철회").click()
    assert "회수할 수 없습니다" in page.locator("main").inner_text()
    page.get_by_label("추가 연락 중단").check()
    page.get_by_label("철회 시 처리 내용을 읽었으며 철회를 원합니다.").check()
    with page.expect_navigation():
        page.get_by_role("button", name="철회 확인").click()
    reauthenticate_if_asked(page)
    assert "철회가 기록되었습니다" in page.locator(".messages").inner_text()
    state.refresh_from_db()
    participant.refresh_from_db()
    assert (state.status, state.withdrawal_level) == ("withdrawn", "no_further_contact")
    # No further contact: they stay enrolled and what they gave stays in use.
    assert participant.status == "consented"
    assert ConsentEvent.objects.filter(participant=participant).count() == 3


def test_coordinator_records_in_person_consent_and_a_colleague_fails_its_check(
    page: Page, new_page, staff_user_with_totp
):
    version = ca.active_version()
    site = SiteFactory()
    first = staff_user_with_totp(Role.COORDINATOR, sites=[site])
    second = staff_user_with_totp(Role.COORDINATOR, sites=[site])
    participant = ca.eligible_participant(site=site)

    sign_in(page, first.email)
    page.goto(f"/site/consent/participants/{participant.code}/")
    page.get_by_role("link", name="참여자가 이 태블릿에 서명").click()
    # The name check before the patient holds the tablet.
    assert ca.NAME in page.get_by_test_id("patient-name").inner_text()
    page.get_by_role("button", name=f"성명 일치({ca.NAME}): 태블릿 건네기").click()
    answer_items(page, version)
    answer_questions(page, version)
    page.get_by_label("서명자가 입력한 성명").fill(ca.NAME)
    draw(page, 0)
    page.get_by_label("서명자는 동의서를 읽었거나").check()
    page.get_by_label("연대 서명하는 연구자").select_option(str(first.pk))
    draw(page, 1)
    page.get_by_label("연구자로서 연구를 설명하였으며").check()
    with page.expect_navigation():
        page.get_by_role("button", name="동의 기록").click()
    assert "다른 직원이 점검해야 합니다" in page.locator(".messages").inner_text()
    # The tablet comes back to the coordinator only with their password.
    page.get_by_label("비밀번호 또는 인증 앱의 코드").fill(DEFAULT_PASSWORD)
    page.get_by_role("button", name="태블릿 돌려받기").click()
    page.wait_for_url(f"**/site/consent/participants/{participant.code}/")
    event = ConsentEvent.objects.get(participant=participant)
    assert (event.channel, event.countersigned_by_id) == ("site_tablet", first.pk)
    assert event.countersignature_sha256 and event.signature_sha256

    colleague = new_page()
    sign_in(colleague, second.email)
    colleague.goto("/site/consent/")
    colleague.get_by_role("link", name=f"점검 {participant.code}").click()
    colleague.get_by_label("서명이 있음").check()
    colleague.get_by_label("서명 날짜가 있고 타당함").check()
    colleague.get_by_label("참여자의 언어와 나이에 맞는 버전임").check()
    colleague.get_by_label("메모(통과하지 못한 항목이 있으면 필수)").fill("성명 기재 누락")
    with colleague.expect_navigation():
        colleague.get_by_role("button", name="점검 결과 기록").click()
    assert "무효 처리되었고" in colleague.locator(".messages").inner_text()
    assert participant.code in colleague.locator("main").inner_text()

    state = ConsentState.objects.get(participant=participant)
    participant.refresh_from_db()
    assert state.status == "voided" and participant.status == "eligible"
    void = ConsentEvent.objects.get(participant=participant, kind="void")
    assert void.voids_id == event.pk and void.staff_id == second.pk


def test_coordinator_records_a_tablet_consent_with_an_impartial_witness(
    page: Page, new_page, staff_user_with_totp
):
    version = ca.active_version()
    site = SiteFactory()
    first = staff_user_with_totp(Role.COORDINATOR, sites=[site])
    second = staff_user_with_totp(Role.COORDINATOR, sites=[site])
    participant = ca.eligible_participant(site=site)

    sign_in(page, first.email)
    page.goto(f"/site/consent/participants/{participant.code}/")
    page.get_by_role("link", name="참여자가 이 태블릿에 서명").click()
    page.get_by_role("button", name=f"성명 일치({ca.NAME}): 태블릿 건네기").click()
    answer_items(page, version)
    answer_questions(page, version)
    page.get_by_label("서명자가 입력한 성명").fill(ca.NAME)
    draw(page, 0)
    page.get_by_label("서명자는 동의서를 읽었거나").check()
    page.get_by_label("연대 서명하는 연구자").select_option(str(first.pk))
    draw(page, 1)
    page.get_by_label("연구자로서 연구를 설명하였으며").check()
    page.get_by_label("공정한 입회인이 참석함").check()
    page.get_by_label("공정한 입회인의 성명").fill("박증인")
    draw(page, 2)
    # The witness's pad has its own clear button; clearing it leaves the other signatures alone.
    page.get_by_role("button", name="입회인 서명 지우기").click()
    page.get_by_label("공정한 입회인으로서").check()
    with page.expect_navigation():
        page.get_by_role("button", name="동의 기록").click()
    assert "입회인 서명란에 서명해야 합니다" in page.locator("main").inner_text()
    assert not ConsentEvent.objects.filter(participant=participant).exists()

    # The page comes back with the text fields kept; the drawings are made again.
    draw(page, 0)
    draw(page, 1)
    draw(page, 2)
    for label in (
        "서명자는 동의서를 읽었거나",
        "연구자로서 연구를 설명하였으며",
        "공정한 입회인으로서",
    ):
        page.get_by_label(label).check()
    answer_questions(page, version)
    with page.expect_navigation():
        page.get_by_role("button", name="동의 기록").click()
    assert "다른 직원이 점검해야 합니다" in page.locator(".messages").inner_text()
    event = ConsentEvent.objects.get(participant=participant)
    assert event.has_witness and event.witness_signature_sha256
    assert event.signature_sha256 and event.countersignature_sha256

    colleague = new_page()
    sign_in(colleague, second.email)
    colleague.goto(f"/site/consent/events/{event.pk}/check/")
    facts = colleague.locator("table.facts").inner_text()
    assert "공정한 입회인" in facts and "박증인" in facts
