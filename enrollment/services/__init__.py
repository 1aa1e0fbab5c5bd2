"""Enrollment business actions (people, screening, visits, invitations, imports).

Views, API, admin, tasks and commands all call these; each is keyword-only, typed and atomic.
Status changes go through ``enrollment.funnel``; personal data through ``enrollment.vault``.
"""

from .imports import ImportResult, RowError, referrals_import
from .invitations import InvitationClaimRefused, invitation_claim, invitation_issue
from .people import (
    DuplicateRegistration,
    participant_code_new,
    participant_enroll_patient,
    participant_profile_update,
    participant_register_volunteer,
)
from .screening import participant_screen, screening_questions_for
from .visits import (
    VisitRefused,
    bookable_days,
    visit_book,
    visit_cancel,
    visit_outcome_record,
    visit_reminder_send,
    visit_reschedule,
)

__all__ = [
    "DuplicateRegistration",
    "ImportResult",
    "InvitationClaimRefused",
    "RowError",
    "VisitRefused",
    "bookable_days",
    "invitation_claim",
    "invitation_issue",
    "participant_code_new",
    "participant_enroll_patient",
    "participant_profile_update",
    "participant_register_volunteer",
    "participant_screen",
    "referrals_import",
    "screening_questions_for",
    "visit_book",
    "visit_cancel",
    "visit_outcome_record",
    "visit_reminder_send",
    "visit_reschedule",
]
