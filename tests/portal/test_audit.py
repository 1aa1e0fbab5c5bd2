import pytest
from django.db import DatabaseError, connection, transaction

from portal.audit import Action, audit_record
from portal.models import AuditEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _one_event() -> AuditEvent:
    return audit_record(
        action=Action.LOGIN, actor=UserFactory(), object_type="portal.user", object_id=1
    )


def test_audit_record_stores_who_what_and_when():
    event = _one_event()
    event.refresh_from_db()
    assert event.action == Action.LOGIN
    assert event.actor is not None
    assert event.at is not None


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE portal_auditevent SET action = 'rewritten'",
        "DELETE FROM portal_auditevent",
        "TRUNCATE portal_auditevent CASCADE",
    ],
)
def test_database_refuses_to_change_audit_rows(statement):
    _one_event()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert AuditEvent.objects.filter(action=Action.LOGIN).count() == 1


def test_audit_details_refuse_personal_data():
    with pytest.raises(ValueError, match="personal data"):
        audit_record(action=Action.LOGIN, details={"email": "someone@example.org"})
