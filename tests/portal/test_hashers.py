"""The production password hasher: Argon2id at OWASP's minimum cost, and hashes made before
(Django's PBKDF2) still verify and are re-made with it."""

from __future__ import annotations

import pytest
from django.conf import settings as project_settings
from django.contrib.auth.hashers import check_password, identify_hasher, make_password

from portal.hashers import Argon2idPasswordHasher

PASSWORD = "a-long-and-unusual-passphrase-77"


@pytest.fixture
def production_hashers(settings):
    settings.PASSWORD_HASHERS = project_settings.PRODUCTION_PASSWORD_HASHERS


def test_new_passwords_are_argon2id_at_owasp_cost(production_hashers):
    encoded = make_password(PASSWORD)
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")
    assert isinstance(identify_hasher(encoded), Argon2idPasswordHasher)
    assert check_password(PASSWORD, encoded) and not check_password("wrong-guess-123", encoded)


def test_an_earlier_pbkdf2_hash_verifies_and_is_remade(production_hashers):
    old = make_password(PASSWORD, hasher="pbkdf2_sha256")
    remade: list[str] = []
    assert check_password(PASSWORD, old, setter=lambda raw: remade.append(make_password(raw)))
    assert remade and remade[0].startswith("argon2$argon2id$")
