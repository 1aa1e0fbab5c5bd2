"""Booking visits at collection sites within their daily capacity, and what happens around them.

Overbooking is impossible: every booking, move and cancellation locks the ``SiteDay`` row of the
day it touches (``SELECT ... FOR UPDATE``) before counting, so concurrent bookings of the last
place are decided one after the other; a check constraint (booked <= capacity) backs this up.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache

import holidays
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from portal.audit import audit_record
from portal.models import User

from .. import calendar, messaging, vault
from ..audit import Action
from ..models import (
    Participant,
    ParticipantStatus,
    Site,
    SiteClosure,
    SiteDay,
    Visit,
    VisitStatus,
)
from .doors import Door, door_refusal
from .funnel import participant_site_change

# Visits can be booked by participants in these states (consent may be given at the visit).
BOOKABLE_STATUSES = frozenset({ParticipantStatus.ELIGIBLE, ParticipantStatus.CONSENTED})
# Sites collect samples Monday to Saturday.
OPEN_WEEKDAYS = frozenset(range(6))


class VisitRefused(ValidationError):
    """A booking, move or cancellation that cannot be done; the message says why."""


@dataclass(frozen=True)
class DayAvailability:
    day: dt.date
    free: int

    @property
    def is_full(self) -> bool:
        return self.free <= 0


@cache
def _korean_holidays(year: int) -> holidays.HolidayBase:
    # The library follows the government's announcements (substitute and election days included);
    # updating the pinned version is how a newly declared holiday reaches the portal.
    return holidays.country_holidays("KR", years=year, language="ko")


def public_holiday(day: dt.date) -> str | None:
    """The name of the Korean public holiday on ``day`` (in Korean), or None on a working day."""
    name = _korean_holidays(day.year).get(day)
    return None if name is None else str(name)


def open_weekday_not_holiday(day: dt.date) -> bool:
    """Whether sites take visits on ``day`` in general (Monday to Saturday, not a public
    holiday); a site's own closures come on top."""
    return day.weekday() in OPEN_WEEKDAYS and public_holiday(day) is None


def _closures(site: Site, start: dt.date, end: dt.date) -> list[SiteClosure]:
    """The site's closures that touch the days ``start`` .. ``end`` (inclusive)."""
    return list(SiteClosure.objects.filter(site=site, first_day__lte=end, last_day__gte=start))


def _closed_reason(day: dt.date, closures: list[SiteClosure]) -> VisitRefused | None:
    if day.weekday() not in OPEN_WEEKDAYS:
        return VisitRefused(_("The site is closed on Sundays."), code="closed")
    holiday = public_holiday(day)
    if holiday is not None:
        return VisitRefused(
            _("The site is closed on %(day)s: public holiday (%(holiday)s).")
            % {"day": date_format(day, "DATE_FORMAT"), "holiday": holiday},
            code="holiday",
        )
    closure = next((c for c in closures if c.first_day <= day <= c.last_day), None)
    if closure is not None:
        return VisitRefused(
            _("The site is closed on %(day)s: %(reason)s")
            % {"day": date_format(day, "DATE_FORMAT"), "reason": closure.reason},
            code="site_closed",
        )
    return None


def _first_bookable_day() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=1)


def bookable_days(*, site: Site, days_ahead: int | None = None) -> list[DayAvailability]:
    """Days from tomorrow on which the site is open (not a Sunday, a public holiday or one of the
    site's closures), with the number of free places."""
    days_ahead = days_ahead or settings.VISIT_BOOKING_DAYS_AHEAD
    start = _first_bookable_day()
    end = start + dt.timedelta(days=days_ahead)
    booked = dict(
        SiteDay.objects.filter(site=site, day__gte=start, day__lt=end).values_list("day", "booked")
    )
    closures = _closures(site, start, end)
    result = []
    for offset in range(days_ahead):
        day = start + dt.timedelta(days=offset)
        if _closed_reason(day, closures) is None:
            result.append(DayAvailability(day, max(site.daily_capacity - booked.get(day, 0), 0)))
    return result


def _lock_day(site: Site, day: dt.date) -> SiteDay:
    # Make sure the row exists without racing another creator, then lock it.
    SiteDay.objects.bulk_create(
        [SiteDay(site=site, day=day, booked=0, capacity=site.daily_capacity)],
        ignore_conflicts=True,
    )
    return SiteDay.objects.select_for_update().get(site=site, day=day)


