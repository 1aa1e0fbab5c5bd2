"""Which days are offered for a visit (Sundays, Korean public holidays, site closures), at every
door, and what the volunteer is told about the day: weekday, hours, address."""

import datetime as dt

import holidays
import pytest
from django.urls import reverse
from django.utils import timezone

from enrollment.models import SiteClosure, Visit
from enrollment.services import (
    VisitRefused,
    bookable_days,
    site_closure_add,
    visit_book,
    visit_reschedule,
)
from enrollment.services.visits import public_holiday
from portal.audit import Action as PortalAction
from portal.models import AuditEvent
from portal.roles import Role
from tests.enrollment.people import eligible, open_day
from tests.factories import SiteFactory, add_totp, staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

# Fixed-date Korean public holidays; the next one that is not a Sunday is always within a year.
FIXED_HOLIDAYS = [(1, 1), (3, 1), (5, 5), (6, 6), (8, 15), (10, 3), (10, 9), (12, 25)]


def next_weekday_holiday() -> dt.date:
    today = timezone.localdate()
    candidates = []
    for year in (today.year, today.year + 1):
        for month, day in FIXED_HOLIDAYS:
            date = dt.date(year, month, day)
            if date > today and date.weekday() != 6:
                candidates.append(date)
    return min(candidates)


def staff_sign_in(client, user):
    add_totp(user)
    user.preferred_language = "en"
    user.save(update_fields=["preferred_language"])
    client.force_login(user)


@pytest.fixture
def year_ahead(settings):
    settings.VISIT_BOOKING_DAYS_AHEAD = 400


def test_public_holidays_come_from_the_library_with_their_korean_name():
    assert public_holiday(dt.date(2026, 1, 1)) == "신정연휴"
    assert public_holiday(dt.date(2026, 8, 15)) == "광복절"
    # Lunar holidays move every year: the library knows Chuseok, no hand list does.
    chuseok_2027 = [d for d, name in holidays.KR(years=2027).items() if "Chuseok" in name]
    assert chuseok_2027 and all(public_holiday(d) for d in chuseok_2027)
    assert public_holiday(dt.date(2026, 11, 30)) is None


def test_holidays_are_not_offered_and_are_refused(year_ahead):
    site = SiteFactory()
    holiday = next_weekday_holiday()
    offered = {d.day for d in bookable_days(site=site)}
    assert holiday not in offered
    assert not any(public_holiday(day) for day in offered)
    assert not any(day.weekday() == 6 for day in offered)
    with pytest.raises(VisitRefused, match="public holiday") as refused:
        visit_book(participant=eligible(site=site), site=site, day=holiday, by=None)
    assert refused.value.code == "holiday"
    assert not Visit.objects.exists()


def test_a_site_closure_is_not_offered_and_refused_for_booking_and_moving(coordinator, site):
    first, last = open_day(3), open_day(3) + dt.timedelta(days=2)
    site_closure_add(
        site=site, first_day=first, last_day=last, reason="building work", by=coordinator
    )
    other = SiteFactory()
    offered = {d.day for d in bookable_days(site=site)}
    assert not offered & {first, first + dt.timedelta(days=1), last}
    assert first in {d.day for d in bookable_days(site=other)}
    participant = eligible(site=site)
    with pytest.raises(VisitRefused, match="building work"):
        visit_book(participant=participant, site=site, day=first, by=coordinator)
    visit = visit_book(participant=participant, site=site, day=open_day(1), by=None)
    if visit.day < first:
        with pytest.raises(VisitRefused, match="building work"):
            visit_reschedule(visit=visit, day=last, by=None)
    event = AuditEvent.objects.get(action="site.closure_changed")
    assert event.actor_id == coordinator.pk


def test_closure_dates_must_be_in_order_and_have_a_reason(site):
    day = open_day()
    with pytest.raises(Exception, match="before the first day"):
        site_closure_add(
            site=site, first_day=day, last_day=day - dt.timedelta(days=1), reason="x", by=None
        )
    with pytest.raises(Exception, match="why"):
        site_closure_add(site=site, first_day=day, last_day=day, reason="  ", by=None)
    assert not SiteClosure.objects.exists()


def test_coordinator_closes_and_reopens_their_site_on_the_closures_page(client, coordinator, site):
    staff_sign_in(client, coordinator)
    day = open_day(5)
    response = client.post(
        reverse("enrollment:site_closures"),
        {"site": site.pk, "first_day": day, "last_day": day, "reason": "staff training"},
        follow=True,
    )
    assert "no longer offered" in response.content.decode()
    assert "staff training" in response.content.decode()
    closure = SiteClosure.objects.get()
    assert day not in {d.day for d in bookable_days(site=site)}
    client.post(reverse("enrollment:site_closure_remove", args=[closure.pk]))
    assert not SiteClosure.objects.exists()
    assert day in {d.day for d in bookable_days(site=site)}


def test_a_coordinator_cannot_close_or_reopen_another_sites_days(client, coordinator):
    elsewhere = SiteFactory()
    staff_sign_in(client, coordinator)
    day = open_day(5)
    response = client.post(
        reverse("enrollment:site_closures"),
        {"site": elsewhere.pk, "first_day": day, "last_day": day, "reason": "x"},
    )
    assert response.status_code == 200 and not SiteClosure.objects.exists()
    closure = site_closure_add(site=elsewhere, first_day=day, last_day=day, reason="x", by=None)
    response = client.post(reverse("enrollment:site_closure_remove", args=[closure.pk]))
    assert response.status_code == 404
    assert SiteClosure.objects.filter(pk=closure.pk).exists()
    assert AuditEvent.objects.filter(action=PortalAction.PERMISSION_DENIED).exists()


def test_a_programme_manager_closes_any_site(client):
    manager = staff_user(Role.PROGRAMME_MANAGER)
    site = SiteFactory()
    staff_sign_in(client, manager)
    day = open_day(5)
    client.post(
        reverse("enrollment:site_closures"),
        {"site": site.pk, "first_day": day, "last_day": day, "reason": "inspection"},
    )
    assert SiteClosure.objects.get().site == site


def test_booking_page_shows_weekday_hours_and_address(client, volunteer):
    site = SiteFactory(
        address="서울특별시 종로구 대학로 101", opens_at=dt.time(8, 0), closes_at=dt.time(11, 30)
    )
    eligible(site=site, user=volunteer)
    page = client.get(reverse("enrollment:me_visit")).content.decode()
    assert "서울특별시 종로구 대학로 101" in page
    assert "08:00\u201311:30" in page
    day = bookable_days(site=site)[0].day
    assert day.strftime("%A") in page  # e.g. "Monday", next to the offered day
