"""Consent business actions. Views, API, admin, tasks and commands call these, nothing else writes.

- versions: ``version_create``, ``version_update_draft``, ``version_approve`` (draft -> approved).
- activation: ``version_activate`` (approved -> active; marks who must re-consent).
- signing: ``consent_record`` (grant / re-consent, web or in person).
- changes: ``consent_update``, ``consent_withdraw``, ``consent_void``.
- events: appending one event to a participant's chain under their row lock (used by the above).
- quality: ``quality_check_record`` (second-person check of in-person consents).
- receipts: ``receipt_issue`` (PDF after the commit, stored and mailed), ``receipt_request``
  (queue it again when a page finds none stored).
- artifacts: drawn signatures, scanned paper forms and text notes (a witness's name, "other: ..."),
  checked and stored encrypted with their hashes.
- campaigns: re-consent campaigns (start, send in rate-limited batches, remind, pause, close).
- coming_of_age: participants enrolled as minors who turned 19, asked for their own consent.
- verification: recorded runs of the ledger verification.

The names most callers need are re-exported here; campaigns, coming of age and verification are
imported from their modules.
"""

from .activation import version_activate
from .changes import consent_update, consent_void, consent_withdraw
from .events import participant_lock_of_account
from .quality import quality_check_record
from .receipts import receipt_issue, receipt_render, receipt_request
from .signing import (
    InPerson,
    Signature,
    Witness,
    choices_check,
    comprehension_check,
    consent_record,
)
from .versions import (
    ItemSpec,
    QuestionSpec,
    markdown_render,
    version_approve,
    version_create,
    version_update_draft,
)

__all__ = [
    "InPerson",
    "ItemSpec",
    "QuestionSpec",
    "Signature",
    "Witness",
    "choices_check",
    "comprehension_check",
    "consent_record",
    "consent_update",
    "consent_void",
    "consent_withdraw",
    "markdown_render",
    "participant_lock_of_account",
    "quality_check_record",
    "receipt_issue",
    "receipt_render",
    "receipt_request",
    "version_activate",
    "version_approve",
    "version_create",
    "version_update_draft",
]
