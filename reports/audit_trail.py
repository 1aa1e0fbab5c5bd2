"""The audit trail of one participant, for ethics reviewers: the whole consent history and every
staff access to the participant's record. Opening it needs a reason, and is itself audited.

The trail is found by participant code or by dam pseudonym (``audit_trail_find``: a mistyped
pseudonym is refused by its check character before any lookup); the look is audited either way,
with how the participant was found.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from consent.models import ConsentEvent
from dam.services.pseudonyms import pseudonym_resolve
from enrollment.models import Participant
from portal.audit import audit_record
from portal.models import AuditEvent, User
from portal.roles import get_scoped_or_404

__all__ = [
    "ACTION_TRAIL_VIEWED",
    "FIND_BY_CODE",
    "FIND_BY_PSEUDONYM",
    "AuditTrail",
    "audit_trail_find",
    "audit_trail_open",
]

ACTION_TRAIL_VIEWED = "report.audit_trail_viewed"
PARTICIPANT_TYPE = Participant._meta.label_lower
EVENT_TYPE = ConsentEvent._meta.label_lower
FIND_BY_CODE = "code"
FIND_BY_PSEUDONYM = "pseudonym"


@dataclass
class AuditTrail:
    participant: Participant
    events: list[ConsentEvent]
    accesses: list[AuditEvent]


def audit_trail_find(*, by: User, find_by: str, value: str) -> Participant:
    """The participant a reviewer asks for, by participant code or by dam pseudonym, within the
    reviewer's sites. A pseudonym that is not well formed raises ``ValidationError`` (its check
    character catches a mistyped one before any lookup); anyone not found, or outside the
    reviewer's sites, is the same audited 404 whichever way they were looked for."""
    participants = Participant.objects.all()
    if find_by == FIND_BY_PSEUDONYM:
        found = pseudonym_resolve(code=value)
        # The denial names no pseudonym: an id that cannot exist when no one has the code.
        return get_scoped_or_404(by, participants, pk=found.pk if found is not None else 0)
    if find_by != FIND_BY_CODE:
        raise ValidationError("unknown way to find a participant")
    return get_scoped_or_404(by, participants, code=value)


@transaction.atomic
def audit_trail_open(
    *, participant: Participant, by: User, reason: str, found_by: str = FIND_BY_CODE
) -> AuditTrail:
    """The trail of ``participant``; the reviewer's reason is recorded first (so the trail
    shows this very look as well), with how the participant was found."""
    if not reason.strip():
        raise ValueError("a reason is required")
    audit_record(
        action=ACTION_TRAIL_VIEWED,
        actor=by,
        obj=participant,
        reason=reason.strip(),
        details={"found_by": found_by},
    )
    events = list(
        ConsentEvent.objects.filter(participant=participant)
        .select_related("version", "staff")
        .order_by("sequence")
    )
    event_ids = [str(e.pk) for e in events]
    accesses = list(
        AuditEvent.objects.filter(
            Q(object_type=PARTICIPANT_TYPE, object_id__in=[str(participant.pk), participant.code])
            | Q(object_type=EVENT_TYPE, object_id__in=event_ids)
        )
        .select_related("actor")
        .order_by("at", "id")
    )
    return AuditTrail(participant=participant, events=events, accesses=accesses)
