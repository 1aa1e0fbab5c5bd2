"""Recorded ledger verification runs: started by an ethics reviewer, run after the commit, and a
tampered event named on the page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from consent.models import ConsentEvent, LedgerVerification
from consent.services.verification import ledger_verification_nightly
from portal.roles import Role
from tests.audits import assert_access_denied
from tests.consent import signing_builders as ca
from tests.factories import staff_user

pytestmark = pytest.mark.django_db


def _signed():
    version = ca.active_version()
    participant = ca.eligible_participant()
    ca.sign_all_yes(participant, version)
    return participant


def test_a_reviewer_starts_a_verification_and_sees_its_result(
    client, django_capture_on_commit_callbacks
):
    _signed()
    reviewer = staff_user(Role.ETHICS_REVIEWER, mfa=True, all_sites=True)
    client.force_login(reviewer)
    url = reverse("consent:ledger_verifications")
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).status_code == 302
    run = LedgerVerification.objects.get()
    assert run.ok and (run.events, run.chains, run.requested_by_id) == (1, 1, reviewer.pk)
    assert "모든 체인 정상" in client.get(url).content.decode()


def test_the_nightly_run_names_a_tampered_event(client):
    participant = _signed()
    event = ConsentEvent.objects.get(participant=participant)
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "UPDATE consent_consentevent SET choices = jsonb_set(choices, '{recontact}', 'false')"
            " WHERE id = %s",
            [event.pk],
        )
        cursor.execute("SET session_replication_role = DEFAULT")
    run = ledger_verification_nightly()
    assert run is not None
    assert run.broken_chains == 1
    assert run.findings[0]["event"] == event.pk
    assert run.findings[0]["participant"] == participant.code
    client.force_login(staff_user(Role.ADMIN, mfa=True))
    page = client.get(reverse("consent:ledger_verifications")).content.decode()
    assert participant.code in page


def test_a_coordinator_cannot_open_the_verification_page(client):
    coordinator = staff_user(Role.COORDINATOR, mfa=True)
    client.force_login(coordinator)
    assert client.get(reverse("consent:ledger_verifications")).status_code == 404
    assert_access_denied(
        actor=coordinator, object_type="view", object_id="ledger_verifications", reason="role"
    )


def test_a_receipt_is_checked_by_its_verification_code(client):
    participant = _signed()
    event = ConsentEvent.objects.get(participant=participant)
    client.force_login(staff_user(Role.ETHICS_REVIEWER, mfa=True, all_sites=True))
    url = reverse("consent:ledger_verifications")
    page = client.get(url, {"code": event.verification_code.lower()}).content.decode()
    assert event.hash in page and participant.code in page
    assert "참여자의 체인이 정상입니다" in page
    assert "broken" not in page and "끊어" not in page
    missing = client.get(url, {"code": "00000-00000"}).content.decode()
    assert event.hash not in missing


def test_one_nightly_verification_per_night_however_often_the_task_arrives():
    _signed()
    assert ledger_verification_nightly() is not None
    assert ledger_verification_nightly() is None  # a second beat or a redelivered task
    assert LedgerVerification.objects.count() == 1
