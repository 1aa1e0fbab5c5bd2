"""The personal-data vault: the one way in and out of identifying data.

``personal_data`` seals and opens ``PersonalData`` rows, finds participants through the blind
indexes and flags duplicates (see its docstring); ``sealed`` seals short-lived secrets (an
invitation code on its way to the task that sends it). ``_crypto`` (AES-GCM per field, HMAC blind
indexes, the keyring) is private to this package: everything else, inside enrollment or outside,
goes through the names exported here. import-linter holds that in ``make lint``.
"""

from ._crypto import (
    VaultError,
    keyring,
    normalise_email,
    normalise_name,
    normalise_phone,
    phone_for_display,
)
from .personal_data import (
    TABLE,
    Profile,
    duplicate_flag_resolve,
    duplicate_flags_record,
    duplicates_of,
    name_matches,
    participant_find,
    personal_data_build,
    personal_data_columns,
    personal_data_read,
    personal_data_rotate_batch,
    personal_data_write,
    profile_decrypt,
    profile_for_participant,
    profile_name_matches,
)
from .sealed import secret_open, secret_seal

__all__ = [
    "TABLE",
    "Profile",
    "VaultError",
    "duplicate_flag_resolve",
    "duplicate_flags_record",
    "duplicates_of",
    "keyring",
    "name_matches",
    "normalise_email",
    "normalise_name",
    "normalise_phone",
    "participant_find",
    "personal_data_build",
    "personal_data_columns",
    "personal_data_read",
    "personal_data_rotate_batch",
    "personal_data_write",
    "phone_for_display",
    "profile_decrypt",
    "profile_for_participant",
    "profile_name_matches",
    "secret_open",
    "secret_seal",
]
