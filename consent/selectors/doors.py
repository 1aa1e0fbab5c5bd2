"""One check per door: may the programme contact participant P, or collect from them?

Withdrawal has three levels, and each closes more doors (``consent.models.purposes``):

- ``no_further_contact``: no e-mail, text, reminder, campaign or invitation reaches them (receipts
  of their own actions aside); what they gave stays usable; they stay enrolled.
- ``no_further_collection``: also no new visit, sample or questionnaire; what exists stays usable.
- ``no_further_use``: nothing is used any more (``consent_allows`` says no to every purpose), the
  samples get their fate and the participant leaves the funnel.

Every door asks here (the use of data asks ``consent_allows`` with its purpose). Enrollment's doors
(messages, visit booking, invitations) reach these checks through ``enrollment.services.doors``,
where ``ConsentConfig.ready`` registers them. The answer is a ``Decision`` like ``consent_allows``
gives; a refusal names the level (``withdrawn: no further contact``).
"""

from __future__ import annotations

from datetime import datetime

from enrollment.models import Participant

from ..models import ConsentState, PurposeActivity, StateStatus
from ..models.purposes import blocking_withdrawal_levels
from .checks import ALLOWED, WITHDRAWN, Decision

__all__ = ["collection_allowed", "contact_allowed", "door_checks_register"]

_ALLOWED = Decision(allowed=True, code=ALLOWED)


def _withdrawal_level(participant: Participant, at: datetime | None) -> str:
    """The withdrawal level in force (now, or as of ``at`` through the one fold), or ""."""
    if at is None:
        row = (
            ConsentState.objects.filter(participant_id=participant.pk)
            .values_list("status", "withdrawal_level")
            .first()
        )
        status, level = row if row is not None else ("", "")
    else:
        from ..models import ConsentEvent
        from ..projection import ReconsentRule, state_fold

        events = list(
            ConsentEvent.objects.filter(participant_id=participant.pk).order_by("sequence")
        )
        state = state_fold(events, needs_reconsent=ReconsentRule.never, at=at)
        status, level = state.status, state.withdrawal_level
    if status != StateStatus.WITHDRAWN:
        return ""
    # A withdrawal without a level (never written by the services) closes every door.
    return level or "no_further_use"


def _door(participant: Participant, activity: str, at: datetime | None) -> Decision:
    level = _withdrawal_level(participant, at)
    if level and level in blocking_withdrawal_levels(activity):
        return Decision(allowed=False, code=WITHDRAWN, item=level)
    return _ALLOWED


def contact_allowed(*, participant: Participant, at: datetime | None = None) -> Decision:
    """May the programme send ``participant`` a message it starts (not a receipt of their own act)?"""
    return _door(participant, PurposeActivity.CONTACT, at)


def collection_allowed(*, participant: Participant, at: datetime | None = None) -> Decision:
    """May the programme collect anything new from ``participant`` (visit, sample, questionnaire)?

    Only the withdrawal is asked here; a sample also needs a consent that allows storing it
    (``consent_allows``), which the sample service asks separately."""
    return _door(participant, PurposeActivity.COLLECTION, at)


def door_checks_register() -> None:
    """Give enrollment's doors these checks (called from ``ConsentConfig.ready``)."""
    from enrollment.services.doors import Door, door_check_register

    door_check_register(door=Door.CONTACT, check=_contact_check)
    door_check_register(door=Door.COLLECTION, check=_collection_check)


def _contact_check(participant: Participant) -> Decision:
    return contact_allowed(participant=participant)


def _collection_check(participant: Participant) -> Decision:
    return collection_allowed(participant=participant)
