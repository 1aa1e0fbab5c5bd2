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
from dataclasses import dataclass, field
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


# Purposes, sites and phases are reference data (rows the admin manages), so the description
# cannot list them: a well-formed but unknown code is refused with 400, on purpose.
_REFERENCE_DATA_REFUSED = {
    "positive_data_acceptance": {"expected-statuses": ["2xx", "400", "403", "404", "429"]}
}
_CONFIG = SchemathesisConfig.from_dict(
    {
        # The callers' credentials are sent by the test, not through the security schemes, so
        # schemathesis neither drops them nor expects a refusal without them (a request without
        # credentials is refused: tests/portal/test_api_schema.py).
        "generation": {
            "max-examples": EXAMPLES_PER_OPERATION,
            "deterministic": True,
            "with-security-parameters": False,
        },
        "checks": {"ignored_auth": {"enabled": False}},
        "operations": [
            {"include-path": "/api/consent/checks/", "checks": _REFERENCE_DATA_REFUSED},
            {"include-path": "/api/enrollment/dashboard/", "checks": _REFERENCE_DATA_REFUSED},
        ],
    }
)
schema = schemathesis.openapi.from_dict(
    SchemaGenerator().get_schema(request=None, public=True),  # what /api/schema/ serves
    config=_CONFIG,
)
schema.app = get_wsgi_application()


@dataclass(frozen=True)
class Caller:
    headers: dict[str, str]
    cookies: dict[str, str] = field(default_factory=dict)


def _signed_in(user: Any) -> Caller:
    """A signed-in browser: its session cookie, and a CSRF token for writes."""
    browser = Client()
    browser.force_login(user)
    csrf = get_random_string(32)
    return Caller(
        headers={"X-CSRFToken": csrf},
        cookies={"sessionid": browser.cookies["sessionid"].value, "csrftoken": csrf},
    )


def _machine_client() -> Caller:
    created = machine_client_create(name="Data dam")
    basic = base64.b64encode(f"{created.application.client_id}:{created.secret}".encode()).decode()
    answer = Client().post(
        "/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    return Caller(headers={"Authorization": f"Bearer {answer.json()['access_token']}"})


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


def _caller(who: str) -> Caller:
    site = SiteFactory()
    version = make_version("v1")
    yes = dict.fromkeys(ITEMS_V1_CODES, True)
    if who == "machine client":
        return _machine_client()
    if who == "coordinator":
        for _ in range(2):
            record(ParticipantFactory(site=site), version, yes)
        return _signed_in(staff_user(Role.COORDINATOR, sites=[site], mfa=True))  # type: ignore[list-item]
    user = UserFactory()
    record(ParticipantFactory(site=site, user=user), version, yes)
    return _signed_in(user)


@pytest.fixture
def callers() -> Callable[[str], Caller]:
    """One caller of each kind, made once per test (not once per example)."""
    made: dict[str, Caller] = {}

    def caller(who: str) -> Caller:
        if who not in made:
            made[who] = _caller(who)
        return made[who]

    return caller


ITEMS_V1_CODES = [code for code, _required in ITEMS_V1]


_BOUNDED = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _answers_as_documented(case: Any, caller: Caller) -> Any:
    with _connection_kept_open():
        return case.call_and_validate(headers=caller.headers, cookies=caller.cookies)


@pytest.mark.parametrize(
    "who,method,path,body,count",
    [
        ("volunteer", "GET", "/api/consent/me/history/", None, 1),
        ("coordinator", "GET", "/api/consent/participants/", None, 2),
        ("machine client", "POST", "/api/consent/checks/", {"purpose": "general_research"}, 1),
    ],
)
def test_each_caller_is_recognised(callers, who, method, path, body, count):
    """The generated requests below are made as these callers, not as strangers refused 403."""
    extra = {"body": {**body, "participants": ["NOPE-0000"]}} if body is not None else {}
    case = schema[path][method].Case(**extra)
    response = _answers_as_documented(case, callers(who))
    assert response.status_code == 200
    assert len(response.json()["results"]) == count


@schema.parametrize()
@_BOUNDED
def test_as_a_volunteer(case: Any, callers: Callable[[str], Caller]) -> None:
    _answers_as_documented(case, callers("volunteer"))


@schema.parametrize()
@_BOUNDED
def test_as_a_coordinator(case: Any, callers: Callable[[str], Caller]) -> None:
    _answers_as_documented(case, callers("coordinator"))


@schema.parametrize()
@_BOUNDED
def test_as_a_machine_client(case: Any, callers: Callable[[str], Caller]) -> None:
    _answers_as_documented(case, callers("machine client"))