def _take_place(site: Site, day: dt.date) -> None:
    if not site.is_active:
        raise VisitRefused(_("This site does not take visits at the moment."), code="site")
    if day < _first_bookable_day():
        raise VisitRefused(_("Choose a day from tomorrow on."), code="past")
    closed = _closed_reason(day, _closures(site, day, day))
    if closed is not None:
        raise closed
    if day >= _first_bookable_day() + dt.timedelta(days=settings.VISIT_BOOKING_DAYS_AHEAD):
        raise VisitRefused(_("That day is too far ahead to book yet."), code="too_far")
    site_day = _lock_day(site, day)
    capacity = Site.objects.values_list("daily_capacity", flat=True).get(pk=site.pk)
    if site_day.booked >= capacity:
        raise VisitRefused(
            _("This day is fully booked at this site. Please choose another day."), code="full"
        )
    SiteDay.objects.filter(pk=site_day.pk).update(booked=F("booked") + 1, capacity=capacity)


def _give_back_place(site_id: int, day: dt.date) -> None:
    site_day = SiteDay.objects.select_for_update().filter(site_id=site_id, day=day).first()
    if site_day is not None and site_day.booked > 0:
        SiteDay.objects.filter(pk=site_day.pk).update(booked=F("booked") - 1)


@transaction.atomic
def visit_book(*, participant: Participant, site: Site, day: dt.date, by: User | None) -> Visit:
    """Book the participant's visit; refused if they already have one or the day is full."""
    locked = Participant.objects.select_for_update().get(pk=participant.pk)
    if locked.status not in BOOKABLE_STATUSES:
        raise VisitRefused(
            _("A visit can be booked once the eligibility screen has been passed."),
            code="status",
        )
    _collection_check(locked)
    if Visit.objects.filter(participant=locked, status=VisitStatus.BOOKED).exists():
        raise VisitRefused(
            _("You already have a booked visit. Change or cancel it instead."), code="exists"
        )
    _take_place(site, day)
    if site.pk != locked.site_id:
        # Booking at another collection site moves the participant there, through the funnel so
        # that the per-site counts and the transition log follow.
        participant_site_change(
            participant=locked, site=site, actor=by, reason="visit booked at another site"
        )
        participant.site = site
    visit = Visit.objects.create(participant=locked, site=site, day=day, recorded_by=by)
    visit_id = visit.pk
    transaction.on_commit(lambda: _messages_queue(visit_id, BOOKED))
    return visit


def _collection_check(participant: Participant) -> None:
    """A visit collects: refused when the participant asked that nothing more be collected."""
    refusal = door_refusal(door=Door.COLLECTION, participant=participant)
    if refusal is not None:
        raise VisitRefused(
            _("This participant has asked that nothing more be collected from them."),
            code="withdrawn",
        )


def _open_visit(visit: Visit) -> Visit:
    locked = Visit.objects.select_for_update().get(pk=visit.pk)
    if locked.status != VisitStatus.BOOKED:
        raise VisitRefused(_("This visit is no longer booked."), code="not_booked")
    return locked


@transaction.atomic
def visit_reschedule(*, visit: Visit, day: dt.date, by: User | None) -> Visit:
    """Move a booked visit to another day at the same site."""
    locked = _open_visit(visit)
    if locked.day == day:
        return locked
    _collection_check(locked.participant)
    # Lock the two days in date order so that two opposite moves cannot deadlock.
    site = locked.site
    if day < locked.day:
        _take_place(site, day)
        _give_back_place(site.pk, locked.day)
    else:
        _give_back_place(site.pk, locked.day)
        _take_place(site, day)
    locked.day = day
    locked.reminder_sent_at = None
    locked.changed_at = timezone.now()
    locked.save(update_fields=["day", "reminder_sent_at", "changed_at"])
    visit_id = locked.pk
    transaction.on_commit(lambda: _messages_queue(visit_id, BOOKED))
    return locked


@transaction.atomic
def visit_cancel(*, visit: Visit, by: User | None) -> Visit:
    """Cancel a booked visit; the participant is told, with a calendar file that takes the
    visit out of their calendar."""
    locked = _open_visit(visit)
    _give_back_place(locked.site_id, locked.day)
    locked.status = VisitStatus.CANCELLED
    locked.changed_at = timezone.now()
    locked.save(update_fields=["status", "changed_at"])
    visit_id = locked.pk
    transaction.on_commit(lambda: _messages_queue(visit_id, CANCELLED))
    return locked


