"""The enrollment items of the staff home (``portal.work``): a count and the page to act on it."""

from __future__ import annotations

from django.db.models import Sum
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portal.models import User
from portal.roles import Role, has_role, scope_queryset
from portal.work import WorkItem, capped_count

from ..models import DuplicateFlag, FunnelCurrent, ParticipantStatus
from .people import duplicates_cross_site_open, visits_today

_ENROLLED = (
    ParticipantStatus.CONSENTED,
    ParticipantStatus.SAMPLE_COLLECTED,
    ParticipantStatus.IN_DAM,
)


def staff_work(user: User) -> list[WorkItem]:
    items: list[WorkItem] = []
    if has_role(user, Role.COORDINATOR, Role.ADMIN):
        worklist = reverse("enrollment:site_worklist")
        items.append(
            WorkItem(
                _("Visits today"),
                visits_today(user=user).count(),
                worklist,
                _("Open the visit worklist"),
                order=10,
            )
        )
        duplicates, more = capped_count(
            scope_queryset(user, DuplicateFlag.objects.filter(resolved_at__isnull=True))
        )
        items.append(
            WorkItem(
                _("Possible duplicates to check"),
                duplicates,
                worklist + "#duplicates-heading",
                _("Check them"),
                order=40,
                capped=more,
            )
        )
    if has_role(user, Role.PROGRAMME_MANAGER, Role.ADMIN):
        # From the pre-aggregated counts, as the dashboard does: no scan of participants.
        enrolled = FunnelCurrent.objects.filter(status__in=_ENROLLED).aggregate(n=Sum("n"))["n"]
        items.append(
            WorkItem(
                _("Enrolled (consent stands)"),
                int(enrolled or 0),
                reverse("enrollment:dashboard_national"),
                _("Open the national dashboard"),
                order=20,
            )
        )
    if has_role(user, Role.DATA_STEWARD, Role.ADMIN):
        items.append(
            WorkItem(
                _("Possible duplicates across sites"),
                len(duplicates_cross_site_open()),
                reverse("enrollment:duplicates_cross_site"),
                _("Decide on them"),
                order=60,
            )
        )
    return items
