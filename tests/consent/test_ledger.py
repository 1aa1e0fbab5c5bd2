"""The consent ledger: hash chain, database time, concurrency, projection rebuild, verification."""

from __future__ import annotations

import itertools
import threading

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction

from consent import ledger
from consent.models import ConsentEvent, ConsentState
from consent.projection import state_rebuild_all
from consent.services import consent_record, consent_update, consent_withdraw
from tests.consent import signing_builders as ca

pytestmark = pytest.mark.django_db


def _stored_values(event: ConsentEvent) -> dict:
    row = ConsentEvent.objects.values(*ledger.HASHED_FIELDS).get(pk=event.pk)
    return row


def test_grant_writes_first_link_of_the_chain_and_the_state():
    version = ca.active_version()
    participant = ca.eligible_participant()
    event = consent_record(
        participant=participant,
        version=version,
        choices=ca.all_yes(version),
        signature=ca.typed(),
        by=participant.user,
        answers=ca.right_answers(version),
    )
    event.refresh_from_db()
    assert (event.sequence, event.prev_hash, event.kind) == (1, "", "grant")
    assert event.version_sha256 == version.text_sha256
    assert event.hash == ledger.event_hash(_stored_values(event))
    assert event.verification_code == ledger.verification_code(event.hash)
    state = ConsentState.objects.get(participant=participant)
    assert state.status == "active"
    assert state.choices == ca.all_yes(version)
    assert set(state.first_granted_at) == set(ca.all_yes(version))
    participant.refresh_from_db()
    assert participant.status == "consented"


def test_recorded_at_is_the_database_clock_and_is_covered_by_the_hash():
    version = ca.active_version()
    participant = ca.eligible_participant()
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        before = cursor.fetchone()[0]
    event = ca.sign_all_yes(participant, version)
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        after = cursor.fetchone()[0]
    stored = ConsentEvent.objects.get(pk=event.pk)
    assert before <= stored.recorded_at <= after
    values = _stored_values(stored)
    assert ledger.event_hash(values) == stored.hash
    values["recorded_at"] = values["recorded_at"].replace(microsecond=0)
    assert ledger.event_hash(values) != stored.hash


def test_each_event_links_to_the_previous_one():
    version = ca.active_version()
    participant = ca.eligible_participant()
    first = ca.sign_all_yes(participant, version)
    second = consent_update(
        participant=participant, choices={"recontact": False}, by=None, confirmed=True
    )
    third = consent_withdraw(
        participant=participant, level="no_further_contact", by=None, confirmed=True
    )
    assert [e.sequence for e in (first, second, third)] == [1, 2, 3]
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert ledger.ledger_verify().ok


def test_events_cannot_be_changed_or_deleted():
    version = ca.active_version()
    participant = ca.eligible_participant()
    event = ca.sign_all_yes(participant, version)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        ConsentEvent.objects.filter(pk=event.pk).update(choices={"data_sharing": False})
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM consent_consentevent WHERE id = %s", [event.pk])


def test_rebuilt_state_equals_the_live_projection():
    version = ca.active_version()
    people = [ca.eligible_participant() for _ in range(4)]
    for p in people:
        consent_record(
            participant=p,
            version=version,
            choices={**ca.all_yes(version), "genomic_analysis": False},
            signature=ca.typed(),
            by=None,
            answers=ca.right_answers(version),
        )
    consent_update(
        participant=people[1], choices={"genomic_analysis": True}, by=None, confirmed=True
    )
    consent_update(participant=people[1], choices={"recontact": False}, by=None, confirmed=True)
    consent_withdraw(
        participant=people[2],
        level="no_further_use",
        samples_fate="destroy",
        by=None,
        confirmed=True,
    )
    fields = [
        "participant_id",
        "version_id",
        "status",
        "choices",
        "first_granted_at",
        "signed_at",
        "withdrawal_level",
        "samples_fate",
        "last_event_id",
        "event_count",
    ]
    live = list(ConsentState.objects.order_by("participant_id").values(*fields))
    # Wreck the projection, then rebuild it from the ledger alone.
    ConsentState.objects.update(status="voided", choices={}, first_granted_at={}, event_count=0)
    assert state_rebuild_all() == 4
    rebuilt = list(ConsentState.objects.order_by("participant_id").values(*fields))
    assert rebuilt == live
    assert (
        live[1]["first_granted_at"]["genomic_analysis"]
        > live[1]["first_granted_at"]["data_sharing"]
    )
    assert live[2]["status"] == "withdrawn"


def test_rebuild_command_reports_what_it_wrote(capsys):
    version = ca.active_version()
    participant = ca.eligible_participant()
    ca.sign_all_yes(participant, version)
    call_command("rebuild_consent_state")
    assert "Rebuilt 1 consent states" in capsys.readouterr().out


