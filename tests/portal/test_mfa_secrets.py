"""Staff TOTP secrets are sealed with the vault's keys and never shown by the admin."""

from __future__ import annotations

import base64
import io

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from enrollment.vault.mfa import mfa_secret_open
from portal.roles import Role
from tests.factories import DEFAULT_PASSWORD, TEST_TOTP_SECRET, staff_user

pytestmark = pytest.mark.django_db


def test_totp_secret_is_stored_sealed_and_still_verifies():
    user = staff_user(Role.COORDINATOR, mfa=True)
    row = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    stored = row.data["secret"]
    assert TEST_TOTP_SECRET not in str(row.data)
    assert mfa_secret_open(stored) == TEST_TOTP_SECRET
    from allauth.mfa.totp.internal.auth import TOTP

    assert TOTP(row).validate_code(pyotp.TOTP(TEST_TOTP_SECRET).now())


def test_the_admin_never_shows_a_secret():
    user = staff_user(Role.COORDINATOR, mfa=True)
    row = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    admin = staff_user(Role.ADMIN, mfa=True, is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    for url in (
        reverse("admin:mfa_authenticator_changelist"),
        reverse("admin:mfa_authenticator_change", args=[row.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200
        page = response.content.decode()
        assert row.data["secret"] not in page and TEST_TOTP_SECRET not in page


OLD_KEY = base64.b64encode(b"o" * 32).decode()
NEW_KEY = base64.b64encode(b"n" * 32).decode()


def test_rotate_pii_key_re_seals_totp_secrets_so_staff_still_sign_in_after_the_old_key_goes(
    settings,
):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    settings.PII_KEYS = f"old:{OLD_KEY}"
    user = staff_user(Role.COORDINATOR, mfa=True)
    RecoveryCodes.activate(user)
    rows = Authenticator.objects.filter(user=user)
    assert {row.type for row in rows} == {
        Authenticator.Type.TOTP,
        Authenticator.Type.RECOVERY_CODES,
    }
    sealed_before = {row.pk: dict(row.data) for row in rows}
    assert all(
        value.startswith("old:")
        for data in sealed_before.values()
        for key, value in data.items()
        if key in ("secret", "seed")
    )

    settings.PII_KEYS = f"new:{NEW_KEY},old:{OLD_KEY}"
    call_command("rotate_pii_key", batch_size=1, stdout=io.StringIO())

    settings.PII_KEYS = f"new:{NEW_KEY}"  # the old key is retired
    for row in Authenticator.objects.filter(user=user):
        for key in ("secret", "seed"):
            if key in row.data:
                assert row.data[key].startswith("new:")
                assert row.data[key] != sealed_before[row.pk][key]
    assert (
        mfa_secret_open(
            Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP).data["secret"]
        )
        == TEST_TOTP_SECRET
    )

    client = Client()
    response = client.post("/accounts/login/", {"login": user.email, "password": DEFAULT_PASSWORD})
    assert response["Location"] == "/accounts/2fa/authenticate/"
    response = client.post(
        "/accounts/2fa/authenticate/", {"code": pyotp.TOTP(TEST_TOTP_SECRET).now()}
    )
    assert response.status_code == 302, response.content
    assert response["Location"] != "/accounts/2fa/authenticate/"
    assert client.get("/accounts/2fa/").status_code == 200


def test_rotate_pii_key_leaves_totp_secrets_already_under_the_new_key_alone(settings):
    settings.PII_KEYS = f"new:{NEW_KEY},old:{OLD_KEY}"
    user = staff_user(Role.COORDINATOR, mfa=True)
    row = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    sealed = row.data["secret"]
    out = io.StringIO()
    call_command("rotate_pii_key", stdout=out)
    row.refresh_from_db()
    assert row.data["secret"] == sealed
    assert "0 two-factor secrets" in out.getvalue()
