"""Quality check of in-person consents by a second staff member.

A consent taken at a site (tablet or paper) is checked by someone other than the staff member who
recorded it and the investigator who countersigned it: signature present, date present, printed
name present, and the right version for the participant's language and age. A failed check voids the
consent with a new ledger event; the participant is then on the coordinator's worklist to be asked
again (see ``consent.selectors.worklist``).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from portal.audit import audit_record
from portal.models import User
from portal.roles import Role, has_role, site_ids_for

from ..models import ConsentEvent, ConsentQualityCheck, EventKind
from .changes import consent_void
from .events import participant_lock

ACTION_QC_RECORDED = "consent.quality_checked"


@transaction.atomic
def quality_check_record(
    *,
    event: ConsentEvent,
    by: User,
    signature_present: bool,
    date_present: bool,
    printed_name_present: bool,
    right_version: bool,
    note: str = "",
) -> ConsentQualityCheck:
    """Record the check; all four points must hold to pass, otherwise the consent is voided."""
    participant_lock(event.participant)
    event = ConsentEvent.objects.select_related("participant").get(pk=event.pk)
    if not event.is_in_person or event.kind not in (EventKind.GRANT, EventKind.RECONSENT):
        raise ValidationError(_("Only consents taken in person are quality-checked."))
    if by.pk in (event.staff_id, event.countersigned_by_id):
        raise ValidationError(
            _(
                "The check must be done by a second staff member, not by who recorded or "
                "countersigned this consent."
            )
        )
    if not has_role(by, Role.COORDINATOR, Role.ADMIN):
        raise ValidationError(_("Only site staff can check consents."))
    sites = site_ids_for(by)
    if sites is not None and event.participant.site_id not in sites:
        raise ValidationError(_("This participant is not at one of your sites."))
    if ConsentQualityCheck.objects.filter(event=event).exists():
        raise ValidationError(_("This consent has already been checked."))
    if ConsentEvent.objects.filter(voids=event).exists():
        raise ValidationError(_("This consent has been voided already."))
    passed = signature_present and date_present and printed_name_present and right_version
    if not passed and not note.strip():
        raise ValidationError(_("Say what is wrong, so the coordinator can put it right."))
    check = ConsentQualityCheck.objects.create(
        event=event,
        checked_by=by,
        signature_present=signature_present,
        date_present=date_present,
        printed_name_present=printed_name_present,
        right_version=right_version,
        passed=passed,
        note=note.strip()[:500],
    )
    if not passed:
        failed = [
            label
            for label, ok in (
                ("signature", signature_present),
                ("date", date_present),
                ("printed name", printed_name_present),
                ("version", right_version),
            )
            if not ok
        ]
        consent_void(event=event, by=by, reason=f"quality check failed: {', '.join(failed)}")
    audit_record(action=ACTION_QC_RECORDED, actor=by, obj=event, details={"passed": passed})
    return check
