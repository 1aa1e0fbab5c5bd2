"""Staff TOTP secrets are sealed with the vault's keys and never shown by the admin."""

from __future__ import annotations

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from django.test import Client
from django.urls import reverse

from enrollment.vault.mfa import mfa_secret_open
from portal.roles import Role
from tests.factories import TEST_TOTP_SECRET, staff_user

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
