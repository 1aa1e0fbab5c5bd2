"""Withdrawal levels at every door: a test per level per door.

Each participant consents through the real signing service, withdraws through the real withdrawal
service, then knocks at one door: visit reminders and confirmations (mail and text), visit booking,
invitation codes, re-consent campaigns, sample recording, and the use of data.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from consent.selectors.checks import consent_allows
from consent.selectors.doors import collection_allowed, contact_allowed
from consent.services import ItemSpec, consent_withdraw
from consent.services.campaigns import campaign_send_batch, campaign_start
from dam.models import Sample
from dam.services import sample_record
from enrollment import messaging
from enrollment.models import Invitation, Visit
from enrollment.services import VisitRefused, invitation_issue, visit_book
from enrollment.services.visits import open_weekday_not_holiday, visit_reminder_send
from portal.roles import Role
from tests.consent import signing_builders as ca
from tests.factories import SiteFactory, staff_user

pytestmark = pytest.mark.django_db

LEVELS = ["no_further_contact", "no_further_collection", "no_further_use"]
CONTACT_OPEN = {
    "no_further_contact": False,
    "no_further_collection": False,
    "no_further_use": False,
}
COLLECTION_OPEN = {
    "no_further_contact": True,
    "no_further_collection": False,
    "no_further_use": False,
}
USE_OPEN = {"no_further_contact": True, "no_further_collection": True, "no_further_use": False}


@pytest.fixture(autouse=True)
def _empty_text_outbox() -> None:
    messaging.outbox.clear()


def open_day(after: int = 1) -> dt.date:
    day = timezone.localdate() + dt.timedelta(days=after)
    while not open_weekday_not_holiday(day):
        day += dt.timedelta(days=1)
    return day


@pytest.fixture
def version() -> Any:
    return ca.active_version()


@pytest.fixture
def site() -> Any:
    return SiteFactory(daily_capacity=5)


def consented(site: Any, version: Any, **profile: Any) -> Any:
    participant = ca.eligible_participant(site=site, **profile)
    ca.sign_all_yes(participant, version)
    participant.refresh_from_db()
    return participant


def withdraw(participant: Any, level: str) -> None:
    consent_withdraw(
        participant=participant,
        level=level,
        by=None,
        confirmed=True,
        samples_fate="destroy" if level == "no_further_use" else "",
    )
    participant.refresh_from_db()


@pytest.mark.parametrize("level", LEVELS)
def test_the_funnel_keeps_them_unless_nothing_may_be_used(site, version, level):
    participant = consented(site, version)
    withdraw(participant, level)
    assert (participant.status == "withdrawn") is (level == "no_further_use")
    assert contact_allowed(participant=participant).allowed is CONTACT_OPEN[level]
    assert collection_allowed(participant=participant).allowed is COLLECTION_OPEN[level]
    if not CONTACT_OPEN[level]:
        assert contact_allowed(participant=participant).reason == (
            f"withdrawn: {level.replace('_', ' ')}"
        )


@pytest.mark.parametrize("level", LEVELS)
def test_visit_reminders_reach_nobody_who_withdrew(
    site, version, level, django_capture_on_commit_callbacks
):
    participant = consented(site, version)
    visit = visit_book(participant=participant, site=site, day=open_day(), by=None)
    other = consented(site, version, email="other@example.org", phone="010-5555-6666")
    other_visit = visit_book(participant=other, site=site, day=open_day(), by=None)
    withdraw(participant, level)
    mail.outbox.clear()
    # Reminders go out from tasks after the commit (ids only); run those callbacks here.
    with django_capture_on_commit_callbacks(execute=True):
        visit_reminder_send(visit_id=visit.pk)
    assert mail.outbox == [] and list(messaging.outbox) == []
    with django_capture_on_commit_callbacks(execute=True):
        visit_reminder_send(visit_id=other_visit.pk)  # who did not withdraw is reminded
    assert [m.to for m in mail.outbox] == [["other@example.org"]]
    assert [m.to_phone for m in messaging.outbox] == ["+821055556666"]


@pytest.mark.parametrize("level", ["no_further_contact"])
def test_the_confirmation_of_their_own_booking_is_a_receipt_and_still_goes(
    site, version, level, django_capture_on_commit_callbacks
):
    participant = consented(site, version)
    withdraw(participant, level)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        visit_book(participant=participant, site=site, day=open_day(), by=None)
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("level", LEVELS)
def test_visit_booking_is_refused_once_nothing_more_may_be_collected(site, version, level):
    participant = consented(site, version)
    withdraw(participant, level)
    if COLLECTION_OPEN[level]:
        visit_book(participant=participant, site=site, day=open_day(), by=None)
        assert Visit.objects.filter(participant=participant).count() == 1
        return
    with pytest.raises(VisitRefused):
        visit_book(participant=participant, site=site, day=open_day(), by=None)
    assert not Visit.objects.filter(participant=participant).exists()


@pytest.mark.parametrize("level", LEVELS)
def test_no_invitation_code_goes_to_someone_who_withdrew(site, version, level):
    participant = consented(site, version)
    withdraw(participant, level)
    coordinator = staff_user(Role.COORDINATOR, sites=[site])
    with pytest.raises(ValidationError):
        invitation_issue(participant=participant, by=coordinator)
    assert not Invitation.objects.filter(participant=participant).exists()
    other = consented(site, version, email="other@example.org", phone="010-5555-6666")
    invitation_issue(participant=other, by=coordinator)  # who did not withdraw gets one
    assert Invitation.objects.filter(participant=other).exists()


@pytest.mark.parametrize("level", LEVELS)
def test_reconsent_campaigns_mail_nobody_who_withdrew(site, version, level):
    participant = consented(site, version)
    withdraw(participant, level)
    # No withdrawal: gets the e-mail.
    still_due = consented(site, version, email="other@example.org", phone="010-5555-6666")
    newer = ca.active_version(
        label="2.0", items=[*ca.ITEMS, ItemSpec("overseas_transfer", "국외 이전", "국외 이전")]
    )
    manager = staff_user(Role.PROGRAMME_MANAGER)
    mail.outbox.clear()
    campaign = campaign_start(version=newer, by=manager)
    campaign_send_batch(campaign_id=campaign.pk)
    assert not campaign.invitations.filter(participant=participant, sent_at__isnull=False).exists()
    assert campaign.invitations.filter(participant=still_due, sent_at__isnull=False).exists()


@pytest.mark.parametrize("level", LEVELS)
def test_sample_recording_follows_the_level(site, version, level):
    participant = consented(site, version)
    withdraw(participant, level)
    coordinator = staff_user(Role.COORDINATOR, sites=[site])

    def record() -> Sample:
        return sample_record(
            participant=participant,
            barcode="BDD-000001",
            sample_type="WB_EDTA",
            collected_at=timezone.now() - dt.timedelta(minutes=10),
            volume_ml=Decimal("4.5"),
            by=coordinator,
        )

    if COLLECTION_OPEN[level]:
        record()
        assert Sample.objects.filter(participant=participant).count() == 1
        return
    with pytest.raises(ValidationError):
        record()
    assert not Sample.objects.filter(participant=participant).exists()


@pytest.mark.parametrize("level", LEVELS)
def test_use_of_what_was_given_stops_only_at_no_further_use(site, version, level):
    participant = consented(site, version)
    withdraw(participant, level)
    decision = consent_allows(participant, "general_research")
    assert decision.allowed is USE_OPEN[level]
    assert consent_allows(participant, "general_research", at=timezone.now()) == decision


def test_a_withdrawal_can_be_made_stricter_never_looser(site, version):
    participant = consented(site, version)
    withdraw(participant, "no_further_contact")
    withdraw(participant, "no_further_use")
    assert participant.status == "withdrawn"
    with pytest.raises(ValidationError):
        withdraw(participant, "no_further_collection")
