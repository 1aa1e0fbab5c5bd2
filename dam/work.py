"""The dam items of the staff home (``portal.work``)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portal.models import User
from portal.roles import Role, has_role
from portal.work import WorkItem, capped_count

from .selectors import sample_worklist
from .services.delivery import outbox_ages


def staff_work(user: User) -> list[WorkItem]:
    items: list[WorkItem] = []
    if has_role(user, Role.COORDINATOR, Role.ADMIN):
        waiting, more = capped_count(sample_worklist(user=user))
        items.append(
            WorkItem(
                _("Consented, no sample yet"),
                waiting,
                reverse("dam:samples"),
                _("Record samples"),
                order=17,
                capped=more,
            )
        )
    if has_role(user, Role.DATA_STEWARD, Role.ADMIN):
        _pending, _dead_age, dead = outbox_ages()
        items.append(
            WorkItem(
                _("Dead letters (messages the dam refused)"),
                dead,
                reverse("dam:dead_letters"),
                _("Open the dead letters"),
                order=50,
            )
        )
    return items
