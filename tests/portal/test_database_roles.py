"""The database protects itself from the application: the runtime role owns nothing.

The portal and its workers connect as a member of ``DATABASE_RUNTIME_ROLE``; migrations run as
the owner (``MIGRATION_DATABASE_URL``). These tests connect as such a member and try what an
attacker inside the application would try against the protected tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.models.signals import pre_migrate

from portal.db import protected_tables

pytestmark = pytest.mark.django_db

PROBE_ROLE = "portal_app_probe"
# Tables whose guards the portal relies on; every guarded table found is tried, these must be.
KNOWN_PROTECTED = {
    "portal_auditevent",
    "portal_auditseal",
    "enrollment_statustransition",
    "enrollment_informationrevision",
    "consent_consentevent",
    "consent_consentartifact",
    "consent_consentqualitycheck",
    "consent_consentversion",
    "consent_consentitem",
    "consent_comprehensionquestion",
}


def _dsn(user: str) -> str:
    db = connection.settings_dict
    return (
        f"host={db['HOST'] or '127.0.0.1'} port={db['PORT'] or 5432} dbname={db['NAME']} "
        f"user={user}"
    )


@pytest.fixture
def runtime_connection(db: None) -> Iterator[psycopg.Connection[Any]]:
    """A login role that is a member of the runtime role, connected to the test database."""
    runtime = settings.DATABASE_RUNTIME_ROLE
    with psycopg.connect(_dsn(connection.settings_dict["USER"]), autocommit=True) as admin:
        admin.execute(
            f"""
            DO $$ BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{PROBE_ROLE}') THEN
                    CREATE ROLE {PROBE_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
                END IF;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END $$;
            """
        )
        admin.execute(f"GRANT {runtime} TO {PROBE_ROLE}")
    with psycopg.connect(_dsn(PROBE_ROLE), autocommit=True) as probe:
        yield probe


def _refused(probe: psycopg.Connection[Any], statement: str) -> bool:
    try:
        probe.execute(statement)
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


def test_every_known_protected_table_is_guarded_by_a_trigger():
    with connection.cursor() as cursor:
        found = set(protected_tables(cursor))
    assert found >= KNOWN_PROTECTED


def test_runtime_role_reads_and_writes_ordinary_rows(runtime_connection):
    probe = runtime_connection
    assert probe.execute("SELECT current_user").fetchone() == (PROBE_ROLE,)
    probe.execute("SELECT count(*) FROM enrollment_participant").fetchone()
    # An audit row is the commonest write; the sequence is usable too (rolled back: the row
    # would otherwise outlive the test, which runs outside the test transaction).
    with probe.transaction(force_rollback=True):
        probe.execute(
            "INSERT INTO portal_auditevent (action, object_type, object_id, reason, "
            "request_id, outcome, details) VALUES ('probe', '', '', '', '', 'ok', '{}')"
        )


def test_runtime_role_cannot_disable_drop_or_truncate_guards(runtime_connection):
    probe = runtime_connection
    with connection.cursor() as cursor:
        tables = protected_tables(cursor)
        cursor.execute(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND c.relname = ANY(%s)",
            [tables],
        )
        triggers = cursor.fetchall()
    assert triggers
    not_refused = [
        statement
        for statement in (
            *(f"TRUNCATE {t}" for t in tables),
            *(f"ALTER TABLE {t} DISABLE TRIGGER ALL" for t in tables),
            *(f"ALTER TABLE {t} DISABLE TRIGGER USER" for t in tables),
            *(f"ALTER TABLE {t} ADD COLUMN probe int" for t in tables),
            *(f"DROP TABLE {t}" for t in tables),
            *(f"DROP TRIGGER {name} ON {table}" for table, name in triggers),
            *(f"ALTER TABLE {table} DISABLE TRIGGER {name}" for table, name in triggers),
            "CREATE TABLE probe (id int)",
            "SET session_replication_role = replica",
        )
        if not _refused(probe, statement)
    ]
    assert not_refused == []


def test_runtime_role_gets_privileges_on_tables_created_later(runtime_connection):
    # Later migrations run as the same owner; default privileges reach their tables.
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE security_probe_later (id bigserial PRIMARY KEY, v int)")
    # The test's transaction is not committed: the grant is read from the catalogue.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT has_table_privilege(%s, 'security_probe_later', 'INSERT'), "
            "has_table_privilege(%s, 'security_probe_later', 'TRUNCATE'), "
            "has_sequence_privilege(%s, 'security_probe_later_id_seq', 'USAGE')",
            [settings.DATABASE_RUNTIME_ROLE] * 3,
        )
        assert cursor.fetchone() == (True, False, True)


@pytest.mark.django_db(transaction=True)
def test_migrate_connects_with_the_migration_url(settings, runtime_connection):
    db = connection.settings_dict
    settings.MIGRATION_DATABASE_URL = (
        f"postgres://{PROBE_ROLE}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    seen: list[str] = []

    def who(sender: Any, using: str, **kwargs: Any) -> None:
        from django.db import connections

        with connections[using].cursor() as cursor:
            cursor.execute("SELECT current_user")
            seen.append(cursor.fetchone()[0])

    pre_migrate.connect(who, weak=False, dispatch_uid="security-probe")
    try:
        call_command("migrate", verbosity=0)
    finally:
        pre_migrate.disconnect(dispatch_uid="security-probe")
    assert set(seen) == {PROBE_ROLE}
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        assert cursor.fetchone()[0] == db["USER"]
