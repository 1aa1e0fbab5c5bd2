"""A participant's consent history as they read it: newest first, each entry saying which
items it changed (yes to no, no to yes), walked in the fold's order (``consent.projection``):
voided entries and voids change nothing, a change counts only while a consent is in force."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from django.utils.translation import get_language

from enrollment.models import Participant

from ..models import ConsentEvent, ConsentItem, EventKind, StateStatus
from ..projection import CONSENTING_KINDS, events_in_force
from .records import consent_history

__all__ = ["ItemChange", "history_with_changes"]


@dataclass(frozen=True)
class ItemChange:
    code: str
    title: str
    before: bool | None  # None: not asked before (a new item, or the first consent)
    after: bool


@dataclass
class _Walk:
    status: str = ""
    choices: dict[str, bool] = field(default_factory=dict)


def _titles(events: list[ConsentEvent], language: str) -> dict[str, str]:
    """Item titles by code, in ``language`` where a version of the same form exists in it, else
    in the language of the version signed."""
    version_ids = {e.version_id for e in events if e.version_id}
    form_ids = {e.version.form_id for e in events if e.version is not None}
    titles: dict[str, str] = {}
    for code, title in ConsentItem.objects.filter(version_id__in=version_ids).values_list(
        "code", "title"
    ):
        titles.setdefault(code, title)
    in_language = (
        ConsentItem.objects.filter(version__form_id__in=form_ids, version__language=language)
        .order_by("version__effective_from", "version_id")
        .values_list("code", "title")
    )
    titles.update(dict(in_language))  # the newest version in the language wins
    return titles


def history_with_changes(participant: Participant) -> list[ConsentEvent]:
    """The history (newest first), each event with ``changes`` (a list of ``ItemChange``) and
    ``voided`` (True for an entry a later check voided: it never counted)."""
    history = list(consent_history(participant))
    by_sequence = sorted(history, key=lambda e: e.sequence)
    in_order = cast(list[ConsentEvent], events_in_force(by_sequence))
    voided = {e.voids_id for e in history if e.kind == EventKind.VOID}
    titles = _titles(history, get_language() or "ko")
    walk = _Walk()
    changes: dict[int, list[ItemChange]] = {}
    for event in in_order:
        if event.kind == EventKind.UPDATE and walk.status != StateStatus.ACTIVE:
            continue  # nothing in force to change (as the fold has it)
        if event.kind in CONSENTING_KINDS:
            after = {code: bool(v) for code, v in event.choices.items()}
            if walk.status:  # the first consent changes nothing: it is where choices start
                changes[event.pk] = [
                    ItemChange(code, titles.get(code, code), walk.choices.get(code), now)
                    for code, now in after.items()
                    if walk.choices.get(code) != now
                ]
            walk.choices, walk.status = after, StateStatus.ACTIVE
        elif event.kind == EventKind.WITHDRAW:
            walk.status = StateStatus.WITHDRAWN
    for event in history:
        event.changes = changes.get(event.pk, [])  # type: ignore[attr-defined]
        event.voided = event.pk in voided  # type: ignore[attr-defined]
    return history
