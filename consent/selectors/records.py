"""Reads of consent records for pages and services: versions in force with their items and
questions, a participant's history and state, and the coordinators' worklists."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet

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
