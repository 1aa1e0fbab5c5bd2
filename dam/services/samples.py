"""Recording collected samples."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enrollment.models import Participant, ParticipantStatus
from enrollment.services.funnel import participant_transition
from portal.audit import audit_record
from portal.models import User
from portal.roles import site_ids_for

from ..audit import Action
from ..models import Sample, SampleType
from ..storage_consent import storage_refusals

__all__ = ["barcode_format_message", "barcode_is_well_formed", "sample_record"]


def barcode_is_well_formed(barcode: str) -> bool:
    """Does ``barcode`` (already trimmed and upper-cased) match the programme's pattern?"""
    return re.fullmatch(settings.SAMPLE_BARCODE_PATTERN, barcode) is not None


def barcode_format_message() -> str:
    return str(
        _("This is not a barcode of the programme; a tube's barcode looks like %(example)s.")
        % {"example": settings.SAMPLE_BARCODE_EXAMPLE}
    )


# A sample may be recorded for these statuses; the first one moves the participant on.
_ACCEPTS_SAMPLES = {
    ParticipantStatus.CONSENTED,
    ParticipantStatus.SAMPLE_COLLECTED,
    ParticipantStatus.IN_DAM,
}


@transaction.atomic
def sample_record(
    *,
    participant: Participant,
    barcode: str,
    sample_type: SampleType | str,
    collected_at: dt.datetime,
    volume_ml: Decimal,
    by: User,
) -> Sample:
    """Record one collected tube for a consented participant of one of ``by``'s sites.

    The barcode must match ``settings.SAMPLE_BARCODE_PATTERN`` and be new. Consent is asked at the
    time of recording (which is the time of collection at the site): the participant's consent must
    allow sample storage (``dam.storage_consent``); one who declined storage or withdrew gets a
    plain refusal whatever their enrollment status says.
    The participant's first sample moves them to "sample collected" through the funnel, in the same
    transaction; later tubes (another type, a second visit) are recorded without a status change.
    """
    allowed_sites = site_ids_for(by)
    site_id = participant.site_id
    if site_id is None or (allowed_sites is not None and site_id not in allowed_sites):
        raise PermissionDenied(_("You can record samples only for participants of your sites."))
    barcode = barcode.strip().upper()
    errors: dict[str, list[str]] = {}
    if not barcode:
        errors["barcode"] = [str(_("Scan or type the tube's barcode."))]
    elif not barcode_is_well_formed(barcode):
        errors["barcode"] = [barcode_format_message()]
    elif Sample.objects.filter(barcode=barcode).exists():
        errors["barcode"] = [str(_("A sample with this barcode is already recorded."))]
    if sample_type not in SampleType.values:
        errors["sample_type"] = [str(_("Choose a sample type from the list."))]
    if collected_at > timezone.now() + dt.timedelta(minutes=5):
        errors["collected_at"] = [str(_("The collection time cannot be in the future."))]
    if volume_ml <= 0 or volume_ml >= Decimal("10000"):
        errors["volume_ml"] = [str(_("Enter a volume in millilitres greater than 0."))]
    if errors:
        raise ValidationError(errors)

    locked = Participant.objects.select_for_update().get(pk=participant.pk)
    if locked.status == ParticipantStatus.WITHDRAWN:
        raise ValidationError(
            _("This participant has withdrawn; no sample can be recorded for them.")
        )
    if locked.status not in _ACCEPTS_SAMPLES:
        raise ValidationError(
            _(
                "This participant has not consented yet (status: “%(status)s”). "
                "Record their consent before collecting samples."
            )
            % {"status": ParticipantStatus(locked.status).label}
        )
    refusal = storage_refusals([locked]).get(locked.pk)
    if refusal is not None:
        raise ValidationError(
            _("No sample can be recorded for this participant: %(reason)s")
            % {"reason": refusal.message}
        )
    try:
        with transaction.atomic():
            sample = Sample.objects.create(
                barcode=barcode,
                participant=locked,
                sample_type=sample_type,
                collected_at=collected_at,
                volume_ml=volume_ml,
                site_id=site_id,
                recorded_by=by,
            )
    except IntegrityError as exc:  # a concurrent recording of the same barcode
        raise ValidationError(
            {"barcode": [str(_("A sample with this barcode is already recorded."))]}
        ) from exc
    if locked.status == ParticipantStatus.CONSENTED:
        participant_transition(
            participant=locked,
            to_status=ParticipantStatus.SAMPLE_COLLECTED,
            actor=by,
            # The step happens when the tube was drawn, but never before the consent it follows.
            at=max(collected_at, locked.status_changed_at),
            reason=f"sample {barcode}",
        )
        participant.status = locked.status
    audit_record(
        action=Action.SAMPLE_RECORDED,
        actor=by,
        obj=sample,
        details={"participant_id": locked.pk, "sample_type": sample.sample_type},
    )
    return sample
