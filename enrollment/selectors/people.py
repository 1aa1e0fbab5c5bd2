"""Reads for the volunteer and coordinator pages (lists are scoped and bounded)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from portal.models import User
from portal.roles import scope_queryset, site_ids_for

from ..models import (
    DuplicateFlag,
    Invitation,
    Participant,
    ParticipantStatus,
    Screening,
    Site,
    Visit,
    VisitStatus,
)

WORKLIST_LIMIT = 200


def participant_of_user(user: User) -> Participant | None:
    return (
        Participant.objects.select_related("site", "cohort").filter(user_id=user.pk).first()
        if user.is_authenticated
        else None
    )


def visit_current(participant: Participant) -> Visit | None:
    """The booked visit, or else the latest one."""
    visits = Visit.objects.select_related("site").filter(participant=participant)
    return (
        visits.filter(status=VisitStatus.BOOKED).first()
        or visits.order_by("-changed_at", "-id").first()
    )


def screening_latest(participant: Participant) -> Screening | None:
    return Screening.objects.filter(participant=participant).first()


@dataclass(frozen=True)
class StatusStep:
    label: str | Promise
    done: bool


def participant_progress(participant: Participant, visit: Visit | None) -> list[StatusStep]:
    """The participant's journey as they see it: registered, screened, visit booked, ..."""
    status = participant.status
    order = [
        ParticipantStatus.REGISTERED,
        ParticipantStatus.ELIGIBLE,
        ParticipantStatus.CONSENTED,
        ParticipantStatus.SAMPLE_COLLECTED,
        ParticipantStatus.IN_DAM,
    ]
    reached = order.index(ParticipantStatus(status)) if status in order else 0
    has_visit = visit is not None and visit.status in (VisitStatus.BOOKED, VisitStatus.ATTENDED)
    return [
        StatusStep(_("Registered"), True),
        StatusStep(_("Screened"), status != ParticipantStatus.REGISTERED),
        StatusStep(_("Visit booked"), has_visit or reached >= 3),
        StatusStep(_("Consented"), reached >= 2),
        StatusStep(_("Samples given"), reached >= 3),
        StatusStep(_("In the data dam"), reached >= 4),
    ]


def participant_headline(participant: Participant, visit: Visit | None) -> str | Promise:
    """One plain status for the participant's page."""
    status = participant.status
    if status == ParticipantStatus.WITHDRAWN:
        return _("Withdrawn")
    if status == ParticipantStatus.INELIGIBLE:
        return _("Screened: not eligible")
    if status == ParticipantStatus.REGISTERED:
        return _("Registered")
    if status == ParticipantStatus.ELIGIBLE:
        if visit is not None and visit.status == VisitStatus.BOOKED:
            return _("Visit booked")
        return _("Screened: eligible")
    return ParticipantStatus(status).label


def sites_of(user: User) -> QuerySet[Site]:
    ids = site_ids_for(user)
    sites = Site.objects.filter(is_active=True)
    return sites if ids is None else sites.filter(pk__in=ids)


def visits_today(*, user: User) -> QuerySet[Visit]:
    today = timezone.localdate()
    return visits_between(user=user, first=today, last=today)


def visits_between(*, user: User, first: dt.date, last: dt.date) -> QuerySet[Visit]:
    """The visits (not cancelled) at the user's sites from ``first`` to ``last``, by day."""
    return (
        scope_queryset(user, Visit.objects.all())
        .filter(day__gte=first, day__lte=last)
        .exclude(status=VisitStatus.CANCELLED)
        .select_related("participant", "site")
        .order_by("day", "site__code", "participant__code")[:WORKLIST_LIMIT]
    )


def duplicates_open(*, user: User) -> list[DuplicateFlag]:
    return duplicate_flags_marked(
        user=user,
        flags=scope_queryset(user, DuplicateFlag.objects.all())
        .filter(resolved_at__isnull=True)
        .select_related("participant", "matches", "participant__site")
        .order_by("-flagged_at")[:WORKLIST_LIMIT],
    )


def duplicate_flags_marked(*, user: User, flags: Iterable[DuplicateFlag]) -> list[DuplicateFlag]:
    """The flags, each with ``elsewhere`` set when the matching participant is at a site ``user``
    cannot see: then the page says only that a match exists elsewhere (never its code), and a data
    steward resolves it."""
    visible = site_ids_for(user)
    marked = list(flags)
    for flag in marked:
        flag.elsewhere = visible is not None and flag.matches.site_id not in visible
    return marked


def duplicates_cross_site_open() -> QuerySet[DuplicateFlag]:
    """Open flags whose two participants are at different sites: the data steward's worklist."""
    return (
        DuplicateFlag.objects.filter(resolved_at__isnull=True)
        .exclude(participant__site_id=F("matches__site_id"))
        .select_related("participant__site", "matches__site")
        .order_by("-flagged_at")[:WORKLIST_LIMIT]
    )


def invitations_unclaimed(*, user: User) -> QuerySet[Invitation]:
    return (
        scope_queryset(user, Invitation.objects.all())
        .filter(claimed_at__isnull=True, revoked_at__isnull=True)
        .select_related("participant", "participant__site")
        .order_by("issued_at")[:WORKLIST_LIMIT]
    )


def participant_visits(participant: Participant) -> QuerySet[Visit]:
    return Visit.objects.filter(participant=participant).select_related("site").order_by("-day")
