"""Data steward pages: delivery status and lag, dead letters with a retry; /healthz's outbox age."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from dam.models import OutboxMessage, OutboxState
from portal.models import AuditEvent
from portal.roles import Role
from tests.dam.builders import subjects_with_messages
from tests.enrollment.funnel_helpers import sign_in
from tests.factories import staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def steward(client):
    return sign_in(client, staff_user(Role.DATA_STEWARD, mfa=True))


def _dead_letter():
    ids = subjects_with_messages(1, per_subject=2)
    OutboxMessage.objects.filter(id=ids[0]).update(
        state=OutboxState.DEAD, error_code="invalid", last_error="personal data at .payload.x"
    )
    return OutboxMessage.objects.get(id=ids[0])


def test_delivery_status_shows_lag_and_counts(client, steward, django_assert_max_num_queries):
    subjects_with_messages(3, per_subject=2)
    OutboxMessage.objects.update(created_at=timezone.now() - dt.timedelta(seconds=120))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("dam:delivery_status"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Due now: 6." in text
    assert "subject.registered" in text and "consent.updated" in text
    assert "seconds" in text


def test_dead_letters_list_with_reason_and_retry_is_audited(client, steward):
    dead = _dead_letter()
    response = client.get(reverse("dam:dead_letters"))
    assert response.status_code == 200
    assert "personal data at .payload.x" in response.content.decode()
    response = client.post(
        reverse("dam:dead_letter_retry", args=[dead.pk]), {"reason": "payload fixed"}
    )
    assert response.status_code == 302
    dead.refresh_from_db()
    assert dead.state == OutboxState.PENDING
    event = AuditEvent.objects.get(action="dam.dead_letter_retried")
    assert event.actor == steward and event.reason == "payload fixed"
    assert event.object_id == str(dead.pk)


def test_retry_of_something_not_dead_is_a_404(client, steward):
    ids = subjects_with_messages(1, per_subject=1)
    response = client.post(reverse("dam:dead_letter_retry", args=[ids[0]]))
    assert response.status_code == 404


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.PROGRAMME_MANAGER, Role.ETHICS_REVIEWER])
def test_other_roles_do_not_see_the_steward_pages(client, role):
    sign_in(client, staff_user(role, mfa=True))
    assert client.get(reverse("dam:delivery_status")).status_code == 404
    assert client.get(reverse("dam:dead_letters")).status_code == 404


def test_healthz_turns_unhealthy_when_a_message_waits_too_long(client, settings):
    settings.DAM_OUTBOX_MAX_AGE_SECONDS = 60
    ids = subjects_with_messages(1, per_subject=1)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["dam_outbox"] == "ok"
    OutboxMessage.objects.filter(id=ids[0]).update(
        created_at=timezone.now() - dt.timedelta(seconds=61)
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["dam_outbox"] == "unhealthy"
    assert body["details"]["dam_outbox"]["oldest_undelivered_seconds"] >= 61
