"""Consent business actions. Views, API, admin, tasks and commands call these, nothing else writes.

- versions: ``version_create``, ``version_update_draft``, ``version_approve`` (draft -> approved);
  activation (approved -> active) is ``activation.version_activate``, re-exported here.
- signing: ``consent_record`` (grant / re-consent, web or in person).
- changes: ``consent_update``, ``consent_withdraw``, ``consent_void``.
- quality: ``quality_check_record`` (second-person check of in-person consents).
- receipts: ``receipt_issue`` (PDF after the commit, stored and mailed), ``receipt_request``
  (queue it again when a page finds none stored).
"""

from .activation import version_activate
from .changes import consent_update, consent_void, consent_withdraw
from .quality import quality_check_record
from .receipts import receipt_issue, receipt_render, receipt_request
from .signing import InPerson, Signature, choices_check, comprehension_check, consent_record
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
    "choices_check",
    "comprehension_check",
    "consent_record",
    "consent_update",
    "consent_void",
    "consent_withdraw",
    "markdown_render",
    "quality_check_record",
    "receipt_issue",
    "receipt_render",
    "receipt_request",
    "version_activate",
    "version_approve",
    "version_create",
    "version_update_draft",
]
