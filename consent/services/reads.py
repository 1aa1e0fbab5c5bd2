"""Staff reads of consent leave a trace: one audit row per read, ids only.

A page or API call that shows staff one participant's consent (state, history, FHIR, the site
pages) writes ``consent.viewed`` naming the participant by id; a list or a bulk check writes one
``consent.checked`` row with how many participants it answered for and, for a check, the purpose.
Nothing personal goes in the row (``portal.audit`` refuses it).
"""

from __future__ import annotations

from enrollment.models import Participant
from portal.audit import audit_record
from portal.models import User

from ..audit import Action

__all__ = ["consent_read_record"]


def consent_read_record(
    *,
    by: User | None,
    what: str,
    participant: Participant | None = None,
    count: int | None = None,
    purpose: str = "",
) -> None:
    """One audit row for one staff read: of ``participant``, or of ``count`` participants."""
    if participant is not None:
        audit_record(
            action=Action.CONSENT_VIEWED,
            actor=by,
            obj=participant,
            details={"what": what},
        )
        return
    details: dict[str, object] = {"what": what, "count": count or 0}
    if purpose:
        details["purpose"] = purpose
    audit_record(action=Action.CONSENT_CHECKED, actor=by, details=details)