def _tamper(event_id: int, sql: str) -> None:
    """Change a stored event as the database superuser, bypassing the append-only triggers."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, [event_id])
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")


def test_verifier_names_exactly_the_event_altered_by_one_byte(capsys):
    version = ca.active_version()
    people = [ca.eligible_participant() for _ in range(3)]
    for p in people:
        ca.sign_all_yes(p, version)
        consent_update(participant=p, choices={"recontact": False}, by=None, confirmed=True)
        consent_update(participant=p, choices={"recontact": True}, by=None, confirmed=True)
    call_command("verify_consent_ledger")
    assert "OK: 9 events in 3 chains" in capsys.readouterr().out

    target = ConsentEvent.objects.get(participant=people[1], sequence=2)
    # One byte: the last hex digit of the stored version hash.
    last = target.version_sha256[-1]
    replacement = "0" if last != "0" else "1"
    _tamper(
        target.pk,
        f"UPDATE consent_consentevent SET version_sha256 = "
        f"substr(version_sha256, 1, 63) || '{replacement}' WHERE id = %s",
    )
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_consent_ledger")
    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    assert f"First broken event: id {target.pk} (participant {people[1].code}, entry 2)" in out
    assert "1 chain(s) broken" in out
    result = ledger.ledger_verify()
    assert [b.event_id for b in result.broken] == [target.pk]


def test_verifier_catches_a_changed_recorded_time():
    version = ca.active_version()
    participant = ca.eligible_participant()
    event = ca.sign_all_yes(participant, version)
    _tamper(
        event.pk,
        "UPDATE consent_consentevent SET recorded_at = recorded_at + interval '1 microsecond' "
        "WHERE id = %s",
    )
    assert ledger.ledger_verify().first_broken.event_id == event.pk


@pytest.mark.django_db(transaction=True)
def test_two_submissions_at_once_make_a_linear_chain():
    version = ca.active_version()
    participant = ca.eligible_participant()
    ca.sign_all_yes(participant, version)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def submit(flag: bool) -> None:
        try:
            barrier.wait(timeout=10)
            consent_update(
                participant=participant,
                choices={"genomic_analysis": flag, "recontact": not flag},
                by=None,
                confirmed=True,
            )
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit, args=(i % 2 == 0,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    # Same choices twice in a row are refused as "nothing changed"; every other one is a link.
    assert all(isinstance(e, ValidationError) for e in errors), errors
    events = list(ConsentEvent.objects.filter(participant=participant).order_by("sequence"))
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert len(events) == 1 + 4 - len(errors)
    for previous, current in itertools.pairwise(events):
        assert current.prev_hash == previous.hash
        assert current.recorded_at >= previous.recorded_at
    assert ledger.ledger_verify().ok
    assert ConsentState.objects.get(participant=participant).last_event_id == events[-1].pk


def test_database_and_python_verification_agree_on_awkward_text():
    # Typed text is what events recorded before the ledger held codes carry (hash format 1).
    version = ca.active_version()
    people = [ca.eligible_participant() for _ in range(3)]
    for p in people:
        ca.sign_all_yes(p, version)
    ca.legacy_event(
        people[0],
        kind="withdraw",
        withdrawal_level="no_further_use",
        samples_fate="destroy",
        reason='따옴표 " 역슬래시 \\ 줄바꿈\n탭\t제어\x01 é 😀 </script>',
        signer_kind="legal_representative",
        representative_relationship="어머니 (母)",
    )
    for in_database in (True, False):
        result = ledger.ledger_verify(in_database=in_database)
        assert result.ok, (in_database, result.broken)
        assert (result.events, result.chains) == (4, 3)
    target = ConsentEvent.objects.get(participant=people[0], kind="withdraw")
    _tamper(target.pk, "UPDATE consent_consentevent SET reason = reason || ' ' WHERE id = %s")
    head = ConsentEvent.objects.get(participant=people[2])
    _tamper(
        head.pk,
        "UPDATE consent_consentevent SET verification_code = 'AAAAA-AAAAA' WHERE id = %s",
    )
    answers = []
    for in_database in (True, False):
        result = ledger.ledger_verify(in_database=in_database)
        answers.append([(b.event_id, b.problem) for b in result.broken])
    assert answers[0] == answers[1]
    assert [event_id for event_id, _problem in answers[0]] == [target.pk, head.pk]
    assert "verification code" in answers[0][1][1]


def test_a_missing_event_is_reported_as_a_gap_in_the_chain():
    version = ca.active_version()
    participant = ca.eligible_participant()
    ca.sign_all_yes(participant, version)
    consent_update(participant=participant, choices={"recontact": False}, by=None, confirmed=True)
    third = consent_update(
        participant=participant, choices={"recontact": True}, by=None, confirmed=True
    )
    second = ConsentEvent.objects.get(participant=participant, sequence=2)
    _tamper(second.pk, "DELETE FROM consent_consentevent WHERE id = %s")
    for in_database in (True, False):
        broken = ledger.ledger_verify(in_database=in_database, participant_id=participant.pk)
        assert [(b.event_id, b.problem) for b in broken.broken] == [
            (third.pk, "sequence 3 where 2 was expected")
        ]
