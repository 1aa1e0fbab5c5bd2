"""Short-lived secrets sealed with the vault's key, bound to the row they belong to.

An invitation code is shown once on the letter and sent once by e-mail and text; only its digest is
stored. The sending task needs the code, so the service seals it (AES-GCM, bound to the invitation's
id) and the task, which takes ids, opens it: the broker never holds the code in the clear.
"""

from __future__ import annotations

from . import _crypto


def secret_seal(value: str, *, table: str, row_id: int, field: str) -> str:
    return _crypto.encrypt(value, aad=_crypto.associated_data(table, row_id, field))


def secret_open(token: str, *, table: str, row_id: int, field: str) -> str:
    return _crypto.decrypt(token, aad=_crypto.associated_data(table, row_id, field))
