"""Database guards that keep approved consent texts as they were approved.

``FrozenConsentVersions`` is a migration operation installing triggers (PostgreSQL and SQLite) that:

- refuse any change to a version's content (form, label, language, title, body, rendered body, hash,
  IRB number and date, approval time and approver) once its status is not ``draft``;
- allow only forward steps of the lifecycle: draft -> approved -> active -> superseded -> retired
  (approved and active versions may also be retired directly);
- refuse deleting a version that is not a draft;
- refuse moving an active (or superseded, retired) version's ``effective_from`` or
  ``activated_at``: decisions "as of T" rest on them;
- refuse inserting, changing or deleting items and comprehension questions of a version that is
  not a draft, and TRUNCATE of the versions, items and questions (PostgreSQL).

Receipts and ledger events quote a version's text hash, so the text behind that hash must never
move, whatever code (or person with a database shell) tries.
"""

from __future__ import annotations

from typing import Any

from portal.db import TriggerOperation

FROZEN_MESSAGE = "frozen consent version"

VERSION_TABLE = "consent_consentversion"
CHILD_TABLES = ("consent_consentitem", "consent_comprehensionquestion")
FROZEN_COLUMNS = (
    "form_id",
    "label",
    "language",
    "title",
    "body_markdown",
    "body_html",
    "text_sha256",
    "irb_approval_number",
    "irb_approved_on",
    "approved_at",
    "approved_by_id",
    "created_at",
)
# Once a version has been active, when it took effect is history.
STARTED_STATUSES = ("active", "superseded", "retired")
START_COLUMNS = ("effective_from", "activated_at")
# (from, to) status steps allowed besides staying put.
ALLOWED_STEPS = (
    ("draft", "approved"),
    ("approved", "active"),
    ("approved", "retired"),
    ("active", "superseded"),
    ("active", "retired"),
    ("superseded", "retired"),
)


def _steps_sql() -> str:
    return " OR ".join(
        f"(OLD.status = '{old}' AND NEW.status = '{new}')" for old, new in ALLOWED_STEPS
    )


