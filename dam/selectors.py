"""Reads of the dam app."""

from __future__ import annotations

from django.db.models import QuerySet

from enrollment.models import Participant, ParticipantStatus
from portal.models import User
from portal.roles import scope_queryset

from .models import Sample


def sample_worklist(*, user: User) -> QuerySet[Participant]:
    """Participants of the user's sites who have consented and have no sample yet, oldest first."""
    queryset = Participant.objects.filter(status=ParticipantStatus.CONSENTED)
    return (
        scope_queryset(user, queryset)
        .select_related("site", "cohort")
        .only("code", "status_changed_at", "site__code", "site__name", "cohort__name")
        .order_by("status_changed_at", "id")
    )


def samples_recent(*, user: User, limit: int = 20) -> QuerySet[Sample]:
    queryset = Sample.objects.select_related("participant", "site").order_by("-recorded_at", "-id")
    return scope_queryset(user, queryset)[:limit]
