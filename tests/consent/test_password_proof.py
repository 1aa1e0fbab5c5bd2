"""The password on the signing form is checked against the proof that signing in left in the
session, without hashing again; anything else takes the hasher (and its rate limit)."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.contrib.sessions.backends.db import SessionStore
from django.urls import reverse

from consent.models import ConsentEvent
from portal.password_proof import SESSION_KEY
from tests.consent import signing_builders as ca
from tests.consent.signing_builders import sign_data
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-brand-new-passphrase-4821"


@pytest.fixture
def hasher_checks(monkeypatch):
    """Every password the hasher verifies (the tests' hasher is MD5, see tests/conftest.py)."""
    checked: list[str] = []
    verify = MD5PasswordHasher.verify

    def counting(self, password, encoded):
        checked.append(password)
        return verify(self, password, encoded)

    monkeypatch.setattr(MD5PasswordHasher, "verify", counting)
    return checked


@pytest.fixture
def volunteer(db):
    """An eligible participant with an account, not signed in yet."""
    user = UserFactory(email="haneul@example.org")
    participant = ca.eligible_participant(email="haneul@example.org")
    participant.user = user
    participant.save(update_fields=["user"])
    return participant


def _sign_in(client, password=DEFAULT_PASSWORD):
    response = client.post(
        "/accounts/login/", {"login": "haneul@example.org", "password": password}
    )
    assert response.status_code == 302, response.content[:500]


def test_signing_in_leaves_a_proof_and_the_signing_form_does_not_hash_again(
    client, version, volunteer, hasher_checks
):
    _sign_in(client)
    assert hasher_checks == [DEFAULT_PASSWORD]  # the sign-in itself
    response = client.post(reverse("consent:sign"), sign_data(version))
    assert response.status_code == 302 and response["Location"] == reverse("consent:mine")
    assert ConsentEvent.objects.filter(participant=volunteer).count() == 1
    assert hasher_checks == [DEFAULT_PASSWORD]  # nothing more for the signature


def test_a_wrong_password_is_still_checked_by_the_hasher_and_refused(
    client, version, volunteer, hasher_checks
):
    _sign_in(client)
    response = client.post(reverse("consent:sign"), sign_data(version, password="not-mine-at-all"))
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["password"]
    assert hasher_checks == [DEFAULT_PASSWORD, "not-mine-at-all"]
    assert not ConsentEvent.objects.exists()
    # The right one still signs, from the proof.
    assert client.post(reverse("consent:sign"), sign_data(version)).status_code == 302
    assert hasher_checks == [DEFAULT_PASSWORD, "not-mine-at-all"]


def test_wrong_passwords_count_against_the_limit_even_with_a_proof(
    client, version, volunteer, settings
):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "reauthenticate": "2/m/user"}
    _sign_in(client)
    for _ in range(2):
        response = client.post(reverse("consent:sign"), sign_data(version, password="guess-1234"))
        assert "비밀번호가 맞지 않습니다" in response.content.decode()
    response = client.post(reverse("consent:sign"), sign_data(version, password="guess-5678"))
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["password"]
    assert "비밀번호가 맞지 않습니다" not in response.content.decode()
    assert not ConsentEvent.objects.exists()


def test_without_a_proof_the_first_signature_is_hashed_and_leaves_one(
    client, version, volunteer, hasher_checks
):
    client.force_login(volunteer.user)  # a session that never saw the password
    assert client.post(reverse("consent:sign"), sign_data(version)).status_code == 302
    assert hasher_checks == [DEFAULT_PASSWORD]
    assert client.session.get(SESSION_KEY)


def test_after_a_password_change_only_the_new_password_confirms(
    client, version, volunteer, hasher_checks
):
    _sign_in(client)
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": DEFAULT_PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.content[:500]
    checks_before = len(hasher_checks)
    refused = client.post(reverse("consent:sign"), sign_data(version))  # the old password
    assert refused.status_code == 400
    assert list(refused.context["form"].errors) == ["password"]
    assert hasher_checks[checks_before:] == [DEFAULT_PASSWORD]  # the old proof no longer holds
    signed = client.post(reverse("consent:sign"), sign_data(version, password=NEW_PASSWORD))
    assert signed.status_code == 302
    assert ConsentEvent.objects.filter(participant=volunteer).count() == 1


def test_the_proof_is_neither_the_password_nor_in_the_cookie(client, version, volunteer):
    _sign_in(client)
    session_key = client.cookies["sessionid"].value
    stored = SessionStore(session_key=session_key).load()
    proof = stored[SESSION_KEY]
    assert len(proof) == 64 and DEFAULT_PASSWORD not in proof
    assert all(DEFAULT_PASSWORD not in str(value) for value in stored.values())
    assert all(DEFAULT_PASSWORD not in morsel.value for morsel in client.cookies.values())
    assert all(proof not in morsel.value for morsel in client.cookies.values())


def test_another_accounts_proof_does_not_confirm(client, version, volunteer, hasher_checks):
    """A proof is bound to the account: copied into another person's session it proves nothing."""
    UserFactory(email="someone.else@example.org")
    other_client = type(client)()
    response = other_client.post(
        "/accounts/login/", {"login": "someone.else@example.org", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    foreign_proof = other_client.session[SESSION_KEY]
    client.force_login(volunteer.user)
    session = client.session
    session[SESSION_KEY] = foreign_proof
    session.save()
    hasher_checks.clear()
    assert client.post(reverse("consent:sign"), sign_data(version)).status_code == 302
    assert hasher_checks == [DEFAULT_PASSWORD]  # checked by the hasher, not by the copied proof
