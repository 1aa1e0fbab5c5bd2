"""The consent items of the staff home (``portal.work``)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portal.models import User
from portal.roles import Role, has_role
from portal.work import WorkItem, capped_count

from ..models import CampaignStatus, ReconsentCampaign
from .records import awaiting_quality_check, to_ask_again


def staff_work(user: User) -> list[WorkItem]:
    items: list[WorkItem] = []
    if has_role(user, Role.COORDINATOR, Role.ADMIN):
        worklist = reverse("consent:site_worklist")
        checks, more = capped_count(awaiting_quality_check(user))
        items.append(
            WorkItem(
                _("Consents waiting for a check"),
                checks,
                worklist,
                _("Open the consent worklist"),
                order=15,
                capped=more,
            )
        )
        again, more_again = capped_count(to_ask_again(user))
        items.append(
            WorkItem(
                _("Participants to ask again for consent"),
                again,
                worklist,
                _("Open the consent worklist"),
                order=16,
                capped=more_again,
            )
        )
    if has_role(user, Role.PROGRAMME_MANAGER, Role.COORDINATOR, Role.ADMIN, Role.ETHICS_REVIEWER):
        running = ReconsentCampaign.objects.filter(status=CampaignStatus.RUNNING).count()
        items.append(
            WorkItem(
                _("Re-consent campaigns running"),
                running,
                reverse("consent:campaign_list"),
                _("See the campaigns"),
                order=30,
            )
        )
    return items
