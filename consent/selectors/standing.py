"""Where a participant stands after a withdrawal, in words a person reads: the level by name,
which of their "yes" answers still apply, and what they may do next (widen the withdrawal, or
take part again).

An item stops applying when every purpose of use that needs it is of an activity the level
stops (``consent.models.purposes.WITHDRAWAL_BLOCKS``); after "no further use" none applies.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ..models import (
    ConsentItem,
    ConsentState,
    ConsentVersion,
    Purpose,
    StateStatus,
    WithdrawalLevel,
)
from ..models.purposes import WITHDRAWAL_BLOCKS

__all__ = [
    "LEVEL_ORDER",
    "ChoiceRow",
    "can_take_part_again",
    "choices_in_force",
    "stricter_levels",
    "withdrawal_status_label",
]

# From the mildest to the strictest.
LEVEL_ORDER: list[str] = [
    WithdrawalLevel.NO_FURTHER_CONTACT,
    WithdrawalLevel.NO_FURTHER_COLLECTION,
    WithdrawalLevel.NO_FURTHER_USE,
]

_STATUS_LABELS: dict[str, Promise] = {
    WithdrawalLevel.NO_FURTHER_CONTACT: _("Partly withdrawn: no further contact"),
    WithdrawalLevel.NO_FURTHER_COLLECTION: _("Partly withdrawn: no further collection"),
    WithdrawalLevel.NO_FURTHER_USE: _("Fully withdrawn: nothing is used any more"),
}


@dataclass(frozen=True)
class ChoiceRow:
    item: ConsentItem
    choice: bool
    # Answered "yes", but the withdrawal stops everything it was for.
    lapsed: bool


def withdrawal_status_label(level: str) -> Promise:
    """The status of a participant withdrawn at ``level``; an unknown level reads as the
    strictest (as the consent checks treat it)."""
    return _STATUS_LABELS.get(level) or _STATUS_LABELS[WithdrawalLevel.NO_FURTHER_USE]


def _withdrawn_level(state: ConsentState | None) -> str:
    if state is None or state.status != StateStatus.WITHDRAWN:
        return ""
    return state.withdrawal_level or WithdrawalLevel.NO_FURTHER_USE


def _lapsed_codes(level: str) -> set[str] | None:
    """Codes of items that no longer apply at ``level``; ``None`` means every item."""
    if not level:
        return set()
    if level == WithdrawalLevel.NO_FURTHER_USE:
        return None
    stopped = WITHDRAWAL_BLOCKS.get(level, frozenset())
    activities: dict[str, set[str]] = {}
    for codes, activity in Purpose.objects.filter(is_active=True).values_list(
        "required_items", "activity"
    ):
        for code in codes:
            activities.setdefault(code, set()).add(activity)
    return {code for code, needed_by in activities.items() if needed_by <= stopped}


def choices_in_force(
    state: ConsentState | None, *, reading: ConsentVersion | None = None
) -> list[ChoiceRow]:
    """Each item of the version in force with the participant's answer, marked when a
    withdrawal stops what a "yes" was for. ``reading`` is the same version in the reader's
    language (same item codes), when the page shows that one."""
    if state is None or state.version is None:
        return []
    lapsed = _lapsed_codes(_withdrawn_level(state))
    rows = []
    for item in (reading or state.version).items.order_by("order", "id"):
        choice = bool(state.choices.get(item.code, False))
        stopped = lapsed is None or item.code in lapsed
        rows.append(ChoiceRow(item=item, choice=choice, lapsed=choice and stopped))
    return rows


def stricter_levels(state: ConsentState | None) -> list[str]:
    """The levels a participant may still withdraw at (only ever stricter than the current)."""
    level = _withdrawn_level(state)
    if not level:
        return list(LEVEL_ORDER)
    return LEVEL_ORDER[LEVEL_ORDER.index(level) + 1 :] if level in LEVEL_ORDER else []


def can_take_part_again(state: ConsentState | None) -> bool:
    """A partial withdrawal can be lifted by signing the consent form again; after "no further
    use" (samples destroyed or anonymized) there is nothing to take part with."""
    level = _withdrawn_level(state)
    return bool(level) and level != WithdrawalLevel.NO_FURTHER_USE