@transaction.atomic
def visit_outcome_record(*, visit: Visit, attended: bool, by: User) -> Visit:
    """A coordinator records that the participant came, or did not, on the day (or after)."""
    locked = _open_visit(visit)
    if locked.day > timezone.localdate():
        raise VisitRefused(_("A visit can be recorded on its day or later."), code="future")
    locked.status = VisitStatus.ATTENDED if attended else VisitStatus.NO_SHOW
    locked.recorded_by = by
    locked.changed_at = timezone.now()
    locked.save(update_fields=["status", "recorded_by", "changed_at"])
    audit_record(
        action=Action.VISIT_RECORDED, actor=by, obj=locked, details={"outcome": locked.status}
    )
    return locked


# --- messages -------------------------------------------------------------------------------


BOOKED = "visit_booked"
REMINDER = "visit_reminder"
CANCELLED = "visit_cancelled"
SUBJECTS = {
    BOOKED: _("Your visit is booked"),
    REMINDER: _("Reminder: your visit tomorrow"),
    CANCELLED: _("Your visit is cancelled"),
}


def _messages_queue(visit_id: int, kind: str) -> None:
    from ..tasks import visit_message_send

    for channel in messaging.CHANNELS:
        visit_message_send.delay(visit_id, kind, channel)


def visit_message_send(*, visit_id: int, kind: str, channel: str) -> bool:
    """Send a visit's confirmation (``BOOKED``) or reminder (``REMINDER``) by ``channel``
    (``messaging.EMAIL`` or ``messaging.TEXT``); False when there is nowhere to send it. Called by
    the task queued after the booking's commit (or by the reminder)."""
    visit = Visit.objects.select_related("site", "participant__user").get(pk=visit_id)
    # The confirmation of a booking (or cancellation) the participant made themselves is the
    # receipt of their own act; anything else is contact, which a participant may have asked to
    # stop.
    own = visit.recorded_by_id is None or visit.recorded_by_id == visit.participant.user_id
    receipt = kind in (BOOKED, CANCELLED) and own
    if not receipt and door_refusal(door=Door.CONTACT, participant=visit.participant):
        return False
    profile = vault.profile_for_participant(visit.participant)
    if profile is None:
        return False
    language = getattr(visit.participant.user, "preferred_language", None) or "ko"
    with translation.override(language):
        context = {
            "visit": visit,
            "site": visit.site,
            "day": f"{date_format(visit.day, 'DATE_FORMAT')} ({date_format(visit.day, 'l')})",
            "hours": visit.site.opening_hours,
            "address": visit.site.address_label,
            "name": profile.name,
            "code": visit.participant.code,
            "site_url": settings.SITE_URL,
        }
        if channel == messaging.EMAIL and profile.email:
            body = render_to_string(f"enrollment/messages/{kind}.txt", context).strip()
            mail = EmailMessage(str(SUBJECTS[kind]), body, None, [profile.email])
            method = calendar.CANCEL if kind == CANCELLED else calendar.PUBLISH
            mail.attach(
                "visit.ics",
                calendar.visit_calendar(visit, method=method),
                f"text/calendar; charset=utf-8; method={method}",
            )
            mail.send()
            return True
        if channel == messaging.TEXT and profile.contact_phone:
            text = render_to_string(f"enrollment/messages/{kind}_text.txt", context).strip()
            messaging.text_send(to_phone=profile.contact_phone, body=text)
            return True
    return False


def visit_reminder_send(*, visit_id: int) -> bool:
    """Queue the day-before reminder of one visit once (e-mail and text); True if queued now."""
    with transaction.atomic():
        visit = (
            Visit.objects.select_for_update(of=("self",))
            .filter(pk=visit_id, status=VisitStatus.BOOKED, reminder_sent_at__isnull=True)
            .first()
        )
        if visit is None:
            return False
        visit.reminder_sent_at = timezone.now()
        visit.save(update_fields=["reminder_sent_at"])
    # Queued after the commit: a crash between the two loses one reminder rather than sending two.
    _messages_queue(visit_id, REMINDER)
    return True


def visits_due_for_reminder(*, day: dt.date | None = None) -> list[int]:
    day = day or timezone.localdate() + dt.timedelta(days=1)
    return list(
        Visit.objects.filter(
            day=day, status=VisitStatus.BOOKED, reminder_sent_at__isnull=True
        ).values_list("pk", flat=True)
    )
