""" "My participation" shows each step with its state and links the next one: book, sign, see
the receipt (the consent steps come from the consent app through enrollment's journey hook)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from consent.models import ConsentEvent
from consent.services import consent_withdraw
from enrollment.services import visit_book
from tests.consent.signing_builders import sign_data
from tests.enrollment.people import open_day

pytestmark = pytest.mark.django_db


def _steps(client) -> str:
    page = client.get(reverse("enrollment:me")).content.decode()
    return page[page.index('class="steps journey"') : page.index("</ol>")]


def test_an_eligible_volunteer_is_offered_booking_and_signing(client, signed_in_participant):
    steps = _steps(client)
    assert "확인됨: 참여할 수 있습니다" in steps
    assert f'href="{reverse("enrollment:me_visit")}">방문 예약' in steps
    assert f'href="{reverse("consent:sign")}">동의서를 읽고 서명하기' in steps
    assert "서명한 뒤에" in steps


def test_after_booking_and_signing_the_receipt_is_linked(client, version, signed_in_participant):
    visit_book(
        participant=signed_in_participant,
        site=signed_in_participant.site,
        day=open_day(2),
        by=signed_in_participant.user,
    )
    client.post(reverse("consent:sign"), sign_data(version))
    event = ConsentEvent.objects.get(participant=signed_in_participant)
    steps = _steps(client)
    assert "방문 예약됨" in steps and signed_in_participant.site.name in steps
    assert "서명함" in steps
    assert reverse("consent:sign") not in steps
    assert f'href="{reverse("consent:receipt", args=[event.pk])}">확인서 보기' in steps


def test_a_partial_withdrawal_names_its_level_and_offers_to_sign_again(
    client, version, signed_in_participant
):
    client.post(reverse("consent:sign"), sign_data(version))
    consent_withdraw(
        participant=signed_in_participant,
        level="no_further_collection",
        by=signed_in_participant.user,
        confirmed=True,
    )
    steps = _steps(client)
    assert "일부 철회: 추가 수집 중단" in steps
    assert "방문 없음: 추가 수집을 중단하셨습니다" in steps
    assert reverse("enrollment:me_visit") not in steps
    assert f'href="{reverse("consent:sign")}">다시 서명하여 참여하기' in steps
