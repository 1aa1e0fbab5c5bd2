"""Re-identification: pseudonym -> participant, only with a stated reason and a second approver.

One data steward asks (``reidentification_request``), a *different* data steward approves or
refuses (``reidentification_decide``), and only then may the requester see who it is, once
(``reidentification_reveal``). Nobody decides their own request (checked here and by a database
constraint). Each step writes an audit row; the participant is never stored on the request, so no
list shows it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enrollment.models import Participant
from portal.audit import audit_record
from portal.models import User
from portal.roles import Role, has_role

from ..audit import Action
from ..models import PseudonymDomain, ReidentificationRequest
from ..pseudonyms import pseudonym_is_well_formed
from .pseudonyms import pseudonym_normalise, pseudonym_resolve

__all__ = [
    "reidentification_decide",
    "reidentification_request",
    "reidentification_reveal",
]

MIN_REASON = 20


def _steward(by: User) -> None:
    if not has_role(by, Role.DATA_STEWARD):
        raise PermissionDenied(_("Only data stewards may re-identify pseudonyms."))


@transaction.atomic
def reidentification_request(
    *,
    pseudonym: str,
    reason: str,
    by: User,
    domain: PseudonymDomain | str = PseudonymDomain.SUBJECT,
) -> ReidentificationRequest:
    """Ask who is behind ``pseudonym``, saying why. A second data steward must approve."""
    _steward(by)
    code = pseudonym_normalise(pseudonym)
    reason = reason.strip()
    errors: dict[str, list[str]] = {}
    if not pseudonym_is_well_formed(code):
        errors["pseudonym"] = [
            str(_("This is not a valid pseudonym: check it for a typing mistake."))
        ]
    elif pseudonym_resolve(code=code, domain=domain) is None:
        errors["pseudonym"] = [str(_("No participant has this pseudonym."))]
    if len(reason) < MIN_REASON:
        errors["reason"] = [
            str(
                _("State the reason for re-identification (at least %(n)d characters).")
                % {"n": MIN_REASON}
            )
        ]
    if errors:
        raise ValidationError(errors)
    request = ReidentificationRequest.objects.create(
        pseudonym=code, domain=PseudonymDomain(domain), reason=reason, requested_by=by
    )
    audit_record(
        action=Action.REIDENTIFICATION_REQUESTED,
        actor=by,
        obj=request,
        reason=reason,
        details={"pseudonym": code, "domain": str(request.domain)},
    )
    return request


def reidentification_decide(
    *, request: ReidentificationRequest, approve: bool, by: User, note: str = ""
) -> ReidentificationRequest:
    """Approve or refuse another steward's pending request."""
    _steward(by)
    if request.requested_by_id == by.pk:
        # Audited outside the decision's transaction, so that the refusal leaves its trace.
        audit_record(
            action=Action.REIDENTIFICATION_APPROVED if approve else Action.REIDENTIFICATION_REFUSED,
            actor=by,
            obj=request,
            outcome="denied",
            reason="own request",
        )
        raise PermissionDenied(_("A second data steward must decide; nobody decides their own."))
    with transaction.atomic():
        return _decide(request=request, approve=approve, by=by, note=note)


def _decide(
    *, request: ReidentificationRequest, approve: bool, by: User, note: str
) -> ReidentificationRequest:
    request = ReidentificationRequest.objects.select_for_update().get(pk=request.pk)
    if request.state != ReidentificationRequest.State.PENDING:
        raise ValidationError(_("This request has already been decided."))
    note = " ".join(note.split())[:255]
    if not approve and not note:
        raise ValidationError({"note": [str(_("Say why the request is refused."))]})
    request.state = (
        ReidentificationRequest.State.APPROVED if approve else ReidentificationRequest.State.REFUSED
    )
    request.decided_by = by
    request.decided_at = timezone.now()
    request.decision_note = note
    request.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    audit_record(
        action=Action.REIDENTIFICATION_APPROVED if approve else Action.REIDENTIFICATION_REFUSED,
        actor=by,
        obj=request,
        reason=note,
        details={"requested_by": request.requested_by_id},
    )
    return request


def reidentification_reveal(*, request: ReidentificationRequest, by: User) -> Participant:
    """Show the requester, once, who is behind the approved pseudonym."""
    _steward(by)
    if request.requested_by_id != by.pk:
        audit_record(
            action=Action.REIDENTIFICATION_REVEALED,
            actor=by,
            obj=request,
            outcome="denied",
            reason="not requester",
        )
        raise PermissionDenied(_("Only the steward who asked can see the answer."))
    with transaction.atomic():
        return _reveal(request=request, by=by)


def _reveal(*, request: ReidentificationRequest, by: User) -> Participant:
    request = ReidentificationRequest.objects.select_for_update().get(pk=request.pk)
    if request.state == ReidentificationRequest.State.REVEALED:
        raise ValidationError(_("This identity was already shown once; ask again if needed."))
    if request.state != ReidentificationRequest.State.APPROVED:
        raise ValidationError(_("This request has not been approved."))
    participant = pseudonym_resolve(code=request.pseudonym, domain=request.domain)
    if participant is None:  # pseudonyms are never deleted
        raise ValidationError(_("No participant has this pseudonym."))
    request.state = ReidentificationRequest.State.REVEALED
    request.revealed_at = timezone.now()
    request.save(update_fields=["state", "revealed_at"])
    audit_record(
        action=Action.REIDENTIFICATION_REVEALED,
        actor=by,
        obj=request,
        reason=request.reason,
        details={"participant_id": participant.pk},
    )
    return participant
