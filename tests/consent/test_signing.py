"""Signing services: who may sign, in-person consent and its quality check, withdrawal on a
participant's behalf, voiding, and the receipt of a legal representative's signature."""

from __future__ import annotations

import io

import pypdf
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from consent.models import ConsentEvent, ConsentQualityCheck, ConsentState
from consent.services import (
    InPerson,
    Signature,
    consent_record,
    consent_void,
    quality_check_record,
    receipt_render,
)
from portal.roles import Role
from tests.consent import signing_builders as ca
from tests.enrollment.people import years_ago
from tests.factories import SiteFactory, staff_user
from tests.pdf_checks import tagged_pdf_facts

# Service messages are asserted in English, their source language.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


@pytest.fixture
def team():
    site = SiteFactory()
    return (
        site,
        staff_user(Role.COORDINATOR, sites=[site], mfa=True),  # type: ignore[list-item]
        staff_user(Role.COORDINATOR, sites=[site], mfa=True),  # type: ignore[list-item]
    )


def _tablet(version, participant, by, signature=None):
    return consent_record(
        participant=participant,
        version=version,
        choices=ca.all_yes(version),
        signature=signature or ca.typed(),
        by=by,
        answers=ca.right_answers(version),
        in_person=InPerson(countersigned_by=by, countersignature_confirmed=True),
    )


def test_a_passed_check_keeps_the_consent(team):
    site, first, second = team
    version = ca.active_version()
    participant = ca.eligible_participant(site=site)
    event = _tablet(version, participant, first)
    check = quality_check_record(
        event=event,
        by=second,
        signature_present=True,
        date_present=True,
        printed_name_present=True,
        right_version=True,
    )
    assert check.passed
    assert ConsentState.objects.get(participant=participant).status == "active"
    assert not ConsentEvent.objects.filter(kind="void").exists()
    with pytest.raises(ValidationError, match="already been checked"):
        quality_check_record(
            event=event,
            by=second,
            signature_present=False,
            date_present=True,
            printed_name_present=True,
            right_version=True,
            note="x",
        )


def test_a_failed_check_needs_a_note_and_a_coordinator_of_another_site_cannot_check(team):
    site, first, second = team
    version = ca.active_version()
    participant = ca.eligible_participant(site=site)
    event = _tablet(version, participant, first)
    with pytest.raises(ValidationError, match="Say what is wrong"):
        quality_check_record(
            event=event,
            by=second,
            signature_present=False,
            date_present=True,
            printed_name_present=True,
            right_version=True,
        )
    outsider = staff_user(Role.COORDINATOR, sites=[SiteFactory()])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="not at one of your sites"):
        quality_check_record(
            event=event,
            by=outsider,
            signature_present=True,
            date_present=True,
            printed_name_present=True,
            right_version=True,
        )
    assert not ConsentQualityCheck.objects.exists()


def test_web_consents_are_not_quality_checked(team):
    _site, _first, second = team
    version = ca.active_version()
    participant = ca.eligible_participant()
    event = ca.sign_all_yes(participant, version)
    with pytest.raises(ValidationError, match="in person"):
        quality_check_record(
            event=event,
            by=second,
            signature_present=True,
            date_present=True,
            printed_name_present=True,
            right_version=True,
        )


def test_voiding_a_reconsent_leaves_the_earlier_consent_in_force(team):
    site, first, second = team
    manager = staff_user(Role.PROGRAMME_MANAGER)
    v1 = ca.active_version(by=manager)
    participant = ca.eligible_participant(site=site)
    grant = consent_record(
        participant=participant,
        version=v1,
        choices=ca.all_yes(v1),
        signature=ca.typed(),
        by=None,
        answers=ca.right_answers(v1),
    )
    items = [*ca.ITEMS, ca.ItemSpec("ehr_linkage", "진료 기록 연계", "연계에 동의합니다.", False)]
    v2 = ca.active_version(label="2.0", items=items, by=manager)
    renewed = _tablet(v2, participant, first)
    assert renewed.kind == "reconsent"
    consent_void(event=renewed, by=second, reason="wrong form")
    state = ConsentState.objects.get(participant=participant)
    assert state.version_id == v1.pk and state.status == "reconsent_due"
    assert state.signed_at == grant.signed_at
    participant.refresh_from_db()
    assert participant.status == "consented"


def test_a_minor_must_be_signed_for_by_a_legal_representative(team):
    site, first, _second = team
    version = ca.active_version()
    participant = ca.eligible_participant(
        site=site,
        guardian_name="김보호",
        guardian_relationship="어머니",
        is_minor=True,
        birth_date=years_ago(15),
    )
    with pytest.raises(ValidationError, match="legal representative"):
        _tablet(version, participant, first)
    event = _tablet(
        version,
        participant,
        first,
        Signature(
            typed_name="김보호",
            confirmed=True,
            signer_kind="legal_representative",
            representative_relation="parent",
        ),
    )
    text = "".join(
        "".join(page.extract_text().split())
        for page in pypdf.PdfReader(io.BytesIO(receipt_render(event))).pages
    )
    assert "김보호" in text and "(부모)" in text and event.hash in text
    facts = tagged_pdf_facts(receipt_render(event))
    assert facts["structure"] and facts["marked"]
    assert facts["lang"] == "ko"
    assert event.verification_code in str(facts["title"])


def test_a_coordinator_records_a_withdrawal_on_the_participants_behalf(client, team):
    site, first, _second = team
    version = ca.active_version()
    participant = ca.eligible_participant(site=site)
    ca.sign_all_yes(participant, version)
    client.force_login(first)
    response = client.post(
        reverse("consent:site_withdraw", args=[participant.code]),
        {
            "signer_kind": "self",
            "reason": "phone",
            "level": "no_further_collection",
            "confirm": "on",
        },
    )
    assert response.status_code == 302
    event = ConsentEvent.objects.get(participant=participant, kind="withdraw")
    assert (event.staff_id, event.channel, event.withdrawal_level) == (
        first.pk,
        "site_tablet",
        "no_further_collection",
    )
    participant.refresh_from_db()
    # "No further collection" keeps them enrolled; only "no further use" leaves the funnel.
    assert participant.status == "consented"


def test_every_event_is_announced_inside_its_transaction():
    from consent.signals import consent_event_recorded

    version = ca.active_version()
    participant = ca.eligible_participant()
    heard = []

    def receiver(sender, event, state, **kwargs):
        from django.db import connection

        heard.append((event.kind, state.status, connection.in_atomic_block))

    consent_event_recorded.connect(receiver)
    try:
        ca.sign_all_yes(participant, version)
    finally:
        consent_event_recorded.disconnect(receiver)
    assert heard == [("grant", "active", True)]
