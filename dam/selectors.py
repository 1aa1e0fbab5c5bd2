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


def outbox_counts() -> dict[str, int]:
    """Messages by delivery state (pending split into due now and waiting out a back-off)."""
    from django.db.models import Count, Q
    from django.db.models.functions import Now

    from .models import OutboxMessage, OutboxState

    counts = OutboxMessage.objects.aggregate(
        due=Count("pk", filter=Q(state=OutboxState.PENDING, next_attempt_at__lte=Now())),
        waiting=Count("pk", filter=Q(state=OutboxState.PENDING, next_attempt_at__gt=Now())),
        dead=Count("pk", filter=Q(state=OutboxState.DEAD)),
    )
    return {key: int(value or 0) for key, value in counts.items()}
