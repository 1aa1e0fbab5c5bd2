"""May we keep (and ship) this participant's samples? One answer for recording and for shipping.

A tube is recorded only if the participant's consent allows sample storage at that moment, and a
manifest line is sent only if it still does at send time. The question is asked of consent
(``consent.selectors.checks``) through the purpose named by ``settings.SAMPLE_STORAGE_PURPOSE`` (by default
``follow_up_collection``, whose one required item is ``sample_storage``), never answered from the
enrollment status alone. A participant who has withdrawn, at any level, is refused as well: the
lowest level ("no further contact") still lets the programme use what it holds, but no new tube is
taken from them and nothing more is sent about them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from consent.models import ConsentState, Purpose
from consent.selectors.checks import Decision, consent_allows_bulk
from enrollment.models import Participant, ParticipantStatus

__all__ = ["StorageRefusal", "storage_purpose", "storage_refusals"]

WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class StorageRefusal:
    """Why samples of one participant may not be kept: a code and a sentence for people."""

    code: str
    item: str = ""

    @property
    def message(self) -> str:
        return str(_refusal_text(self.code, self.item))


def _refusal_text(code: str, item: str) -> str | Promise:
    if code == WITHDRAWN:
        return _("The participant has withdrawn.")
    if code == "no_consent":
        return _("The participant has no consent on record.")
    if code == "voided":
        return _("The participant's consent was voided and must be signed again.")
    if code == "declined":
        return _("The participant did not agree to sample storage.")
    if code in ("reconsent_due", "not_asked"):
        return _("The participant has not yet agreed to sample storage in the current form.")
    if code == "already_sent":
        return _("This sample was already sent in another manifest.")
    if code == "not_registered":
        return _(
            "The participant is not registered with the dam: their consent never allowed data sharing."
        )
    if code == "purpose_inactive":
        return _("Sample storage is switched off in the programme's purposes of use.")
    return _("The participant's consent does not allow sample storage.")


def storage_purpose() -> Purpose:
    code = settings.SAMPLE_STORAGE_PURPOSE
    try:
        return Purpose.objects.get(code=code)
    except Purpose.DoesNotExist as exc:
        raise LookupError(
            f"SAMPLE_STORAGE_PURPOSE names purpose {code!r}, which does not exist"
        ) from exc


def storage_refusals(participants: Iterable[Participant]) -> dict[int, StorageRefusal]:
    """The participants (by id) whose samples may not be kept now, with the reason.

    A constant number of queries whatever the count (one set-based consent check)."""
    people = list(participants)
    if not people:
        return {}
    decisions: dict[str, Decision] = consent_allows_bulk(
        codes=[p.code for p in people], purpose=storage_purpose()
    )
    # Any level of withdrawal counts, also "no further contact" (which leaves the purpose allowed).
    withdrawn = set(
        ConsentState.objects.filter(
            participant_id__in=[p.pk for p in people], status=ConsentState.Status.WITHDRAWN
        ).values_list("participant_id", flat=True)
    )
    refusals: dict[int, StorageRefusal] = {}
    for participant in people:
        if participant.pk in withdrawn or participant.status == ParticipantStatus.WITHDRAWN:
            refusals[participant.pk] = StorageRefusal(WITHDRAWN)
            continue
        decision = decisions[participant.code]
        if not decision.allowed:
            refusals[participant.pk] = StorageRefusal(decision.code, decision.item)
    return refusals
