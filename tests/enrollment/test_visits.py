import datetime as dt
import threading

import pytest
from django.core import mail
from django.db import connection, connections
from django.utils import timezone

from enrollment import messaging
from enrollment.models import SiteDay, Visit, VisitStatus
from enrollment.services import (
    VisitRefused,
    bookable_days,
    visit_book,
    visit_cancel,
    visit_outcome_record,
    visit_reschedule,
)
from enrollment.tasks import visit_reminders_send
from tests.enrollment.people import (
    eligible,
    open_day,
    participant_with_profile,
)
from tests.factories import SiteFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


def test_booking_takes_a_place_and_confirms_by_mail_and_text(django_capture_on_commit_callbacks):
    site = SiteFactory(daily_capacity=2)
    participant = eligible(site=site)
    day = open_day()
    with django_capture_on_commit_callbacks(execute=True):
        visit = visit_book(participant=participant, site=site, day=day, by=None)
    assert visit.status == VisitStatus.BOOKED
    assert SiteDay.objects.get(site=site, day=day).booked == 1
    assert [d.free for d in bookable_days(site=site) if d.day == day] == [1]
    assert mail.outbox[0].to == ["gildong.hong@example.org"]
    assert site.name in mail.outbox[0].body
    assert messaging.outbox[0].to_phone == "+821023456789"


def test_a_full_day_is_refused_with_a_clear_message_and_nothing_changes():
    site = SiteFactory(daily_capacity=1)
    day = open_day()
    visit_book(participant=eligible(site=site), site=site, day=day, by=None)
    late = eligible(site=site, phone="010-4444-5555", email="late@example.org")
    with pytest.raises(VisitRefused, match="fully booked"):
        visit_book(participant=late, site=site, day=day, by=None)
    assert Visit.objects.count() == 1
    assert SiteDay.objects.get(site=site, day=day).booked == 1


def test_only_screened_participants_book_and_only_one_visit_at_a_time():
    site = SiteFactory()
    with pytest.raises(VisitRefused, match="eligibility screen"):
        visit_book(
            participant=participant_with_profile(site=site), site=site, day=open_day(), by=None
        )
    participant = eligible(site=site)
    visit_book(participant=participant, site=site, day=open_day(), by=None)
    with pytest.raises(VisitRefused, match="already have a booked visit"):
        visit_book(participant=participant, site=site, day=open_day(3), by=None)


def test_past_and_sunday_are_refused():
    site = SiteFactory()
    participant = eligible(site=site)
    with pytest.raises(VisitRefused, match="from tomorrow"):
        visit_book(participant=participant, site=site, day=timezone.localdate(), by=None)
    sunday = open_day()
    while sunday.weekday() != 6:
        sunday += dt.timedelta(days=1)
    with pytest.raises(VisitRefused, match="Sundays"):
        visit_book(participant=participant, site=site, day=sunday, by=None)


def test_reschedule_moves_the_place_and_cancel_gives_it_back():
    site = SiteFactory(daily_capacity=1)
    first, second = open_day(), open_day(4)
    visit = visit_book(participant=eligible(site=site), site=site, day=first, by=None)
    visit = visit_reschedule(visit=visit, day=second, by=None)
    assert visit.day == second
    assert SiteDay.objects.get(site=site, day=first).booked == 0
    assert SiteDay.objects.get(site=site, day=second).booked == 1
    visit_cancel(visit=visit, by=None)
    assert SiteDay.objects.get(site=site, day=second).booked == 0
    with pytest.raises(VisitRefused, match="no longer booked"):
        visit_cancel(visit=visit, by=None)


def test_visit_outcome_is_recorded_on_the_day_only(coordinator, site):
    visit = visit_book(participant=eligible(site=site), site=site, day=open_day(), by=None)
    with pytest.raises(VisitRefused, match="on its day"):
        visit_outcome_record(visit=visit, attended=True, by=coordinator)
    Visit.objects.filter(pk=visit.pk).update(day=timezone.localdate())
    visit_outcome_record(visit=visit, attended=False, by=coordinator)
    visit.refresh_from_db()
    assert visit.status == VisitStatus.NO_SHOW and visit.recorded_by == coordinator


def test_reminders_go_once_for_tomorrows_visits_by_mail_and_text():
    site = SiteFactory()
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    participant = eligible(site=site)
    visit = Visit.objects.create(participant=participant, site=site, day=tomorrow)
    later = Visit.objects.create(
        participant=eligible(site=site, phone="010-2222-3333", email="later@example.org"),
        site=site,
        day=tomorrow + dt.timedelta(days=2),
    )
    assert visit_reminders_send.delay().get() == 1
    assert visit_reminders_send.delay().get() == 0
    visit.refresh_from_db()
    later.refresh_from_db()
    assert visit.reminder_sent_at is not None and later.reminder_sent_at is None
    assert len(mail.outbox) == 1 and site.name in mail.outbox[0].body
    assert [m.to_phone for m in messaging.outbox] == ["+821023456789"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_never_overbook_a_day():
    """Eight people on separate database connections race for three places."""
    assert connection.vendor == "postgresql"
    site = SiteFactory(daily_capacity=3)
    day = open_day()
    people = [
        eligible(site=site, phone=f"010-8000-{n:04d}", email=f"racer{n}@example.org")
        for n in range(8)
    ]
    barrier = threading.Barrier(len(people))
    outcomes: list[str] = []

    def book(participant):
        try:
            barrier.wait()
            visit_book(participant=participant, site=site, day=day, by=None)
            outcomes.append("booked")
        except VisitRefused:
            outcomes.append("full")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=book, args=(p,)) for p in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["booked"] * 3 + ["full"] * 5
    assert Visit.objects.filter(site=site, day=day, status="booked").count() == 3
    assert SiteDay.objects.get(site=site, day=day).booked == 3


def test_reminders_run_daily_from_beat_without_arguments(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["enrollment-visit-reminders"]
    assert entry["task"] == visit_reminders_send.name
    assert not entry.get("args") and not entry.get("kwargs")


def test_file_text_sender_writes_one_file_per_message(settings, tmp_path, capsys):
    settings.TEXT_SENDER = "enrollment.messaging.FileTextSender"
    settings.TEXT_DIRECTORY = tmp_path
    messaging.text_send(to_phone="+821023456789", body="방문 안내")
    files = list(tmp_path.glob("*.json"))
    assert len(files) == 1 and "방문 안내" in files[0].read_text()
    assert "+821023456789" not in capsys.readouterr().out


def test_booking_at_another_site_keeps_the_funnel_counts_equal_to_a_direct_count():
    from tests.enrollment.funnel_helpers import current_direct, current_from_aggregates

    first, other = SiteFactory(), SiteFactory()
    participant = eligible(site=first)
    visit_book(participant=participant, site=other, day=open_day(), by=None)
    participant.refresh_from_db()
    assert participant.site_id == other.pk
    assert current_from_aggregates() == current_direct()


def test_a_refused_booking_at_another_site_leaves_the_participant_where_they_were():
    first, full = SiteFactory(), SiteFactory(daily_capacity=0)
    participant = eligible(site=first)
    with pytest.raises(VisitRefused):
        visit_book(participant=participant, site=full, day=open_day(), by=None)
    participant.refresh_from_db()
    assert participant.site_id == first.pk
    assert participant.transitions.count() == 2  # registered, eligible: no site change recorded
