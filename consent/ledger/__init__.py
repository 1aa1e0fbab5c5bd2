"""The consent ledger's hash chain (``chain``) and its verification (``verification``).

Private to the consent app: other apps read consent through its selectors and services. The public
names are re-exported here, so ``from consent.ledger import event_hash`` and
``from consent.ledger import ledger_verify`` keep working whichever module holds them.
"""

from .chain import (
    FORMAT_2,
    FORMAT_2_FIELDS,
    FORMAT_VERSION,
    HASHED_FIELDS,
    TIME_FIELDS,
    canonical_document,
    canonical_json,
    chain_head_and_now,
    database_now,
    event_format,
    event_hash,
    format_time,
    verification_code,
)
from .verification import BrokenEvent, VerifyResult, ledger_verify

__all__ = [
    "FORMAT_2",
    "FORMAT_2_FIELDS",
    "FORMAT_VERSION",
    "HASHED_FIELDS",
    "TIME_FIELDS",
    "BrokenEvent",
    "VerifyResult",
    "canonical_document",
    "canonical_json",
    "chain_head_and_now",
    "database_now",
    "event_format",
    "event_hash",
    "format_time",
    "ledger_verify",
    "verification_code",
]
