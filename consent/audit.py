"""The audit actions of the consent app, in one enum so that reports can rely on them.

Rows are written through ``portal.audit.audit_record``; the portal's own actions (sign-in, MFA,
refused access, personal data viewed) are ``portal.audit.Action``.
"""

from enum import StrEnum


class Action(StrEnum):
    # Consent forms and versions: draft -> approved -> active.
    VERSION_CREATED = "consent.version_created"
    VERSION_UPDATED = "consent.version_updated"
    VERSION_APPROVED = "consent.version_approved"
    VERSION_ACTIVATED = "consent.version_activated"
    # The ledger: one action per kind of event, the second person's check, a verification run.
    CONSENT_RECORDED = "consent.recorded"
    CONSENT_UPDATED = "consent.updated"
    CONSENT_WITHDRAWN = "consent.withdrawn"
    CONSENT_VOIDED = "consent.voided"
    QUALITY_CHECKED = "consent.quality_checked"
    ARTIFACT_VIEWED = "consent.artifact_viewed"
    LEDGER_VERIFIED = "consent.ledger_verified"
    # Staff reads: one participant's consent, or a list or bulk check (with its count).
    CONSENT_VIEWED = "consent.viewed"
    CONSENT_CHECKED = "consent.checked"
    # Re-consent campaigns and participants who came of age.
    CAMPAIGN_STARTED = "consent.campaign_started"
    CAMPAIGN_PAUSED = "consent.campaign_paused"
    CAMPAIGN_RESUMED = "consent.campaign_resumed"
    CAMPAIGN_CLOSED = "consent.campaign_closed"
    OWN_CONSENT_DUE = "consent.own_consent_due"
