"""Helpers for the people and vault tests: participants with personal data in the vault."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from enrollment.models import Participant
from enrollment.services.funnel import participant_record_created, participant_transition
from enrollment.services.visits import open_weekday_not_holiday
from enrollment.vault import Profile, personal_data_write
from tests.factories import ParticipantFactory


def years_ago(years: int, days: int = 0) -> dt.date:
    """A birth date ``years`` ago (plus ``days`` more), in the portal's time zone."""
    today = timezone.localdate()
    try:
        day = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        day = today.replace(year=today.year - years, day=28)
    return day - dt.timedelta(days=days)


def profile(**overrides: Any) -> Profile:
    values: dict[str, Any] = {
        "name": "홍길동",
        "latin_name": "Hong Gildong",
        "birth_date": dt.date(1985, 3, 14),
        "phone": "010-2345-6789",
        "email": "Gildong.Hong@Example.org",
        "address": "서울특별시 종로구 대학로 101",
    }
    values.update(overrides)
    return Profile(**values)


def participant_with_profile(**overrides: Any) -> Participant:
    """A registered participant (funnel step recorded) with personal data in the vault."""
    profile_overrides = {
        k: overrides.pop(k) for k in list(overrides) if k in Profile.__annotations__
    }
    participant = ParticipantFactory(**overrides)
    participant_record_created(participant=participant, actor=None)
    personal_data_write(participant=participant, profile=profile(**profile_overrides))
    return participant


def open_day(after: int = 1) -> dt.date:
    """The first day, ``after`` days from today or later, on which sites take visits."""
    day = timezone.localdate() + dt.timedelta(days=after)
    while not open_weekday_not_holiday(day):
        day += dt.timedelta(days=1)
    return day


def eligible(**overrides: Any) -> Participant:
    """A participant with personal data who passed the eligibility screen."""
    participant = participant_with_profile(**overrides)
    participant_transition(participant=participant, to_status="eligible", actor=None)
    return participant


def verify_email(user: Any) -> Any:
    """Mark the user's e-mail address verified, as allauth does after the confirmation link."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return user