def _postgres_sql() -> list[str]:
    changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in FROZEN_COLUMNS)
    moved = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in START_COLUMNS)
    started = ", ".join(f"'{status}'" for status in STARTED_STATUSES)
    statements = [
        f"""
        CREATE OR REPLACE FUNCTION {VERSION_TABLE}_guard() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                IF OLD.status <> 'draft' THEN
                    RAISE EXCEPTION '{FROZEN_MESSAGE}: DELETE of a % version refused', OLD.status
                        USING ERRCODE = 'insufficient_privilege';
                END IF;
                RETURN OLD;
            END IF;
            IF OLD.status <> 'draft' AND ({changed}) THEN
                RAISE EXCEPTION '{FROZEN_MESSAGE}: content of a % version cannot change', OLD.status
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF OLD.status IN ({started}) AND ({moved}) THEN
                RAISE EXCEPTION '{FROZEN_MESSAGE}: a % version cannot take effect at another time',
                    OLD.status USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF NEW.status IS DISTINCT FROM OLD.status AND NOT ({_steps_sql()}) THEN
                RAISE EXCEPTION '{FROZEN_MESSAGE}: status % -> % refused', OLD.status, NEW.status
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN NEW;
        END;
        $$;
        """,
        f"DROP TRIGGER IF EXISTS {VERSION_TABLE}_guard ON {VERSION_TABLE};",
        f"""CREATE TRIGGER {VERSION_TABLE}_guard BEFORE UPDATE OR DELETE ON {VERSION_TABLE}
            FOR EACH ROW EXECUTE FUNCTION {VERSION_TABLE}_guard();""",
    ]
    for table in (VERSION_TABLE, *CHILD_TABLES):
        # TRUNCATE fires no row trigger; a statement trigger refuses it on every frozen table.
        statements += [
            f"""
            CREATE OR REPLACE FUNCTION {table}_refuse_truncate() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{FROZEN_MESSAGE}: TRUNCATE on {table} refused'
                    USING ERRCODE = 'insufficient_privilege';
            END;
            $$;
            """,
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
            f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION {table}_refuse_truncate();""",
        ]
    for table in CHILD_TABLES:
        statements += [
            f"""
            CREATE OR REPLACE FUNCTION {table}_guard() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE frozen boolean;
            BEGIN
                IF TG_OP IN ('UPDATE', 'DELETE') THEN
                    SELECT status <> 'draft' INTO frozen FROM {VERSION_TABLE}
                        WHERE id = OLD.version_id;
                    IF frozen THEN
                        RAISE EXCEPTION '{FROZEN_MESSAGE}: % on {table} refused', TG_OP
                            USING ERRCODE = 'insufficient_privilege';
                    END IF;
                END IF;
                IF TG_OP IN ('INSERT', 'UPDATE') THEN
                    SELECT status <> 'draft' INTO frozen FROM {VERSION_TABLE}
                        WHERE id = NEW.version_id;
                    IF frozen THEN
                        RAISE EXCEPTION '{FROZEN_MESSAGE}: % on {table} refused', TG_OP
                            USING ERRCODE = 'insufficient_privilege';
                    END IF;
                    RETURN NEW;
                END IF;
                RETURN OLD;
            END;
            $$;
            """,  # noqa: S608  (constants only, no input)
            f"DROP TRIGGER IF EXISTS {table}_guard ON {table};",
            f"""CREATE TRIGGER {table}_guard BEFORE INSERT OR UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION {table}_guard();""",
        ]
    return statements


def _sqlite_sql() -> list[str]:
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in FROZEN_COLUMNS)

    def abort(what: str) -> str:
        return f"BEGIN SELECT RAISE(ABORT, '{FROZEN_MESSAGE}: {what} refused'); END;"

    moved = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in START_COLUMNS)
    started = ", ".join(f"'{status}'" for status in STARTED_STATUSES)
    statements = [
        f"DROP TRIGGER IF EXISTS {VERSION_TABLE}_start_moved;",
        f"""CREATE TRIGGER {VERSION_TABLE}_start_moved BEFORE UPDATE ON {VERSION_TABLE}
            WHEN OLD.status IN ({started}) AND ({moved}) {abort("moving the start")}""",
        f"DROP TRIGGER IF EXISTS {VERSION_TABLE}_frozen_content;",
        f"""CREATE TRIGGER {VERSION_TABLE}_frozen_content BEFORE UPDATE ON {VERSION_TABLE}
            WHEN OLD.status <> 'draft' AND ({changed}) {abort("content change")}""",
        f"DROP TRIGGER IF EXISTS {VERSION_TABLE}_status_step;",
        f"""CREATE TRIGGER {VERSION_TABLE}_status_step BEFORE UPDATE ON {VERSION_TABLE}
            WHEN NEW.status IS NOT OLD.status AND NOT ({_steps_sql()}) {abort("status step")}""",
        f"DROP TRIGGER IF EXISTS {VERSION_TABLE}_frozen_delete;",
        f"""CREATE TRIGGER {VERSION_TABLE}_frozen_delete BEFORE DELETE ON {VERSION_TABLE}
            WHEN OLD.status <> 'draft' {abort("DELETE")}""",
    ]
    for table in CHILD_TABLES:

        def status_of(ref: str) -> str:
            return f"(SELECT status FROM {VERSION_TABLE} WHERE id = {ref}.version_id)"  # noqa: S608

        statements += [
            f"DROP TRIGGER IF EXISTS {table}_frozen_insert;",
            f"""CREATE TRIGGER {table}_frozen_insert BEFORE INSERT ON {table}
                WHEN {status_of("NEW")} <> 'draft' {abort(f"INSERT on {table}")}""",
            f"DROP TRIGGER IF EXISTS {table}_frozen_update;",
            f"""CREATE TRIGGER {table}_frozen_update BEFORE UPDATE ON {table}
                WHEN {status_of("OLD")} <> 'draft' OR {status_of("NEW")} <> 'draft'
                {abort(f"UPDATE on {table}")}""",
            f"DROP TRIGGER IF EXISTS {table}_frozen_delete;",
            f"""CREATE TRIGGER {table}_frozen_delete BEFORE DELETE ON {table}
                WHEN {status_of("OLD")} <> 'draft' {abort(f"DELETE on {table}")}""",
        ]
    return statements


def _drop_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {t}_guard ON {t}; DROP FUNCTION IF EXISTS {t}_guard();"
            f" DROP TRIGGER IF EXISTS {t}_no_truncate ON {t};"
            f" DROP FUNCTION IF EXISTS {t}_refuse_truncate();"
            for t in (VERSION_TABLE, *CHILD_TABLES)
        ]
    names = [
        f"{VERSION_TABLE}_{n}"
        for n in ("frozen_content", "status_step", "frozen_delete", "start_moved")
    ]
    names += [f"{t}_frozen_{op}" for t in CHILD_TABLES for op in ("insert", "update", "delete")]
    return [f"DROP TRIGGER IF EXISTS {name};" for name in names]


def frozen_versions_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return _postgres_sql()
    if vendor == "sqlite":
        return _sqlite_sql()
    raise NotImplementedError(f"consent version guards are not written for {vendor}")


class FrozenConsentVersions(TriggerOperation):
    """Install the guards described in this module's docstring (reversible)."""

    def forwards_sql(self, vendor: str) -> list[str]:
        return frozen_versions_sql(vendor)

    def backwards_sql(self, vendor: str) -> list[str]:
        return _drop_sql(vendor)

    def describe(self) -> str:
        return "Freeze consent versions once approved"

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return ("consent.db.FrozenConsentVersions", [], {})


def is_frozen_violation(exc: BaseException) -> bool:
    return FROZEN_MESSAGE in str(exc)


class FrozenConsentVersionsRefresh(FrozenConsentVersions):
    """Re-install the guards with what was added since (idempotent); backwards keeps them."""

    def backwards_sql(self, vendor: str) -> list[str]:
        return []

    def describe(self) -> str:
        return "Refresh the frozen consent version guards"

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return ("consent.db.FrozenConsentVersionsRefresh", [], {})
