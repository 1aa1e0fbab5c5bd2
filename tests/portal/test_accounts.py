"""Accounts: e-mail login, verification, strong passwords, rate limits, no account enumeration,
and the audit trail of sign-ins, failures, MFA changes and refusals."""

from __future__ import annotations

import re

import pyotp
import pytest
import redis
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.test import Client

from portal.audit import Action
from portal.models import AuditEvent, User
from portal.roles import Role
from tests import factories

pytestmark = pytest.mark.django_db

STRONG = "a-long-and-unusual-passphrase-77"


def _comparable(html: bytes) -> str:
    """A page without what differs on every render (CSRF tokens)."""
    text = html.decode()
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)


def _login(client: Client, email: str, password: str):
    return client.post("/accounts/login/", {"login": email, "password": password})


def test_login_answers_the_same_for_unknown_email_and_wrong_password():
    factories.UserFactory(email="known@example.org")
    known = _login(Client(), "known@example.org", "not-the-password-1")
    unknown = _login(Client(), "nobody@example.org", "not-the-password-1")
    assert known.status_code == unknown.status_code == 200
    assert _comparable(known.content).replace("known@", "X@") == _comparable(
        unknown.content
    ).replace("nobody@", "X@")


def test_password_reset_answers_the_same_for_known_and_unknown_email():
    factories.UserFactory(email="known@example.org")
    known = Client().post("/accounts/password/reset/", {"email": "known@example.org"})
    unknown = Client().post("/accounts/password/reset/", {"email": "nobody@example.org"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    # Both get a mail: the real account a reset link, the unknown address a note that there is none.
    assert {tuple(m.to) for m in mail.outbox} == {("known@example.org",), ("nobody@example.org",)}
    reset_mail = next(m for m in mail.outbox if m.to == ["known@example.org"])
    assert "/accounts/password/reset/key/" in reset_mail.body


def test_sign_up_answers_the_same_for_a_taken_and_a_new_email():
    factories.UserFactory(email="taken@example.org")
    form = {"password1": STRONG, "password2": STRONG}
    taken = Client().post("/accounts/signup/", {"email": "taken@example.org", **form})
    new = Client().post("/accounts/signup/", {"email": "fresh@example.org", **form})
    assert (taken.status_code, taken["Location"]) == (new.status_code, new["Location"])
    assert User.objects.filter(email="taken@example.org").count() == 1


def test_sign_up_refuses_weak_passwords():
    for weak in ["short1!", "password123", "12345678901", "weakling@example.org"]:
        response = Client().post(
            "/accounts/signup/",
            {"email": "weakling@example.org", "password1": weak, "password2": weak},
        )
        assert response.status_code == 200, weak
        assert not User.objects.filter(email="weakling@example.org").exists()


def test_participant_cannot_sign_in_before_verifying_the_email():
    client = Client()
    client.post(
        "/accounts/signup/",
        {"email": "new@example.org", "password1": STRONG, "password2": STRONG},
    )
    client.logout()
    response = _login(client, "new@example.org", STRONG)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session
    assert not EmailAddress.objects.get(email="new@example.org").verified


def test_failed_logins_are_rate_limited_in_the_shared_cache():
    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    user = factories.UserFactory(email="target@example.org")
    for _ in range(5):
        assert _login(Client(), user.email, "wrong-password-0").status_code == 200
    client = Client()
    blocked = _login(client, user.email, factories.DEFAULT_PASSWORD)
    assert blocked.status_code == 200  # the form again, with the rate-limit message
    assert "_auth_user_id" not in client.session
    # The counters live in Redis, where every web worker sees them; emptied, the login works.
    assert redis.Redis.from_url(settings.REDIS_URL).keys("*login_failed*")
    cache.clear()
    assert _login(client, user.email, factories.DEFAULT_PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_admin_login_goes_through_the_portal_sign_in():
    response = Client().get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_sign_in_and_failed_sign_in_are_audited_without_the_email():
    user = factories.UserFactory(email="audited@example.org")
    _login(Client(), user.email, "wrong-password-0")
    _login(Client(), user.email, factories.DEFAULT_PASSWORD)
    failed = AuditEvent.objects.get(action=Action.LOGIN_FAILED)
    assert failed.outcome == "failed"
    assert "audited@" not in str(failed.details) + failed.object_id + failed.reason
    login = AuditEvent.objects.get(action=Action.LOGIN)
    assert login.actor == user
    assert login.client_ip == "127.0.0.1"
    assert login.request_id


def _sign_in_with_totp(client: Client, user: User) -> None:
    response = _login(client, user.email, factories.DEFAULT_PASSWORD)
    assert response["Location"] == "/accounts/2fa/authenticate/"
    code = pyotp.TOTP(factories.TEST_TOTP_SECRET).now()
    response = client.post("/accounts/2fa/authenticate/", {"code": code})
    assert response.status_code == 302, response.content


def test_staff_with_totp_must_give_the_code_and_mfa_changes_are_audited():
    user = factories.staff_user(Role.PROGRAMME_MANAGER, mfa=True)
    client = Client()
    _sign_in_with_totp(client, user)
    assert client.get("/staff/").status_code == 200
    assert AuditEvent.objects.filter(action=Action.LOGIN, actor=user).exists()

    # Switching MFA off asks for the password again, and is audited.
    response = client.post("/accounts/2fa/totp/deactivate/")
    assert response.status_code == 302 and "/accounts/reauthenticate/" in response["Location"]
    client.post("/accounts/reauthenticate/", {"password": factories.DEFAULT_PASSWORD})
    response = client.post("/accounts/2fa/totp/deactivate/")
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    assert AuditEvent.objects.filter(action=Action.MFA_DEACTIVATED, actor=user).exists()
    # ... and a staff member without MFA is sent back to set it up.
    response = client.get("/staff/")
    assert response["Location"] == "/accounts/2fa/totp/activate/"


def test_staff_api_refuses_staff_without_mfa_with_json():
    user = factories.staff_user(Role.DATA_STEWARD)
    client = Client()
    client.force_login(user)
    response = client.get("/api/schema/")
    assert response.status_code == 403
    assert response.json()["code"] == "mfa_required"


def test_permission_denials_are_audited_and_look_like_a_missing_page():
    participant = factories.UserFactory()
    client = Client()
    client.force_login(participant)
    response = client.get("/staff/")
    assert response.status_code == 404
    denied = AuditEvent.objects.get(action=Action.PERMISSION_DENIED)
    assert denied.actor == participant
    assert denied.outcome == "denied"


def test_django_admin_sends_staff_without_mfa_to_set_it_up():
    admin = factories.staff_user(Role.ADMIN, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/totp/activate/"
    factories.add_totp(admin)
    assert client.get("/admin/").status_code == 200


def test_staff_can_sign_in_with_a_recovery_code_once():
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    user = factories.staff_user(Role.COORDINATOR, sites=[factories.SiteFactory()], mfa=True)  # type: ignore[list-item]
    code = RecoveryCodes.activate(user).get_unused_codes()[0]
    client = Client()
    assert _login(client, user.email, factories.DEFAULT_PASSWORD).status_code == 302
    assert client.post("/accounts/2fa/authenticate/", {"code": code}).status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)

    again = Client()
    _login(again, user.email, factories.DEFAULT_PASSWORD)
    assert again.post("/accounts/2fa/authenticate/", {"code": code}).status_code == 200
    assert "_auth_user_id" not in again.session
