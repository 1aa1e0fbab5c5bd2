"""Doors another app may close: contacting a participant, and collecting from them.

Enrollment sends messages (visit confirmations and reminders, invitation codes) and books visits,
but a participant's withdrawal lives in the consent ledger, which enrollment must not import
(dependencies point one way). So enrollment asks here, and the app that knows registers its check
(consent does, from its ``AppConfig.ready``). With nothing registered every door is open.

A check takes the participant and returns an answer with ``allowed`` and ``reason`` (consent's
``Decision``); the first refusal wins.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Protocol

from enrollment.models import Participant

__all__ = ["Door", "DoorAnswer", "door_check_register", "door_refusal"]


class Door(enum.StrEnum):
    CONTACT = "contact"  # e-mail, text, reminder, invitation (receipts of their own acts aside)
    COLLECTION = "collection"  # a new visit, sample or questionnaire


class DoorAnswer(Protocol):
    @property
    def allowed(self) -> bool: ...

    @property
    def reason(self) -> str: ...


DoorCheck = Callable[[Participant], DoorAnswer]

_checks: dict[Door, list[DoorCheck]] = {door: [] for door in Door}


def door_check_register(*, door: Door, check: DoorCheck) -> None:
    """Register ``check`` for ``door`` (once; registering the same function again is a no-op)."""
    if check not in _checks[door]:
        _checks[door].append(check)


def door_refusal(*, door: Door, participant: Participant) -> DoorAnswer | None:
    """The first registered check that refuses ``participant`` at ``door``, or ``None``."""
    for check in _checks[door]:
        answer = check(participant)
        if not answer.allowed:
            return answer
    return None
