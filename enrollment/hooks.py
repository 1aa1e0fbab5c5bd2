"""Extension points of the enrollment app for the apps above it (consent, dam), which register
from their ``AppConfig.ready``; enrollment imports none of them.

* ``participant_next_step_register(provider)``: the next step a coordinator takes for a
  participant, shown on the participant's page after enrolling or screening (consent registers
  "record consent", the dam "record a sample"). A provider answers a list of
  ``{"label": ..., "url": ...}`` for the participant, empty when it has nothing to offer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from .models import Participant

__all__ = ["participant_next_step_register", "participant_next_steps"]

NextStepProvider = Callable[[Participant], Sequence[Mapping[str, str]]]

_next_step_providers: list[NextStepProvider] = []


def participant_next_step_register(provider: NextStepProvider) -> None:
    if provider not in _next_step_providers:
        _next_step_providers.append(provider)


def participant_next_steps(participant: Participant) -> list[Mapping[str, str]]:
    return [step for provider in _next_step_providers for step in provider(participant)]
