"""The signing page takes the participant's lock with its first read of a sent form.

What the page checks (already signed? withdrawn? eligible yet?) and what the signing service
records then come from one locked read, so two forms sent at once by the same person are decided
one after the other: the first is recorded, the second finds the consent already signed.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from consent import ledger
from consent.models import ConsentEvent, ConsentState
from consent.services import consent_record
from tests.consent import signing_builders as ca
from tests.consent.signing_builders import reauthenticate, sign_data
from tests.factories import UserFactory


def _signed_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    reauthenticate(client)  # the password proof that the form's password is checked against
    return client


@pytest.mark.django_db(transaction=True)
def test_two_signing_forms_sent_at_once_record_one_consent():
    version = ca.active_version()
    user = UserFactory(email="haneul@example.org")
    participant = ca.eligible_participant(email="haneul@example.org")
    participant.user = user
    participant.save(update_fields=["user"])
    clients = [_signed_in_client(user) for _ in range(2)]
    data = sign_data(version)
    barrier = threading.Barrier(len(clients))
    responses = []
    errors: list[BaseException] = []

    def send(client: Client) -> None:
        try:
            barrier.wait(timeout=10)
            responses.append(client.post(reverse("consent:sign"), data))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(r.status_code for r in responses) == [302, 302]
    assert ConsentEvent.objects.filter(participant=participant).count() == 1
    assert ConsentState.objects.get(participant=participant).event_count == 1
    assert ledger.ledger_verify().ok
    told: list[str] = []
    for client in clients:
        page = client.get(reverse("consent:mine"))
        told.extend(str(m) for m in page.context["messages"])
    assert any("Thank you" in m or "감사" in m for m in told), told
    assert any("already signed" in m or "이미" in m for m in told), told


@pytest.mark.django_db
def test_the_sent_form_is_read_under_the_lock_and_not_read_again(client, signed_in_participant):
    version = ca.active_version()
    reauthenticate(client)
    with CaptureQueriesContext(connection) as captured:
        response = client.post(reverse("consent:sign"), sign_data(version))
    assert response.status_code == 302
    statements = [q["sql"] for q in captured.captured_queries]
    participant_reads = [
        i
        for i, sql in enumerate(statements)
        if sql.startswith("SELECT") and 'FROM "enrollment_participant"' in sql
    ]
    assert len(participant_reads) == 1, participant_reads
    lock = participant_reads[0]
    assert "FOR UPDATE" in statements[lock]
    # The state is read once, in a statement of its own after the lock (a state joined into the
    # locking statement would be the one from before a wait for the lock).
    assert '"consent_consentstate"' not in statements[lock]
    state_reads = [
        i for i, sql in enumerate(statements) if sql.startswith('SELECT "consent_consentstate"')
    ]
    assert len(state_reads) == 1 and state_reads[0] > lock, state_reads


@pytest.mark.django_db(transaction=True)
def test_the_service_refuses_a_lock_claimed_outside_a_transaction():
    version = ca.active_version()
    participant = ca.eligible_participant()
    with pytest.raises(RuntimeError, match="already_locked"):
        consent_record(
            participant=participant,
            version=version,
            choices=ca.all_yes(version),
            signature=ca.typed(),
            by=None,
            answers=ca.right_answers(version),
            already_locked=True,
        )
    assert not ConsentEvent.objects.filter(participant=participant).exists()
