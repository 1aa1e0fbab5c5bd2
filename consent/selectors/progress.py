"""Where a participant's consent stands, for the steps on enrollment's "My participation" page
(registered with ``enrollment.selectors.journey.consent_progress_register``)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from enrollment.models import Participant
from enrollment.selectors.journey import ConsentProgress

from ..models import ConsentEvent, EventKind, StateStatus
from .records import consent_state_of
from .standing import can_take_part_again, withdrawal_status_label

__all__ = ["consent_progress"]


def _receipt_url(participant: Participant) -> str:
    """The receipt of the latest signature that counts (not voided)."""
    voided = ConsentEvent.objects.filter(participant_id=participant.pk, kind=EventKind.VOID)
    latest = (
        ConsentEvent.objects.filter(
            participant_id=participant.pk, kind__in=(EventKind.GRANT, EventKind.RECONSENT)
        )
        .exclude(pk__in=voided.values("voids_id"))
        .order_by("-sequence")
        .values_list("pk", flat=True)
        .first()
    )
    return reverse("consent:receipt", args=[latest]) if latest else ""


def consent_progress(participant: Participant) -> ConsentProgress:
    state = consent_state_of(participant)
    sign = reverse("consent:sign")
    if state is None:
        return ConsentProgress(
            False, _("Not signed yet"), sign, _("Read and sign the consent form")
        )
    if state.status == StateStatus.VOIDED:
        return ConsentProgress(
            False,
            _("Your consent could not be accepted; please sign again"),
            sign,
            _("Sign again"),
        )
    signed_on = _("Signed on %(day)s") % {
        "day": date_format(localtime(state.signed_at), "DATE_FORMAT") if state.signed_at else ""
    }
    receipt = _receipt_url(participant)
    if state.status == StateStatus.RECONSENT_DUE:
        return ConsentProgress(
            True,
            _("The form was updated: please sign the new version"),
            sign,
            _("Read and sign the new version"),
            receipt,
        )
    if state.status == StateStatus.WITHDRAWN:
        again = can_take_part_again(state)
        return ConsentProgress(
            True,
            withdrawal_status_label(state.withdrawal_level),
            sign if again else "",
            _("Sign again to take part") if again else "",
            receipt,
        )
    return ConsentProgress(True, signed_on, receipt_url=receipt)
