"""The audit actions of the enrollment app, in one enum so that reports can rely on them.

Rows are written through ``portal.audit.audit_record``; the portal's own actions (sign-in, MFA,
refused access, personal data viewed, staff accounts) are ``portal.audit.Action``.
"""

from enum import StrEnum


class Action(StrEnum):
    # Searches, duplicates, invitations, visits and imports.
    PARTICIPANT_SEARCHED = "participant.searched"
    PARTICIPANT_VIEWED = "participant.viewed"
    PARTICIPANT_ENROLLED = "participant.enrolled"
    DUPLICATE_RESOLVED = "participant.duplicate_resolved"
    INVITATION_ISSUED = "invitation.issued"
    INVITATION_CLAIMED = "invitation.claimed"
    INVITATION_CLAIM_FAILED = "invitation.claim_failed"
    VISIT_RECORDED = "visit.recorded"
    VISIT_CANCELLED = "visit.cancelled"
    SITE_CLOSURE_CHANGED = "site.closure_changed"
    REFERRALS_IMPORTED = "referrals.imported"
    PII_KEY_ROTATED = "pii.key_rotated"
    # Programme structure: programmes, phases, targets, sites, cohorts.
    PROGRAMME_CHANGED = "programme.changed"
    # The public information pages.
    INFORMATION_PAGE_REVISED = "information.revised"
