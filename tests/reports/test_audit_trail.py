"""The participant audit trail: consent history and staff accesses, with the reason audited."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse
from django.utils import translation

from dam.pseudonyms import pseudonym_generate
from dam.services.pseudonyms import pseudonym_of
from enrollment.models import Site
from enrollment.vault import personal_data_read
from portal.models import AuditEvent
from portal.roles import Role
from reports.audit_trail import ACTION_TRAIL_VIEWED
from tests.consent import signing_builders as ca
from tests.factories import SiteFactory, staff_user

pytestmark = pytest.mark.django_db


def _site() -> Site:
    site: Site = SiteFactory()
    return site


def test_a_reviewer_sees_history_and_accesses_and_the_look_is_audited(client):
    site = _site()
    participant = ca.eligible_participant(site=site)
    event = ca.sign_all_yes(participant, ca.active_version())
    coordinator = staff_user(Role.COORDINATOR, sites=[site])
    personal_data_read(participant=participant, by=coordinator, reason="visit")
    reviewer = staff_user(Role.ETHICS_REVIEWER, sites=[site], mfa=True)
    client.force_login(reviewer)
    url = reverse("reports:audit_trail")
    page = client.post(
        url, {"find_by": "code", "code": participant.code, "reason": "민원 조사"}
    ).content.decode()
    assert event.verification_code in page
    assert str(coordinator) in page and "visit" in page
    look = AuditEvent.objects.get(action=ACTION_TRAIL_VIEWED)
    assert (look.actor_id, look.reason, look.object_id) == (
        reviewer.pk,
        "민원 조사",
        str(participant.pk),
    )


def test_no_reason_no_trail(client):
    site = _site()
    participant = ca.eligible_participant(site=site)
    client.force_login(staff_user(Role.ETHICS_REVIEWER, sites=[site], mfa=True))
    response = client.post(
        reverse("reports:audit_trail"), {"find_by": "code", "code": participant.code, "reason": ""}
    )
    assert response.status_code == 200
    assert not AuditEvent.objects.filter(action=ACTION_TRAIL_VIEWED).exists()


def test_a_participant_of_another_site_is_404_and_the_attempt_audited(client):
    participant = ca.eligible_participant(site=_site())
    client.force_login(staff_user(Role.ETHICS_REVIEWER, sites=[_site()], mfa=True))
    response = client.post(
        reverse("reports:audit_trail"), {"find_by": "code", "code": participant.code, "reason": "x"}
    )
    assert response.status_code == 404
    assert AuditEvent.objects.filter(action="access.denied").exists()
    assert not AuditEvent.objects.filter(action=ACTION_TRAIL_VIEWED).exists()


def _mistyped(code: str) -> str:
    """The same pseudonym with one character changed (the check character catches it)."""
    first = "2" if code[0] != "2" else "3"
    return first + code[1:]


def test_a_reviewer_finds_the_trail_by_dam_pseudonym_and_the_look_is_audited(client):
    site = _site()
    participant = ca.eligible_participant(site=site)
    event = ca.sign_all_yes(participant, ca.active_version())
    code = pseudonym_of(participant=participant)
    reviewer = staff_user(Role.ETHICS_REVIEWER, sites=[site], mfa=True)
    client.force_login(reviewer)
    typed = f"{code[:5].lower()}-{code[5:]}"  # as people type it: grouped, any case
    page = client.post(
        reverse("reports:audit_trail"),
        {"find_by": "pseudonym", "code": typed, "reason": "dam query"},
    ).content.decode()
    assert event.verification_code in page
    look = AuditEvent.objects.get(action=ACTION_TRAIL_VIEWED)
    assert (look.actor_id, look.reason, look.object_id) == (
        reviewer.pk,
        "dam query",
        str(participant.pk),
    )
    assert look.details["found_by"] == "pseudonym"


def test_a_mistyped_pseudonym_gets_the_check_character_message(client):
    site = _site()
    participant = ca.eligible_participant(site=site)
    code = pseudonym_of(participant=participant)
    client.force_login(staff_user(Role.ETHICS_REVIEWER, sites=[site], mfa=True))
    response = client.post(
        reverse("reports:audit_trail"),
        {"find_by": "pseudonym", "code": _mistyped(code), "reason": "x"},
    )
    assert response.status_code == 200
    assert response.context["form"].has_error("code", "pseudonym_check")
    with translation.override("ko"):
        message = str(response.context["form"].errors["code"][0])
    assert message and html.escape(message) in response.content.decode()
    assert not AuditEvent.objects.filter(action=ACTION_TRAIL_VIEWED).exists()


def test_a_pseudonym_of_another_site_or_of_no_one_is_the_same_audited_404(client):
    participant = ca.eligible_participant(site=_site())
    code = pseudonym_of(participant=participant)
    client.force_login(staff_user(Role.ETHICS_REVIEWER, sites=[_site()], mfa=True))
    url = reverse("reports:audit_trail")
    other = client.post(url, {"find_by": "pseudonym", "code": code, "reason": "x"})
    unused = pseudonym_generate()
    nobody = client.post(url, {"find_by": "pseudonym", "code": unused, "reason": "x"})
    assert (other.status_code, nobody.status_code) == (404, 404)
    assert AuditEvent.objects.filter(action="access.denied").count() == 2
    assert not AuditEvent.objects.filter(action=ACTION_TRAIL_VIEWED).exists()
