"""Reads of the dam app."""

from __future__ import annotations

from django.db.models import QuerySet

from enrollment.models import Participant, ParticipantStatus
from portal.models import User
from portal.roles import scope_queryset

from .models import OutboxMessage, Sample


def sample_worklist(*, user: User) -> QuerySet[Participant]:
    """Participants of the user's sites who have consented and have no sample yet, oldest first."""
    queryset = Participant.objects.filter(status=ParticipantStatus.CONSENTED)
    return (
        scope_queryset(user, queryset)
        .select_related("site", "cohort")
        .only(
            "code",
            "status_changed_at",
            "site__code",
            "site__name",
            "site__name_en",
            "cohort__name",
            "cohort__name_en",
        )
        .order_by("status_changed_at", "id")
    )


def samples_recent(*, user: User, limit: int = 20) -> QuerySet[Sample]:
    queryset = Sample.objects.select_related("participant", "site").order_by("-recorded_at", "-id")
    return scope_queryset(user, queryset)[:limit]


def outbox_counts() -> dict[str, int]:
    """Messages by delivery state (pending split into due now and waiting out a back-off)."""
    from django.db.models import Count, Q
    from django.db.models.functions import Now

    from .models import OutboxState

    counts = OutboxMessage.objects.aggregate(
        due=Count("pk", filter=Q(state=OutboxState.PENDING, next_attempt_at__lte=Now())),
        waiting=Count("pk", filter=Q(state=OutboxState.PENDING, next_attempt_at__gt=Now())),
        dead=Count("pk", filter=Q(state=OutboxState.DEAD)),
    )
    return {key: int(value or 0) for key, value in counts.items()}


def outbox_status() -> dict[str, object]:
    """The delivery page's figures: counts by state and type of what is not yet delivered, and the
    lag (age of the oldest pending message). Reads only undelivered rows, along partial indexes."""
    from django.db.models import Count

    from .models import OutboxState
    from .services.delivery import outbox_ages

    pending_age, dead_age, dead = outbox_ages()
    by_type = list(
        OutboxMessage.objects.exclude(state=OutboxState.DELIVERED)
        .values("state", "type")
        .annotate(n=Count("pk"))
        .order_by("state", "type")
    )
    return {
        "counts": outbox_counts(),
        "by_type": by_type,
        "pending_age": pending_age,
        "dead_age": dead_age,
        "dead": dead,
    }


def outbox_failing(*, limit: int = 50) -> QuerySet[OutboxMessage]:
    """Pending messages whose last attempt failed, most tried first."""
    from .models import OutboxState

    return (
        OutboxMessage.objects.filter(state=OutboxState.PENDING, attempts__gt=0)
        .defer("payload")
        .order_by("-attempts", "next_attempt_at")[:limit]
    )


def dead_letters() -> QuerySet[OutboxMessage]:
    from .models import OutboxState

    return (
        OutboxMessage.objects.filter(state=OutboxState.DEAD).defer("payload").order_by("created_at")
    )
