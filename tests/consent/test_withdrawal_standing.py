"""A partial withdrawal is named by its level and only stops what it stops: the choices that no
longer apply, booked visits cancelled (and the site told) when collection stops, widening the
withdrawal or taking part again; the coordinator reads the same level."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from consent.models import ConsentEvent, ConsentState
from consent.selectors.standing import choices_in_force, stricter_levels
from consent.services import consent_withdraw
from enrollment.audit import Action
from enrollment.services import visit_book
from portal.models import AuditEvent
from portal.roles import Role
from tests.consent import signing_builders as ca
from tests.consent.signing_builders import sign_data
from tests.enrollment.people import open_day
from tests.factories import staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed(client, version, signed_in_participant):
    assert client.post(reverse("consent:sign"), sign_data(version)).status_code == 302
    return signed_in_participant


def _withdraw(participant, level, **extra):
    return consent_withdraw(
        participant=participant, level=level, by=participant.user, confirmed=True, **extra
    )


def test_no_further_contact_is_named_and_only_contact_items_lapse(client, signed):
    _withdraw(signed, "no_further_contact")
    page = client.get(reverse("consent:mine")).content.decode()
    assert "일부 철회: 추가 연락 중단" in page
    assert "전면 철회" not in page
    rows = {row.item.code: row for row in choices_in_force(ConsentState.objects.get())}
    # "재연락" served only contact: it no longer applies; the rest stays granted.
    assert rows["recontact"].lapsed and rows["recontact"].choice
    assert not rows["data_sharing"].lapsed and not rows["genomic_analysis"].lapsed
    assert page.count("더 이상 적용되지 않음") == 1
    # Widening is offered, and taking part again.
    assert "철회 범위 넓히기" in page and "다시 서명하여 참여하기" in page


def test_no_further_use_lists_nothing_as_granted_and_offers_nothing_more(client, signed):
    _withdraw(signed, "no_further_use", samples_fate="destroy")
    page = client.get(reverse("consent:mine")).content.decode()
    assert "전면 철회: 더 이상 사용하지 않음" in page
    rows = choices_in_force(ConsentState.objects.get())
    assert rows and all(row.lapsed for row in rows if row.choice)
    assert "다시 서명하여 참여하기" not in page and "철회 범위 넓히기" not in page
    assert client.get(reverse("consent:withdraw")).status_code == 302


def test_stopping_collection_cancels_the_booked_visit_and_tells_the_sites_coordinators(
    signed, django_capture_on_commit_callbacks
):
    site = signed.site
    coordinator = staff_user(Role.COORDINATOR, sites=[site], preferred_language="ko")
    staff_user(Role.COORDINATOR, sites=[])  # another site's: not told
    visit = visit_book(participant=signed, site=site, day=open_day(3), by=signed.user)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _withdraw(signed, "no_further_collection")
    visit.refresh_from_db()
    assert visit.status == "cancelled"
    assert AuditEvent.objects.filter(action=Action.VISIT_CANCELLED.value).exists()
    to_site = [m for m in mail.outbox if m.to == [coordinator.email]]
    assert len(to_site) == 1
    assert signed.code in to_site[0].subject and signed.code in to_site[0].body
    assert "취소" in to_site[0].body
    # The notice names the participant by code only.
    assert ca.NAME not in to_site[0].body and "haneul@example.org" not in to_site[0].body
    assert {m.to[0] for m in mail.outbox} <= {coordinator.email, "haneul@example.org"}


def test_no_further_contact_keeps_the_booked_visit(signed):
    visit = visit_book(participant=signed, site=signed.site, day=open_day(3), by=signed.user)
    _withdraw(signed, "no_further_contact")
    visit.refresh_from_db()
    assert visit.status == "booked"


def test_a_withdrawal_can_only_be_widened(client, signed):
    _withdraw(signed, "no_further_collection")
    assert stricter_levels(ConsentState.objects.get()) == ["no_further_use"]
    page = client.get(reverse("consent:withdraw")).content.decode()
    assert 'value="no_further_use"' in page and 'value="no_further_contact"' not in page
    refused = client.post(
        reverse("consent:withdraw"), {"level": "no_further_contact", "confirm": "on"}
    )
    assert refused.status_code == 400
    assert ConsentState.objects.get().withdrawal_level == "no_further_collection"


def test_signing_again_lifts_a_partial_withdrawal(client, version, signed):
    _withdraw(signed, "no_further_contact")
    page = client.get(reverse("consent:sign")).content.decode()
    assert "일부 철회: 추가 연락 중단" in page
    response = client.post(reverse("consent:sign"), sign_data(version))
    assert response.status_code == 302
    state = ConsentState.objects.get()
    assert (state.status, state.withdrawal_level) == ("active", "")
    assert ConsentEvent.objects.filter(participant=signed).latest("sequence").kind == "reconsent"


def test_the_coordinator_sees_the_same_level(client, signed):
    _withdraw(signed, "no_further_collection")
    coordinator = staff_user(Role.COORDINATOR, sites=[signed.site], mfa=True)
    client.force_login(coordinator)
    page = client.get(reverse("consent:site_participant", args=[signed.code])).content.decode()
    assert "일부 철회: 추가 수집 중단" in page
    assert "전면 철회" not in page
