"""Delivery to the strict loopback dam: batches, answers, ordering, dead letters, the command."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dam.models import OutboxMessage, OutboxState
from dam.services.delivery import outbox_deliver, outbox_deliver_batch
from dam.services.outbox import outbox_retry
from dam.transports import HttpTransport, TransportError, transport_from_settings
from enrollment.models import ParticipantStatus
from enrollment.services.funnel import participant_transition
from portal.models import AuditEvent
from portal.roles import Role
from tests.consent.signing_builders import eligible_participant, sign_all_yes
from tests.dam.builders import sharing_optional_version, subjects_with_messages
from tests.factories import staff_user

pytestmark = pytest.mark.django_db


def test_consent_messages_are_accepted_by_the_strict_dam(dam_receiver):
    version = sharing_optional_version()
    participants = [eligible_participant() for _ in range(3)]
    for participant in participants:
        sign_all_yes(participant, version)
    report = outbox_deliver()
    assert report.error is None and report.counts["accepted"] == 6
    ids = {str(i) for i in OutboxMessage.objects.values_list("id", flat=True)}
    dam_receiver.assert_exactly_once_in_order(ids)
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {OutboxState.DELIVERED}
    assert set(OutboxMessage.objects.values_list("dam_status", flat=True)) == {"accepted"}


def test_batches_hold_at_most_the_configured_number_and_keep_each_subject_in_order(
    dam_receiver, settings
):
    settings.DAM_BATCH_MAX_MESSAGES = 7
    ids = subjects_with_messages(10, per_subject=3)
    report = outbox_deliver()
    assert report.error is None and report.sent == 30 and report.batches >= 5
    for body in dam_receiver.bodies:
        assert len(json.loads(body)["messages"]) <= 7
    dam_receiver.assert_exactly_once_in_order(set(ids))


def test_byte_limit_cuts_batches(dam_receiver, settings):
    settings.DAM_BATCH_MAX_BYTES = 4000
    ids = subjects_with_messages(6, per_subject=3)
    outbox_deliver()
    assert all(len(body) <= 4000 for body in dam_receiver.bodies)
    assert len(dam_receiver.bodies) >= 3
    dam_receiver.assert_exactly_once_in_order(set(ids))


def test_a_resent_message_counts_as_delivered(dam_receiver):
    ids = subjects_with_messages(2, per_subject=2)
    outbox_deliver()
    OutboxMessage.objects.update(state=OutboxState.PENDING, delivered_at=None)
    report = outbox_deliver()
    assert report.counts["duplicate"] == 4
    assert set(OutboxMessage.objects.values_list("dam_status", flat=True)) == {"duplicate"}
    dam_receiver.assert_exactly_once_in_order(set(ids))


def test_invalid_and_withdrawn_become_dead_letters_holding_back_later_messages(dam_receiver):
    ids = subjects_with_messages(2, per_subject=3)
    first = OutboxMessage.objects.get(id=ids[1])  # the first subject's consent update
    dam_receiver.reject(ids[1], error="invalid", detail="bad DUO term")
    report = outbox_deliver()
    assert report.counts["dead"] == 1
    first.refresh_from_db()
    assert (first.state, first.error_code, first.last_error) == ("dead", "invalid", "bad DUO term")
    # Sent behind it in the same batch, the next one was refused as a gap and now waits.
    held = OutboxMessage.objects.get(id=ids[2])
    assert (held.state, held.error_code) == ("pending", "sequence_gap")
    assert outbox_deliver(ignore_schedule=True).sent == 0
    # The other subject went through.
    assert OutboxMessage.objects.filter(id__in=ids[3:], state="delivered").count() == 3

    # Once the cause is fixed, a steward sends it again: it and the held one go, in order.
    steward = staff_user(Role.DATA_STEWARD)
    dam_receiver.rejections.clear()
    outbox_retry(message=first, by=steward, reason="DUO term corrected")
    outbox_deliver()
    dam_receiver.assert_exactly_once_in_order(set(ids))
    assert AuditEvent.objects.filter(action="dam.dead_letter_retried", actor=steward).count() == 1


def test_unreachable_dam_leaves_everything_pending_with_a_back_off(dam_receiver):
    ids = subjects_with_messages(2, per_subject=2)
    dam_receiver.fail(status=503, retry_after="30")
    report = outbox_deliver()
    assert report.error is not None and report.error.code == "http_503"
    assert report.error.retry_after == 30
    rows = OutboxMessage.objects.filter(id__in=ids)
    assert {r.state for r in rows} == {"pending"}
    assert {r.attempts for r in rows} == {1}
    # Retry-After honoured: nothing due before 30 seconds.
    again = outbox_deliver_batch(transport=transport_from_settings())
    assert again.claimed == 0


def test_the_signature_is_checked_by_the_dam(dam_receiver, settings):
    settings.DAM_SECRET = "not-the-shared-secret"
    subjects_with_messages(1, per_subject=1)
    report = outbox_deliver()
    assert report.error is not None and report.error.code == "http_401"


def test_a_clock_off_by_more_than_five_minutes_is_refused(dam_receiver):
    dam_receiver.clock_offset = 301
    subjects_with_messages(1, per_subject=1)
    assert outbox_deliver().error.code == "http_401"
    dam_receiver.clock_offset = 250
    assert outbox_deliver(ignore_schedule=True).error is None


def test_read_back_of_subjects_and_manifests(dam_receiver):
    ids = subjects_with_messages(1, per_subject=2)
    outbox_deliver()
    subject = OutboxMessage.objects.get(id=ids[0]).subject
    transport = transport_from_settings()
    assert transport.subject_read(subject) == {
        "subject": subject,
        "sequence": 2,
        "status": "active",
        "samples": [],
    }
    assert transport.subject_read("ZZZZZZZZZZ") is None
    assert transport.manifest_read("M-404") is None


def test_connection_refused_is_a_transport_error():
    transport = HttpTransport(url="http://127.0.0.1:9", key_id="k", secret="s", timeout=1)
    with pytest.raises(TransportError) as raised:
        transport.send_batch({"batch_id": "x", "sent_at": "x", "messages": []})
    assert raised.value.code == "unreachable"


def test_dam_deliver_prints_what_it_sent_and_what_is_left(dam_receiver, capsys):
    subjects_with_messages(2, per_subject=2)
    call_command("dam_deliver")
    out = capsys.readouterr().out
    assert "sent 4 message(s)" in out and "4 accepted" in out
    assert "left: 0 pending and due, 0 pending after a back-off, 0 dead letter(s)" in out


def test_dam_deliver_fails_when_the_dam_cannot_be_reached(dam_receiver, settings, capsys):
    subjects_with_messages(1, per_subject=1)
    settings.DAM_URL = "http://127.0.0.1:9"
    with pytest.raises(CommandError) as raised:
        call_command("dam_deliver")
    assert raised.value.returncode == 1
    assert "1 pending after a back-off" in capsys.readouterr().out


def test_accepted_subject_with_a_sample_moves_to_in_the_dam(dam_receiver):
    version = sharing_optional_version()
    participant = eligible_participant()
    sign_all_yes(participant, version)
    participant.refresh_from_db()
    participant_transition(
        participant=participant, to_status=ParticipantStatus.SAMPLE_COLLECTED, actor=None
    )
    outbox_deliver()
    participant.refresh_from_db()
    assert participant.status == ParticipantStatus.IN_DAM


def test_directory_transport_writes_one_file_per_batch(settings, tmp_path):
    settings.DAM_TRANSPORT = "directory"
    settings.DAM_DIRECTORY = tmp_path / "drop"
    ids = subjects_with_messages(3, per_subject=2)
    report = outbox_deliver()
    assert report.counts["accepted"] == 6
    files = list((tmp_path / "drop").iterdir())
    assert len(files) == 1 and files[0].suffix == ".json"
    batch = json.loads(files[0].read_bytes())
    assert {m["id"] for m in batch["messages"]} == set(ids)
    with pytest.raises(TransportError, match="cannot read anything back"):
        transport_from_settings().subject_read("X")


def test_held_back_messages_never_fill_the_claim(dam_receiver, settings):
    """Later messages that sort before their subject's earlier one (an older next attempt) are
    left out of the claim instead of filling it: delivery goes on, in order."""
    import datetime as dt

    from django.utils import timezone

    settings.DAM_BATCH_MAX_MESSAGES = 2
    ids = subjects_with_messages(3, per_subject=2)
    now = timezone.now()
    OutboxMessage.objects.filter(sequence=2).update(next_attempt_at=now - dt.timedelta(minutes=5))
    OutboxMessage.objects.filter(sequence=1).update(next_attempt_at=now - dt.timedelta(minutes=1))
    report = outbox_deliver()
    assert report.error is None and report.sent == 6
    dam_receiver.assert_exactly_once_in_order(set(ids))
    assert dam_receiver.statuses() == {"accepted": 6}


@pytest.mark.django_db(transaction=True)
def test_several_senders_deliver_every_message_once_and_in_order(
    dam_receiver, settings, monkeypatch
):
    # Committed rows (the senders' own connections must see them), delivered only by this run.
    monkeypatch.setattr("dam.tasks.delivery_request", lambda **kwargs: None)
    # Batches of 7 split subjects of 3 messages across batches that two senders claim at once.
    settings.DAM_BATCH_MAX_MESSAGES = 7
    ids = subjects_with_messages(30, per_subject=3)
    report = outbox_deliver(senders=2)
    assert report.error is None and report.sent > 0
    # A sender that finds only messages waiting behind the other's stops; the run then leaves
    # nothing due for the next one to find.
    while OutboxMessage.objects.filter(state=OutboxState.PENDING).exists():
        assert outbox_deliver(senders=2).sent > 0
    dam_receiver.assert_exactly_once_in_order(set(ids))
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {OutboxState.DELIVERED}


@pytest.mark.django_db(transaction=True)
def test_a_sender_that_cannot_reach_the_dam_stops_the_run(dam_receiver, monkeypatch):
    monkeypatch.setattr("dam.tasks.delivery_request", lambda **kwargs: None)
    subjects_with_messages(5, per_subject=2)
    dam_receiver.stop()
    report = outbox_deliver(senders=2)
    assert report.error is not None and report.error.code == "unreachable"
    assert report.counts["accepted"] == 0
    assert not OutboxMessage.objects.filter(state=OutboxState.DELIVERED).exists()
