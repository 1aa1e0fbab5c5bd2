"""Reads of consent records for pages and services: versions in force with their items and
questions, a participant's history and state, and the coordinators' worklists."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, Model, OuterRef, QuerySet, prefetch_related_objects

from enrollment.models import Participant
from portal.models import User
from portal.roles import scope_queryset

from ..models import (
    ComprehensionQuestion,
    ConsentEvent,
    ConsentFormKind,
    ConsentItem,
    ConsentQualityCheck,
    ConsentState,
    ConsentVersion,
    EventKind,
    StateStatus,
)


def active_versions(*, kind: str = ConsentFormKind.MAIN) -> QuerySet[ConsentVersion]:
    return ConsentVersion.objects.filter(
        form__kind=kind, status=ConsentVersion.Status.ACTIVE
    ).select_related("form")


def active_version_for(*, language: str, kind: str = ConsentFormKind.MAIN) -> ConsentVersion | None:
    """The version in force in ``language``, else the Korean one (the default language)."""
    versions = {v.language: v for v in active_versions(kind=kind)}
    return versions.get(language) or versions.get("ko") or next(iter(versions.values()), None)


def version_for_reading(version: ConsentVersion, *, language: str) -> ConsentVersion:
    """The same form and version label in ``language``, when it was approved; else ``version``.

    A participant who signed in Korean and reads the portal in English sees the English text of
    the very version they signed (same label, same item codes), not a later one.
    """
    if version.language == language:
        return version
    sibling = (
        ConsentVersion.objects.filter(
            form_id=version.form_id, label=version.label, language=language
        )
        .exclude(status=ConsentVersion.Status.DRAFT)
        .first()
    )
    return sibling or version


# An approved version's items and questions cannot change (the database refuses it, and its
# ``text_sha256`` covers them), so each process reads them once: signing reads them on every request.
_CONTENT_LIMIT = 256
_content: dict[tuple[int, str], tuple[list[ConsentItem], list[ComprehensionQuestion]]] = {}


def version_content_load(version: ConsentVersion) -> ConsentVersion:
    """Attach ``version``'s items and questions, as ``prefetch_related("items", "questions")``
    would (``version_items`` and ``version_questions`` read them from there); read once per
    process for an approved version, every time for a draft."""
    if version.status == ConsentVersion.Status.DRAFT or not version.text_sha256:
        prefetch_related_objects([version], "items", "questions")
        return version
    key = (version.pk, version.text_sha256)
    content = _content.get(key)
    if content is None:
        content = (
            list(ConsentItem.objects.filter(version_id=version.pk)),
            list(ComprehensionQuestion.objects.filter(version_id=version.pk)),
        )
        if len(_content) >= _CONTENT_LIMIT:
            _content.clear()
        _content[key] = content
    _prefetched_attach(version, "items", content[0])
    _prefetched_attach(version, "questions", content[1])
    return version


def _prefetched_attach(instance: Model, name: str, rows: list[Any]) -> None:
    """What ``prefetch_related`` leaves on ``instance`` for the reverse relation ``name``."""
    queryset = getattr(instance, name).all()
    queryset._result_cache = list(rows)
    queryset._prefetch_done = True
    cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
    cache[name] = queryset


def version_items(version: ConsentVersion) -> list[ConsentItem]:
    """The version's items in order; from ``prefetch_related("items")`` when it was prefetched."""
    if "items" in getattr(version, "_prefetched_objects_cache", {}):
        return sorted(version.items.all(), key=lambda item: (item.order, item.pk))
    return list(version.items.order_by("order", "id"))


def version_questions(version: ConsentVersion) -> list[ComprehensionQuestion]:
    """The version's questions in order; from the prefetch when there is one."""
    if "questions" in getattr(version, "_prefetched_objects_cache", {}):
        return sorted(version.questions.all(), key=lambda q: (q.order, q.pk))
    return list(version.questions.order_by("order", "id"))


def consent_history(participant: Participant) -> QuerySet[ConsentEvent]:
    return (
        ConsentEvent.objects.filter(participant=participant)
        .select_related("version", "receipt", "quality_check")
        .order_by("-sequence")
    )


def consent_state_of(participant: Participant) -> ConsentState | None:
    return (
        ConsentState.objects.select_related("version__form", "last_event")
        .filter(participant=participant)
        .first()
    )


def awaiting_quality_check(user: User) -> QuerySet[ConsentEvent]:
    """In-person consents at the user's sites not yet checked nor voided, oldest first."""
    checked = ConsentQualityCheck.objects.filter(event=OuterRef("pk"))
    voided = ConsentEvent.objects.filter(voids=OuterRef("pk"))
    events = (
        ConsentEvent.objects.filter(
            kind__in=[EventKind.GRANT, EventKind.RECONSENT],
            channel__in=["site_tablet", "scanned_paper"],
        )
        .filter(~Exists(checked), ~Exists(voided))
        .select_related("participant", "version", "staff")
        .order_by("recorded_at")
    )
    return scope_queryset(user, events)


def to_ask_again(user: User) -> QuerySet[ConsentState]:
    """Participants at the user's sites whose consent was voided and who must sign again."""
    states = ConsentState.objects.filter(status=StateStatus.VOIDED).select_related(
        "participant", "last_event"
    )
    return scope_queryset(user, states).order_by("updated_at")
