"""Machine clients: another system gets a token at /o/token/ (client credentials) and asks the
consent check; nothing else of the API is open to it, it is throttled, audited by name, revocable."""

from __future__ import annotations

import base64
import json
import urllib.parse
import urllib.request
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from oauth2_provider.models import AccessToken, Application

from consent.models import Purpose
from consent.seeding.purposes import purposes_seed
from portal.models import AuditEvent
from portal.roles import Role
from portal.services import machine_client_create, machine_client_revoke
from tests.consent.ledger_builders import ITEMS_V1, make_version, record
from tests.factories import ParticipantFactory, staff_user

pytestmark = pytest.mark.django_db

ALL_YES = {code: True for code, _required in ITEMS_V1}


@pytest.fixture
def consented():
    # A transactional test (the live server's) may follow another that emptied every table,
    # the purposes seeded by the migrations included.
    purposes_seed(Purpose)
    participant = ParticipantFactory()
    record(participant, make_version("v1"), ALL_YES)
    return participant


@pytest.fixture
def dam_client():
    return machine_client_create(name="Data dam")


def token_for(client: Client, client_id: str, secret: str, **extra: str) -> Any:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return client.post(
        "/o/token/",
        {"grant_type": "client_credentials", **extra},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )


def bearer(dam_client: Any) -> dict[str, str]:
    response = token_for(Client(), dam_client.application.client_id, dam_client.secret)
    assert response.status_code == 200, response.content
    return {"HTTP_AUTHORIZATION": f"Bearer {response.json()['access_token']}"}


def check(client: Client, auth: dict[str, str], codes: list[str]) -> Any:
    return client.post(
        "/api/consent/checks/",
        {"participants": codes, "purpose": "general_research"},
        content_type="application/json",
        **auth,
    )


def test_a_client_gets_a_scoped_token_and_the_consent_check_answers_it(dam_client, consented):
    response = token_for(Client(), dam_client.application.client_id, dam_client.secret)
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "Bearer" and body["scope"] == "consent:check"
    assert "refresh_token" not in body
    # Stored hashed (RFC 9700): a copy of the table hands out no working token.
    assert AccessToken.objects.count() == 1
    assert not AccessToken.objects.filter(token=body["access_token"]).exists()
    answer = check(Client(), bearer(dam_client), [consented.code, "NOPE-0000"])
    assert answer.status_code == 200
    assert answer.json()["allowed"] == 1 and answer.json()["refused"] == 1


def test_over_real_http_token_then_check(live_server, dam_client, consented):
    """The whole exchange through a real socket, as the dam would make it."""
    form = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": dam_client.application.client_id,
            "client_secret": dam_client.secret,
        }
    ).encode()
    with urllib.request.urlopen(f"{live_server.url}/o/token/", form, timeout=10) as answer:  # noqa: S310
        token = json.load(answer)["access_token"]
    request = urllib.request.Request(  # noqa: S310  (the live server's http URL)
        f"{live_server.url}/api/consent/checks/",
        data=json.dumps({"participants": [consented.code], "purpose": "general_research"}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        assert json.load(answer)["allowed"] == 1


def test_a_wrong_secret_gets_no_token(dam_client):
    response = token_for(Client(), dam_client.application.client_id, "wrong")
    assert response.status_code == 401
    assert "access_token" not in response.json()


def test_only_the_client_credentials_grant_is_served(dam_client):
    staff = staff_user(Role.ADMIN)
    response = Client().post(
        "/o/token/",
        {
            "grant_type": "password",
            "username": staff.email,
            "password": "irrelevant",
            "client_id": dam_client.application.client_id,
            "client_secret": dam_client.secret,
        },
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_a_scope_beyond_consent_check_is_refused(dam_client):
    response = token_for(
        Client(), dam_client.application.client_id, dam_client.secret, scope="consent:write"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/api/consent/purposes/"),
        ("get", "/api/consent/participants/"),
        ("get", "/api/consent/me/"),
        ("get", "/api/enrollment/participants/"),
        ("get", "/api/enrollment/dashboard/"),
        ("get", "/api/schema/"),
    ],
)
def test_every_other_api_refuses_a_client_with_403(dam_client, method, path):
    auth = bearer(dam_client)
    response = getattr(Client(), method)(path, **auth)
    assert response.status_code == 403
    denied = AuditEvent.objects.filter(action="access.denied").latest("pk")
    assert denied.details["client"] == dam_client.application.client_id


def test_an_audit_row_names_the_client(dam_client, consented):
    check(Client(), bearer(dam_client), [consented.code])
    row = AuditEvent.objects.filter(action="consent.checked").latest("pk")
    assert row.actor_id is None
    assert row.details == {
        "what": "check",
        "count": 1,
        "purpose": "general_research",
        "client": dam_client.application.client_id,
        "client_name": "Data dam",
    }


def test_a_revoked_client_is_refused_at_once(dam_client, consented):
    auth = bearer(dam_client)
    assert check(Client(), auth, [consented.code]).status_code == 200
    admin = staff_user(Role.ADMIN, is_staff=True, is_superuser=True)
    machine_client_revoke(application=dam_client.application, by=admin)
    refused = check(Client(), auth, [consented.code])
    assert refused.status_code == 403
    assert refused.json()["detail"] == "액세스 토큰이 유효하지 않거나 만료되었거나 폐기되었습니다."
    assert AccessToken.objects.count() == 0
    again = token_for(Client(), dam_client.application.client_id, dam_client.secret)
    assert again.status_code == 401
    revoked = AuditEvent.objects.get(action="client.revoked")
    assert (revoked.actor_id, revoked.details["client_name"]) == (admin.pk, "Data dam")


def test_an_admin_revokes_a_client_from_the_admin(dam_client):
    admin = staff_user(Role.ADMIN, mfa=True, is_staff=True, is_superuser=True)
    web = Client()
    web.force_login(admin)
    listing = web.get("/admin/oauth2_provider/application/")
    assert listing.status_code == 200 and b"Data dam" in listing.content
    response = web.post(
        "/admin/oauth2_provider/application/",
        {"action": "revoke", "_selected_action": [dam_client.application.pk]},
    )
    assert response.status_code == 302
    assert not Application.objects.exists()
    assert AuditEvent.objects.get(action="client.revoked").actor_id == admin.pk


def test_a_client_over_its_rate_gets_429_with_retry_after(settings, dam_client, consented):
    settings.API_CLIENT_RATE = "2/minute"
    settings.API_USER_RATE = "1000/minute"
    auth = bearer(dam_client)
    codes = [check(Client(), auth, [consented.code]).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    throttled = check(Client(), auth, [consented.code])
    assert int(throttled["Retry-After"]) > 0
    # Another client has a count of its own.
    other = machine_client_create(name="Analysis platform")
    assert check(Client(), bearer(other), [consented.code]).status_code == 200


def test_the_command_creates_a_client_and_prints_its_secret_once():
    out = StringIO()
    call_command("create_machine_client", "--name", "Analysis platform", stdout=out)
    lines = dict(
        line.split("=", 1) for line in out.getvalue().splitlines() if line.startswith("client_")
    )
    application = Application.objects.get(client_id=lines["client_id"])
    assert application.name == "Analysis platform"
    assert application.authorization_grant_type == Application.GRANT_CLIENT_CREDENTIALS
    # Only the secret's hash is kept; the printed secret works.
    assert lines["client_secret"] not in application.client_secret
    assert token_for(Client(), lines["client_id"], lines["client_secret"]).status_code == 200
    assert AuditEvent.objects.get(action="client.created").details["client_name"] == (
        "Analysis platform"
    )
