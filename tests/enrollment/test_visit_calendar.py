"""The visit's calendar file (RFC 5545) on the page and in the mails, and the links in them."""

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from enrollment import messaging
from enrollment.calendar import visit_calendar
from enrollment.services import visit_book, visit_cancel, visit_reschedule
from tests.enrollment.people import eligible, open_day
from tests.factories import SiteFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


def unfolded(ics: str) -> dict[str, str]:
    """Content lines by name (parameters kept), after undoing the line folding."""
    assert ics.endswith("\r\n") and "\n" not in ics.replace("\r\n", "")
    lines = ics.split("\r\n")[:-1]
    assert all(len(line.encode()) <= 75 for line in lines)
    joined: list[str] = []
    for line in lines:
        if line.startswith(" "):
            joined[-1] += line[1:]
        else:
            joined.append(line)
    result: dict[str, str] = {}
    for line in joined:
        name, _sep, value = line.partition(":")
        result.setdefault(name, value)
    return result


def attachment(message):
    (name, content, mimetype) = message.attachments[0]
    assert name == "visit.ics"
    return content, mimetype


@pytest.fixture
def seoul_site():
    return SiteFactory(
        name="서울대학교병원 바이오뱅크 채혈실, 본관 1층; 정문으로 들어오세요",
        address="서울특별시 종로구 대학로 101",
        opens_at=dt.time(8, 30),
        closes_at=dt.time(12, 0),
    )


def test_booking_mail_carries_a_publish_event_in_seoul_time(
    settings, seoul_site, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://portal.example.kr"
    day = open_day()
    with django_capture_on_commit_callbacks(execute=True):
        visit_book(participant=eligible(site=seoul_site), site=seoul_site, day=day, by=None)
    content, mimetype = attachment(mail.outbox[0])
    assert mimetype.startswith("text/calendar") and "method=PUBLISH" in mimetype
    event = unfolded(content)
    assert event["METHOD"] == "PUBLISH"
    assert event["DTSTART;TZID=Asia/Seoul"] == f"{day:%Y%m%d}T083000"
    assert event["DTEND;TZID=Asia/Seoul"] == f"{day:%Y%m%d}T120000"
    assert event["TZOFFSETTO"] == "+0900"
    # TEXT values escape commas and semicolons; the long Korean line is folded, not cut.
    assert "본관 1층\\; 정문으로" in event["LOCATION"]
    assert "바이오뱅크 채혈실\\, 본관" in event["LOCATION"]
    assert event["URL"] == "https://portal.example.kr/me/"
    assert "portal.example.kr" in event["UID"]
    # No personal data goes into the calendar file.
    assert "Hong" not in content and "gildong" not in content


def test_the_uid_stays_when_the_visit_moves_and_cancelling_sends_cancel(
    seoul_site, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        visit = visit_book(
            participant=eligible(site=seoul_site), site=seoul_site, day=open_day(), by=None
        )
    with django_capture_on_commit_callbacks(execute=True):
        visit = visit_reschedule(visit=visit, day=open_day(5), by=None)
    with django_capture_on_commit_callbacks(execute=True):
        visit_cancel(visit=visit, by=None)
    booked, moved, cancelled = (unfolded(attachment(m)[0]) for m in mail.outbox)
    assert booked["UID"] == moved["UID"] == cancelled["UID"]
    assert moved["DTSTART;TZID=Asia/Seoul"].startswith(f"{open_day(5):%Y%m%d}")
    assert cancelled["METHOD"] == "CANCEL" and cancelled["STATUS"] == "CANCELLED"
    assert int(booked["SEQUENCE"]) <= int(moved["SEQUENCE"]) <= int(cancelled["SEQUENCE"])
    assert "method=CANCEL" in attachment(mail.outbox[2])[1]
    # The participant reads Korean (their language): subject and text say it is cancelled.
    with translation.override("ko"):
        assert mail.outbox[2].subject == translation.gettext("Your visit is cancelled")
    assert "방문 취소" in messaging.outbox[-1].body


def test_mail_and_text_links_use_the_configured_address_not_the_request_host(
    settings, client, volunteer, seoul_site, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://portal.example.kr"
    eligible(site=seoul_site, user=volunteer)
    day = open_day()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("enrollment:me_visit"),
            {"site": seoul_site.code, "day": day.isoformat()},
            HTTP_HOST="127.0.0.1:8000",
        )
    body, text = mail.outbox[0].body, messaging.outbox[0].body
    for message in (body, text, attachment(mail.outbox[0])[0]):
        assert "https://portal.example.kr/me/" in message
        assert "127.0.0.1" not in message and "testserver" not in message
    assert "08:30" in body and "서울특별시 종로구 대학로 101" in body
    assert day.strftime("%A") in body


def test_the_confirmation_page_offers_the_calendar_file(client, volunteer, seoul_site):
    participant = eligible(site=seoul_site, user=volunteer)
    visit = visit_book(participant=participant, site=seoul_site, day=open_day(), by=None)
    page = client.get(reverse("enrollment:me")).content.decode()
    assert reverse("enrollment:me_visit_calendar") in page
    response = client.get(reverse("enrollment:me_visit_calendar"))
    assert response["Content-Type"].startswith("text/calendar")
    assert "attachment" in response["Content-Disposition"]
    assert unfolded(response.content.decode())["UID"] == unfolded(visit_calendar(visit))["UID"]


def test_no_calendar_file_without_a_booked_visit(client, volunteer, seoul_site):
    eligible(site=seoul_site, user=volunteer)
    response = client.get(reverse("enrollment:me_visit_calendar"), follow=True)
    assert "no booked visit" in response.content.decode()
