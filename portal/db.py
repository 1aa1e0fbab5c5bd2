"""Database helpers shared by every app: append-only tables and the one COPY writer.

Append-only tables

The law treats consent events, status transitions and audit rows as records: once written they
are never changed. The application never tries, and the database refuses too, so that a bug, a
shell session or a careless migration cannot rewrite history.

``AppendOnly("table")`` is a migration operation that installs triggers refusing UPDATE, DELETE
and (on PostgreSQL) TRUNCATE on PostgreSQL and SQLite alike. A PostgreSQL superuser can still
bypass triggers with ``session_replication_role = replica``; the production database role is not a
superuser, and the test suite uses that switch only to empty tables between tests.

Bulk writes
``copy_rows`` is the one PostgreSQL ``COPY ... FROM STDIN`` writer (imports, synthetic seeding of
every app): the rows are formatted in COPY's text format in one go, which is much faster than
adapting them row by row.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, migrations
from django.db.backends.base.base import BaseDatabaseWrapper

APPEND_ONLY_MESSAGE = "append-only table"


def _postgres_sql(table: str) -> list[str]:
    fn = f"{table}_refuse_change"
    return [
        f"""
        CREATE OR REPLACE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}: % on {table} refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END;
        $$;
        """,
        f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table};",
        f"""CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION {fn}();""",
        f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
        f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
            FOR EACH STATEMENT EXECUTE FUNCTION {fn}();""",
    ]


def _sqlite_sql(table: str) -> list[str]:
    # SQLite has no TRUNCATE: "DELETE FROM t" without a WHERE is caught by the delete trigger.
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_update;",
        f"""CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
            BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}: UPDATE on {table} refused'); END;""",
        f"DROP TRIGGER IF EXISTS {table}_no_delete;",
        f"""CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
            BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}: DELETE on {table} refused'); END;""",
    ]


def _drop_sql(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_no_update_delete ON {table};",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
            f"DROP FUNCTION IF EXISTS {table}_refuse_change();",
        ]
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_update;",
        f"DROP TRIGGER IF EXISTS {table}_no_delete;",
    ]


def append_only_sql(vendor: str, table: str) -> list[str]:
    if vendor == "postgresql":
        return _postgres_sql(table)
    if vendor == "sqlite":
        return _sqlite_sql(table)
    raise NotImplementedError(f"append-only triggers are not written for {vendor}")


class TriggerOperation(migrations.operations.base.Operation):
    """A migration operation that runs vendor-specific SQL forwards and backwards.

    Subclasses say which statements install and which remove their triggers; the schema state is
    untouched, so these operations can follow the model operations they guard.
    """

    reduces_to_sql = True
    reversible = True

    def forwards_sql(self, vendor: str) -> list[str]:
        raise NotImplementedError

    def backwards_sql(self, vendor: str) -> list[str]:
        raise NotImplementedError

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def _run(self, connection: BaseDatabaseWrapper, statements: list[str]) -> None:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        connection = schema_editor.connection
        self._run(connection, self.forwards_sql(connection.vendor))

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        connection = schema_editor.connection
        self._run(connection, self.backwards_sql(connection.vendor))


class AppendOnly(TriggerOperation):
    """Install the refusing triggers on ``table`` (reversible)."""

    def __init__(self, table: str) -> None:
        self.table = table

    def forwards_sql(self, vendor: str) -> list[str]:
        return append_only_sql(vendor, self.table)

    def backwards_sql(self, vendor: str) -> list[str]:
        return _drop_sql(vendor, self.table)

    def describe(self) -> str:
        return f"Make {self.table} append-only"

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return ("portal.db.AppendOnly", [self.table], {})


def is_append_only_violation(exc: BaseException) -> bool:
    return APPEND_ONLY_MESSAGE in str(exc)


def copy_text(value: Any) -> str:
    """One value in COPY's text format (``\\N`` for NULL, escaped tabs, newlines, backslashes)."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = json.dumps(value) if isinstance(value, dict | list) else str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (
            text.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return text


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write ``rows`` (values in ``columns`` order) into ``table`` with one PostgreSQL COPY."""
    payload = "".join("\t".join(map(copy_text, row)) + "\n" for row in rows)
    if not payload:
        return
    quote = connection.ops.quote_name
    sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        copy.write(payload)
