"""When a participant stops collection: their booked visits are cancelled and the site is told.

The consent app calls ``visits_cancel_on_collection_stop`` inside the withdrawal's transaction;
the notice to the site's coordinators is an e-mail sent by a task after the commit (ids only in
the task; the mail names the participant by code, never by name).
"""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from portal.audit import audit_record
from portal.models import User
from portal.roles import Role

from ..audit import Action
from ..models import Participant, SiteMembership, Visit, VisitStatus
from .visits import visit_cancel

__all__ = ["site_coordinators", "visit_cancelled_notice_send", "visits_cancel_on_collection_stop"]


@transaction.atomic
def visits_cancel_on_collection_stop(*, participant: Participant, by: User | None) -> list[Visit]:
    """Cancel every visit of ``participant`` still booked from today on (nothing more may be
    collected), audit each, and tell each visit's site after the commit."""
    booked = Visit.objects.filter(
        participant_id=participant.pk, status=VisitStatus.BOOKED, day__gte=timezone.localdate()
    ).order_by("day")
    cancelled = []
    for visit in booked:
        cancelled.append(visit_cancel(visit=visit, by=by))
        audit_record(
            action=Action.VISIT_CANCELLED,
            actor=by,
            obj=visit,
            details={"reason": "collection stopped", "day": visit.day.isoformat()},
        )
        transaction.on_commit(partial(_notice_queue, visit.pk))
    return cancelled


def _notice_queue(visit_id: int) -> None:
    from ..tasks import visit_cancelled_notice_send as task

    task.delay(visit_id)


def site_coordinators(site_id: int) -> list[User]:
    """The active coordinators who work for the site."""
    members = SiteMembership.objects.filter(site_id=site_id).values_list("user_id", flat=True)
    return list(
        User.objects.filter(
            pk__in=members, is_active=True, groups__name=Role.COORDINATOR.value
        ).order_by("pk")
    )


def visit_cancelled_notice_send(*, visit_id: int) -> int:
    """Mail the site's coordinators that a booked visit was cancelled because the participant
    stopped collection; each in their own language. Returns how many were told."""
    visit = Visit.objects.select_related("site", "participant").get(pk=visit_id)
    told = 0
    for coordinator in site_coordinators(visit.site_id):
        with translation.override(coordinator.preferred_language or settings.LANGUAGE_CODE):
            context = {
                "code": visit.participant.code,
                "site": visit.site,
                "day": date_format(visit.day, "DATE_FORMAT"),
                "participant_url": settings.SITE_URL
                + reverse("enrollment:site_participant", args=[visit.participant.code]),
            }
            body = render_to_string("enrollment/messages/visit_cancelled_site.txt", context)
            subject = _("Visit cancelled: participant %(code)s stopped collection") % {
                "code": visit.participant.code
            }
            send_mail(subject, body.strip(), None, [coordinator.email])
        told += 1
    return told
