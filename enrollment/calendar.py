"""A visit as an iCalendar file (RFC 5545) for the participant's own calendar.

One event per visit, in Asia/Seoul wall-clock time with the zone written out (Korea keeps no
daylight saving, so one STANDARD rule covers every date). The UID is stable for the visit, so
a moved visit replaces the event and a cancellation (METHOD:CANCEL) removes it; SEQUENCE grows
with every change. No personal data goes in: the participant's own calendar needs none.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.programme import programme_name

from .models import Visit, VisitStatus

PUBLISH = "PUBLISH"
CANCEL = "CANCEL"
CONTENT_TYPE = "text/calendar; charset=utf-8"
ZONE = "Asia/Seoul"
_MAX_LINE_OCTETS = 75


def _escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 3.3.11)."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> list[str]:
    """Split a content line into lines of at most 75 octets, never inside a UTF-8 character
    (RFC 5545 3.1); continuation lines start with one space."""
    parts: list[str] = []
    current, size, limit = "", 0, _MAX_LINE_OCTETS
    for char in line:
        width = len(char.encode())
        if size + width > limit:
            parts.append(current)
            current, size, limit = " ", 1, _MAX_LINE_OCTETS
        current += char
        size += width
    parts.append(current)
    return parts


def _local(day: dt.date, at: dt.time) -> str:
    return dt.datetime.combine(day, at).strftime("%Y%m%dT%H%M%S")


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _sequence(visit: Visit, changed: dt.datetime) -> int:
    booked = visit.booked_at or changed
    return max(int((changed - booked).total_seconds()), 0)


def visit_uid(visit: Visit) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "portal"
    return f"visit-{visit.pk}@{host}"


def visit_calendar(visit: Visit, *, method: str = PUBLISH) -> str:
    """The calendar file of ``visit``: METHOD:PUBLISH for a booked visit, METHOD:CANCEL to
    take it out of the calendar it was added to."""
    site = visit.site
    cancelled = method == CANCEL or visit.status == VisitStatus.CANCELLED
    changed = visit.changed_at or timezone.now()
    summary = _("%(programme)s visit: %(site)s") % {
        "programme": programme_name(),
        "site": site.label,
    }
    description = _(
        "Please bring an identity card. The visit takes about an hour. "
        "Change or cancel the visit on your page: %(url)s"
    ) % {"url": f"{settings.SITE_URL}/me/"}
    location = ", ".join(part for part in (site.label, site.address_label) if part)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Dam Portal//Visits//KO",
        "CALSCALE:GREGORIAN",
        f"METHOD:{CANCEL if cancelled else PUBLISH}",
        "BEGIN:VTIMEZONE",
        f"TZID:{ZONE}",
        "BEGIN:STANDARD",
        "DTSTART:19700101T000000",
        "TZOFFSETFROM:+0900",
        "TZOFFSETTO:+0900",
        "TZNAME:KST",
        "END:STANDARD",
        "END:VTIMEZONE",
        "BEGIN:VEVENT",
        f"UID:{visit_uid(visit)}",
        # Seconds since the booking only grow, so every change of the visit outranks the last.
        f"SEQUENCE:{_sequence(visit, changed)}",
        f"DTSTAMP:{_utc(timezone.now())}",
        f"DTSTART;TZID={ZONE}:{_local(visit.day, site.opens_at)}",
        f"DTEND;TZID={ZONE}:{_local(visit.day, site.closes_at)}",
        f"SUMMARY:{_escape(summary)}",
        f"LOCATION:{_escape(location)}",
        f"DESCRIPTION:{_escape(description)}",
        f"URL:{settings.SITE_URL}/me/",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(part + "\r\n" for line in lines for part in _fold(line))
