"""The password hasher: Argon2id at the parameters OWASP gives as its minimum (19 MiB of memory,
2 passes, 1 lane).

Why not Django's default (PBKDF2-SHA256, 1,000,000 iterations): the signing form checks the
password, so every signature pays for one hash, and a campaign brings signatures in bursts. On
the programme's two-core machines PBKDF2 at that count costs about 0.7 s of CPU per check, and
Argon2id at these parameters about 0.06 s (bench/results.md). OWASP lists Argon2id at these
parameters and PBKDF2-SHA256 at 600,000 iterations as equally acceptable; Argon2id is also
memory-hard, which PBKDF2 is not, so guessing on graphics cards gains far less. Django supports
it (``Argon2PasswordHasher``, with argon2-cffi) and recommends it; only the cost parameters are
ours. Hashes made with other hashers (PBKDF2 from before) still verify, and are re-made with this
one at the person's next sign-in.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idPasswordHasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
