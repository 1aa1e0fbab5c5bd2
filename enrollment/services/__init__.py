"""Enrollment business actions, one module per topic.

``people``, ``screening``, ``visits``, ``invitations``, ``imports`` (referral files),
``programmes`` (programmes, phases, targets), ``funnel`` (every status change and the
pre-aggregated counts moving with it) and ``aggregates`` (rebuilding those counts from the
transition log). Views, API, admin, tasks and commands all call these; each is keyword-only,
typed and atomic. Personal data goes through ``enrollment.vault``.
"""

from .aggregates import funnel_aggregates_rebuild
from .closures import site_closure_add, site_closure_remove, visits_booked_in_closure
from .funnel import (
    IllegalTransition,
    participant_record_created,
    participant_site_change,
    participant_transition,
    participants_record_created_bulk,
    status_changed,
)
from .imports import ImportResult, RowError, referrals_import
from .invitations import InvitationClaimRefused, invitation_claim, invitation_issue
from .people import (
    DuplicateRegistration,
    participant_code_new,
    participant_enroll_patient,
    participant_profile_update,
    participant_register_volunteer,
)
from .programmes import phase_targets_set, programme_object_save
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
    "IllegalTransition",
    "ImportResult",
    "InvitationClaimRefused",
    "RowError",
    "VisitRefused",
    "bookable_days",
    "funnel_aggregates_rebuild",
    "invitation_claim",
    "invitation_issue",
    "participant_code_new",
    "participant_enroll_patient",
    "participant_profile_update",
    "participant_record_created",
    "participant_register_volunteer",
    "participant_screen",
    "participant_site_change",
    "participant_transition",
    "participants_record_created_bulk",
    "phase_targets_set",
    "programme_object_save",
    "referrals_import",
    "screening_questions_for",
    "site_closure_add",
    "site_closure_remove",
    "status_changed",
    "visit_book",
    "visit_cancel",
    "visit_outcome_record",
    "visit_reminder_send",
    "visit_reschedule",
    "visits_booked_in_closure",
]
