"""The API does what its description says: schemathesis sends generated requests to every operation
as a volunteer, a coordinator and a machine client, and every answer must be a documented status
with a documented content type and body, never a server error.

Bounded on purpose (a handful of examples per operation): this guards the description in every
run of the suite; a long fuzzing campaign is a separate, manual job.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from django.utils.crypto import get_random_string
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from portal.roles import Role
from portal.services import machine_client_create
from tests.consent.ledger_builders import ITEMS_V1, make_version, record
from tests.factories import ParticipantFactory, SiteFactory, UserFactory, staff_user

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 6


# Purposes are reference data (rows the admin manages), so the description cannot list them: a
# well-formed but unknown purpose code is refused with 400 by the consent check, on purpose.
_CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {"max-examples": EXAMPLES_PER_OPERATION, "deterministic": True},
        "operations": [
            {
                "include-path": "/api/consent/checks/",
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", "400", "403", "404", "429"]
                    }
                },
            }
        ],
    }
)
schema = schemathesis.openapi.from_dict(
    SchemaGenerator().get_schema(request=None, public=True),  # what /api/schema/ serves
    config=_CONFIG,
)
schema.app = get_wsgi_application()


def _session_headers(user: Any) -> dict[str, str]:
    """A signed-in browser's headers: its session cookie and a CSRF token for writes."""
    browser = Client()
    browser.force_login(user)
    csrf = get_random_string(32)
    session = browser.cookies["sessionid"].value
    return {"Cookie": f"sessionid={session}; csrftoken={csrf}", "X-CSRFToken": csrf}


def _machine_headers() -> dict[str, str]:
    created = machine_client_create(name="Data dam")
    basic = base64.b64encode(f"{created.application.client_id}:{created.secret}".encode()).decode()
    token = (
        Client()
        .post(
            "/o/token/",
            {"grant_type": "client_credentials"},
            HTTP_AUTHORIZATION=f"Basic {basic}",
        )
        .json()["access_token"]
    )
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def _connection_kept_open() -> Iterator[None]:
    """The WSGI handler closes the database connection after each request; in a test, that is the
    test's transaction. Django's own test client keeps it open the same way (and reconnects the
    signals after each of its requests, so this wraps each call)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _caller_headers(who: str) -> dict[str, str]:
    site = SiteFactory()
    version = make_version("v1")
    yes = dict.fromkeys(ITEMS_V1_CODES, True)
    if who == "machine client":
        return _machine_headers()
    if who == "coordinator":
        for _ in range(2):
            record(ParticipantFactory(site=site), version, yes)
        return _session_headers(staff_user(Role.COORDINATOR, sites=[site], mfa=True))  # type: ignore[list-item]
    user = UserFactory()
    record(ParticipantFactory(site=site, user=user), version, yes)
    return _session_headers(user)


@pytest.fixture
def callers() -> Callable[[str], dict[str, str]]:
    """Headers of one caller of each kind, made once per test (not once per example)."""
    made: dict[str, dict[str, str]] = {}

    def headers(who: str) -> dict[str, str]:
        if who not in made:
            made[who] = _caller_headers(who)
        return made[who]

    return headers


ITEMS_V1_CODES = [code for code, _required in ITEMS_V1]


_BOUNDED = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _answers_as_documented(case: Any, headers: dict[str, str]) -> None:
    with _connection_kept_open():
        case.call_and_validate(headers=headers)


@schema.parametrize()
@_BOUNDED
def test_as_a_volunteer(case: Any, callers: Callable[[str], dict[str, str]]) -> None:
    _answers_as_documented(case, callers("volunteer"))


@schema.parametrize()
@_BOUNDED
def test_as_a_coordinator(case: Any, callers: Callable[[str], dict[str, str]]) -> None:
    _answers_as_documented(case, callers("coordinator"))


@schema.parametrize()
@_BOUNDED
def test_as_a_machine_client(case: Any, callers: Callable[[str], dict[str, str]]) -> None:
    _answers_as_documented(case, callers("machine client"))
