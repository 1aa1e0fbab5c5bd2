"""Participants enrolled as minors, through a guardian, who have come of age (19 in Korea).

A daily beat task flags them: an ``OwnConsentRequest`` row (once per participant), their consent
becomes "re-consent due" (the guardian's choices stand until they decide), and they are e-mailed
if they have an address of their own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from enrollment.models import Participant
from portal.audit import audit_record
from portal.paging import rows_by_id

from ..audit import Action
from ..models import Channel, ConsentEvent, EventKind, OwnConsentRequest
from ..selectors.doors import contact_allowed
from .campaigns import consent_page_url
from .events import event_append, participant_lock

__all__ = ["ComingOfAge", "minors_flag_coming_of_age"]


@dataclass(frozen=True)
class ComingOfAge:
    flagged: int
    notified: int


def minors_flag_coming_of_age(*, today: dt.date | None = None) -> ComingOfAge:
    """Flag participants enrolled as minors who are now of legal age, for their own consent.

    Birth years narrow the search in the database; birth dates are read from the vault only for
    the few who may have turned 19. A ``majority`` event goes into their ledger: a consent their
    representative gave becomes "re-consent due" (it stands until they decide, then for
    ``MAJORITY_GRACE_DAYS`` at most) and they are e-mailed if they have an address of their own.
    """
    from enrollment.vault import profile_for_participant

    today = today or timezone.localdate()
    legal_age = settings.LEGAL_AGE
    candidates = (
        Participant.objects.filter(is_minor=True, birth_year__lte=today.year - legal_age)
        .exclude(own_consent_request__isnull=False)
        .exclude(status=Participant.Status.WITHDRAWN)
        .select_related("user")
    )
    flagged = notified = 0
    # Pages by id, not a server-side cursor: each participant gets its own transaction below.
    for participant in rows_by_id(candidates, size=500):
        profile = profile_for_participant(participant)
        if profile is None or profile.age_on(today) < legal_age:
            continue
        birthday = _birthday_in(profile.birth_date, profile.birth_date.year + legal_age)
        with transaction.atomic():
            request, created = OwnConsentRequest.objects.get_or_create(
                participant=participant,
                defaults={"came_of_age_on": birthday},
            )
            if not created:
                continue
            # A fact in the ledger (so a rebuild keeps it), dated on the birthday: the fold makes
            # a representative's consent "re-consent due" until the adult signs themselves.
            locked = participant_lock(participant)
            if ConsentEvent.objects.filter(participant=locked).exists():
                event_append(
                    participant=locked,
                    kind=EventKind.MAJORITY,
                    signed_at=timezone.make_aware(dt.datetime.combine(birthday, dt.time.min)),
                    channel=Channel.WEB,
                    reason="came of age",
                )
            audit_record(action=Action.OWN_CONSENT_DUE, obj=participant)
            flagged += 1
            address = participant.user.email if participant.user_id and participant.user else ""
            address = address or profile.email
            if address and contact_allowed(participant=participant).allowed:
                with translation.override(settings.LANGUAGE_CODE):
                    context = {"url": consent_page_url()}
                    subject = render_to_string(
                        "consent/email/own_consent_subject.txt", context
                    ).strip()
                    body = render_to_string("consent/email/own_consent.txt", context)
                EmailMessage(subject=subject, body=body, to=[address]).send()
                request.notified_at = timezone.now()
                request.save(update_fields=["notified_at"])
                notified += 1
    return ComingOfAge(flagged=flagged, notified=notified)


def _birthday_in(birth_date: dt.date, year: int) -> dt.date:
    """The birthday in ``year`` (29 February falls on 1 March in other years)."""
    try:
        return birth_date.replace(year=year)
    except ValueError:
        return dt.date(year, 3, 1)
