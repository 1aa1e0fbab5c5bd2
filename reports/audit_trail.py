"""The audit trail of one participant, for ethics reviewers: the whole consent history and every
staff access to the participant's record. Opening it needs a reason, and is itself audited.

Dam pseudonyms are not looked up yet: the dam's pseudonym service is not part of the portal so
far; the trail is found by participant code.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from consent.models import ConsentEvent
from enrollment.models import Participant
from portal.audit import audit_record
from portal.models import AuditEvent, User

__all__ = ["ACTION_TRAIL_VIEWED", "AuditTrail", "audit_trail_open"]

ACTION_TRAIL_VIEWED = "report.audit_trail_viewed"
PARTICIPANT_TYPE = Participant._meta.label_lower
EVENT_TYPE = ConsentEvent._meta.label_lower


@dataclass
class AuditTrail:
    participant: Participant
    events: list[ConsentEvent]
    accesses: list[AuditEvent]


@transaction.atomic
def audit_trail_open(*, participant: Participant, by: User, reason: str) -> AuditTrail:
    """The trail of ``participant``; the reviewer's reason is recorded first (so the trail
    shows this very look as well)."""
    if not reason.strip():
        raise ValueError("a reason is required")
    audit_record(action=ACTION_TRAIL_VIEWED, actor=by, obj=participant, reason=reason.strip())
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
