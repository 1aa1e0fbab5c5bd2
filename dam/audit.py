"""The audit actions of the dam app, in one enum so that reports can rely on them.

Rows are written through ``portal.audit.audit_record``.
"""

from enum import StrEnum


class Action(StrEnum):
    SAMPLE_RECORDED = "sample.recorded"
    SAMPLE_NOTE_ADDED = "sample.note_added"
    SAMPLE_FATE_RECORDED = "sample.fate_recorded"
    MANIFEST_CREATED = "manifest.created"
    MANIFEST_SUBMITTED = "manifest.submitted"
    MANIFEST_CHECKED = "manifest.checked"
    REIDENTIFICATION_REQUESTED = "reidentification.requested"
    REIDENTIFICATION_APPROVED = "reidentification.approved"
    REIDENTIFICATION_REFUSED = "reidentification.refused"
    REIDENTIFICATION_REVEALED = "reidentification.revealed"
    DEAD_LETTER_RETRIED = "dam.dead_letter_retried"
