"""Shared fixtures. The suite runs on PostgreSQL (``make test`` sets DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db.backends.postgresql.operations import DatabaseOperations
from django.utils import translation

from enrollment import messaging
from portal.roles import Role
from tests import factories


@pytest.fixture(scope="session", autouse=True)
def _flush_bypasses_append_only_triggers() -> Iterator[None]:
    """Transactional tests empty every table with TRUNCATE after each test.

    The append-only triggers rightly refuse that. Only for this flush, and only as the superuser the
    tests connect as, triggers are switched off with ``session_replication_role``.
    """
    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self: DatabaseOperations, sql_list: list[str]) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
        try:
            original(self, sql_list)
        finally:
            with self.connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")

    DatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    DatabaseOperations.execute_sql_flush = original


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Rate-limit counters and used TOTP codes live in the cache: no test inherits another's."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _isolated_mail_and_media(settings: Any, tmp_path: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DAM_DIRECTORY = tmp_path / "dam-outbox"


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Every test starts in the portal's default language (Korean). A request through the test
    client leaves the language it was served in active in the thread (LocaleMiddleware activates
    it and nothing resets it), so without this a test that calls a service directly would read
    the labels of whichever test ran before it."""
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _empty_text_outbox() -> Iterator[None]:
    """Text messages sent in one test are never seen by the next."""
    messaging.outbox.clear()
    yield
    messaging.outbox.clear()


@pytest.fixture
def in_english(client: Any) -> Iterator[None]:
    """Pages and messages in English, so that assertions read the source strings (Korean is the
    default; the browser tests check the Korean pages)."""
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def fast_passwords(settings: Any) -> None:
    """A fast password hasher for tests that create many accounts (the real one is slow on purpose)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def volunteer(client: Any) -> Any:
    """A signed-in volunteer account (verified e-mail, English pages), not yet registered."""
    user = factories.UserFactory(preferred_language="en")  # e-mail verified by the factory
    client.force_login(user)
    return user


@pytest.fixture
def site(db: None) -> Any:
    return factories.SiteFactory()


@pytest.fixture
def coordinator(site: Any) -> Any:
    return factories.staff_user(Role.COORDINATOR, sites=[site])


@pytest.fixture
def manager(db: None) -> Any:
    return factories.staff_user(Role.PROGRAMME_MANAGER)


@pytest.fixture(scope="session")
def pgbouncer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One PgBouncer in transaction mode for the session, in front of the test database server."""
    from django.conf import settings

    from tests.pgbouncer import pgbouncer_start

    database = settings.DATABASES["default"]
    yield from pgbouncer_start(
        tmp_path_factory.mktemp("pgbouncer"),
        server_host=database["HOST"] or "127.0.0.1",
        server_port=int(database["PORT"] or 5432),
        user=database["USER"],
        password=database["PASSWORD"] or "",
    )


@pytest.fixture(params=["direct", "pgbouncer"])
def worker_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """Environment for a real Celery worker (or beat) on this test's database and Redis.

    Tests that take it run twice: straight to PostgreSQL, and through PgBouncer in transaction mode
    with the settings production uses behind it.
    """
    from tests.workers import worker_environment

    pooler = request.getfixturevalue("pgbouncer") if request.param == "pgbouncer" else None
    return worker_environment(pooler=pooler)
