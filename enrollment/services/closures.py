"""Site closures: days a site takes no visits (besides Sundays and public holidays).

Coordinators keep their own sites' closures, programme managers any site's. A closure refuses new
bookings only; visits already booked on those days are listed so that a coordinator can move them.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from portal.audit import audit_record
from portal.models import User

from ..audit import Action
from ..models import Site, SiteClosure, Visit, VisitStatus


@transaction.atomic
def site_closure_add(
    *, site: Site, first_day: dt.date, last_day: dt.date, reason: str, by: User | None
) -> SiteClosure:
    """Close ``site`` from ``first_day`` to ``last_day`` (inclusive) for ``reason``."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the site is closed.")})
    if last_day < first_day:
        raise ValidationError({"last_day": _("The last day cannot be before the first day.")})
    if (last_day - first_day).days > 366:
        raise ValidationError({"last_day": _("A closure can last one year at most.")})
    closure = SiteClosure.objects.create(
        site=site, first_day=first_day, last_day=last_day, reason=reason, created_by=by
    )
    audit_record(
        action=Action.SITE_CLOSURE_CHANGED,
        actor=by,
        obj=closure,
        details={"added": True, "first_day": str(first_day), "last_day": str(last_day)},
    )
    return closure


@transaction.atomic
def site_closure_remove(*, closure: SiteClosure, by: User | None) -> None:
    """Reopen the days of ``closure`` for booking."""
    audit_record(
        action=Action.SITE_CLOSURE_CHANGED,
        actor=by,
        obj=closure,
        details={
            "added": False,
            "first_day": str(closure.first_day),
            "last_day": str(closure.last_day),
        },
    )
    closure.delete()


def visits_booked_in_closure(closure: SiteClosure) -> int:
    """How many visits are still booked on the closed days (to be moved by the site)."""
    return Visit.objects.filter(
        site_id=closure.site_id,
        day__gte=closure.first_day,
        day__lte=closure.last_day,
        status=VisitStatus.BOOKED,
    ).count()
