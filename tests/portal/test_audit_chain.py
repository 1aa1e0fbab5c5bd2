"""The audit log is hash-chained in seals, and the nightly verification finds any change."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from portal.audit import Action, audit_record
from portal.audit_chain import audit_chain_verify, audit_seal, audit_seal_all
from portal.models import AuditEvent, AuditSeal
from portal.tasks import audit_chain_verify_nightly

pytestmark = pytest.mark.django_db


def _write(n: int) -> list[AuditEvent]:
    return [
        audit_record(action=Action.PERSONAL_DATA_VIEWED, object_type="t", object_id=i, reason="r")
        for i in range(n)
    ]


def _behind_the_application(sql: str, params: list[object]) -> None:
    """What a superuser with a shell could do: switch the triggers off and change rows."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")


def test_settled_rows_are_sealed_in_a_chain_that_verifies():
    _write(3)
    first = audit_seal(settle_seconds=0)
    _write(2)
    second = audit_seal(settle_seconds=0)
    assert first is not None and second is not None
    assert (first.after_id, second.after_id) == (0, first.last_id)
    assert second.prev_hash == first.hash and first.rows == 3 and second.rows == 2
    result = audit_chain_verify()
    assert result.ok and (result.seals, result.rows) == (2, 5)


def test_rows_not_yet_settled_wait_for_the_next_seal():
    _write(2)
    assert audit_seal(settle_seconds=3600) is None
    assert not AuditSeal.objects.exists()


def test_a_changed_audit_row_is_found():
    rows = _write(3)
    audit_seal_all(settle_seconds=0)
    _behind_the_application(
        "UPDATE portal_auditevent SET reason = 'nothing to see' WHERE id = %s", [rows[1].pk]
    )
    result = audit_chain_verify()
    assert not result.ok and "changed" in result.problems[0]


def test_a_removed_audit_row_is_found():
    rows = _write(3)
    audit_seal_all(settle_seconds=0)
    _behind_the_application("DELETE FROM portal_auditevent WHERE id = %s", [rows[0].pk])
    result = audit_chain_verify()
    assert not result.ok and "2 rows" in result.problems[0]


def test_a_removed_seal_is_found():
    _write(2)
    audit_seal(settle_seconds=0)
    _write(2)
    audit_seal(settle_seconds=0)
    _write(2)
    audit_seal(settle_seconds=0)
    middle = AuditSeal.objects.order_by("after_id")[1]
    _behind_the_application("DELETE FROM portal_auditseal WHERE id = %s", [middle.pk])
    result = audit_chain_verify()
    assert any("a seal is missing" in problem for problem in result.problems)


def test_seals_are_append_only():
    _write(1)
    seal = audit_seal(settle_seconds=0)
    assert seal is not None
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditSeal.objects.filter(pk=seal.pk).update(hash="0" * 64)


def test_nightly_verification_records_its_outcome_and_the_command_fails_when_broken(settings):
    settings.AUDIT_SEAL_SETTLE_SECONDS = 0
    rows = _write(2)
    assert audit_chain_verify_nightly() is True
    assert AuditEvent.objects.filter(action=Action.AUDIT_CHAIN_VERIFIED, outcome="ok").exists()
    _behind_the_application(
        "UPDATE portal_auditevent SET actor_id = NULL, action = 'x' WHERE id = %s", [rows[0].pk]
    )
    assert audit_chain_verify_nightly() is False
    assert AuditEvent.objects.filter(action=Action.AUDIT_CHAIN_VERIFIED, outcome="broken").exists()
    with pytest.raises(CommandError, match="audit chain broken"):
        call_command("verify_audit_chain")
