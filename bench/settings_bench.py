"""Settings for the consent HTTP benchmark: the portal's own settings plus one trivial view.

The trivial view (``/bench/trivial``) goes through the same middleware, session and user loading
as every page, so "consent submission / trivial view" compares the work of consenting alone.
"""

import os

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls_bench"

# The signing form checks the password, so the hasher is part of what is measured: production's
# (the portal's settings outside tests) unless BENCH_PASSWORD_HASHER=test asks for the tests' fast
# one, to see the rest of the signing path alone. bench/consent_bench.py hashes with the same.
# BENCH_PASSWORD_HASHER=pbkdf2 measures Django's default hasher for comparison.
_HASHER = os.environ.get("BENCH_PASSWORD_HASHER", "production")
if _HASHER == "production":
    PASSWORD_HASHERS = PRODUCTION_PASSWORD_HASHERS  # noqa: F405
elif _HASHER == "pbkdf2":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
