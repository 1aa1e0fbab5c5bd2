"""Re-consent campaigns: who is invited, batches, at-least-once resumption, reminders, minors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from consent.models import (
    CampaignStatus,
    ConsentState,
    OwnConsentRequest,
    ReconsentCampaign,
    ReconsentInvitation,
)
from consent.selectors.campaigns import campaign_progress
from consent.services import campaigns
from consent.services.activation import version_activate
from consent.services.coming_of_age import minors_flag_coming_of_age
from enrollment.vault import Profile, personal_data_write
from tests.consent.ledger_builders import ITEMS_V1, make_version, record
from tests.factories import ParticipantFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db

YES = {"data_sharing": True, "sample_storage": True, "genomic_analysis": True, "recontact": True}


@pytest.fixture
def small_batches(settings: Any) -> None:
    settings.CONSENT_CAMPAIGN = {
        "BATCH_SIZE": 2,
        "RATE_PER_MINUTE": 600,
        "REMINDER_AFTER_DAYS": 7,
        "MAX_REMINDERS": 1,
    }


def participant_with_account(site=None):
    user = UserFactory()
    return ParticipantFactory(user=user, **({"site": site} if site else {}))


@pytest.fixture
def due(manager):
    """Five participants on v1, then v2 (which adds overseas_transfer) is activated."""
    v1 = make_version("v1", activated_at=timezone.now() - dt.timedelta(days=100))
    site_a, site_b = SiteFactory(code="aaa"), SiteFactory(code="bbb")
    people = [participant_with_account(site_a if i < 3 else site_b) for i in range(5)]
    for p in people:
        record(p, v1, YES)
    v2 = make_version("v2", [*ITEMS_V1, ("overseas_transfer", False)], status="approved")
    version_activate(version=v2, by=manager)
    return v2, people


def test_start_invites_only_those_due_once_each(due, manager, small_batches):
    v2, people = due
    already_on_v2 = participant_with_account()
    record(already_on_v2, v2, {**YES, "overseas_transfer": True})
    campaign = campaigns.campaign_start(version=v2, by=manager)
    assert campaign.invited_count == 5
    assert set(campaign.invitations.values_list("participant_id", flat=True)) == {
        p.pk for p in people
    }
    with pytest.raises(ValidationError):
        campaigns.campaign_start(version=v2, by=manager)


def test_batches_respect_size_and_finish_the_campaign(due, manager, small_batches):
    v2, people = due
    campaign = campaigns.campaign_start(version=v2, by=manager)
    assert campaigns.campaign_send_batch(campaign_id=campaign.pk) == 2
    assert len(mail.outbox) == 2
    assert campaigns.campaign_send_batch(campaign_id=campaign.pk) == 2
    assert campaigns.campaign_send_batch(campaign_id=campaign.pk) == 1
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.user.email for p in people)
    assert not ReconsentInvitation.objects.filter(sent_at__isnull=True).exists()
    # The e-mail is in the version's language (Korean) and links to the portal.
    assert "http" in mail.outbox[0].body


def test_a_dead_worker_is_resumed_without_skipping_or_resending(
    due, manager, small_batches, monkeypatch
):
    v2, _people = due
    campaign = campaigns.campaign_start(version=v2, by=manager)
    real_mail = campaigns._mail
    calls = {"n": 0}

    def dies_on_second(**kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("worker lost")
        real_mail(**kwargs)

    monkeypatch.setattr(campaigns, "_mail", dies_on_second)
    with pytest.raises(ConnectionError):
        campaigns.campaign_send_batch(campaign_id=campaign.pk)
    assert ReconsentInvitation.objects.filter(sent_at__isnull=False).count() == 1
    monkeypatch.setattr(campaigns, "_mail", real_mail)
    for _ in range(3):
        campaigns.campaign_send_batch(campaign_id=campaign.pk)
    recipients = [m.to[0] for m in mail.outbox]
    assert len(recipients) == 5 == len(set(recipients))


def test_stalled_campaign_is_picked_up_by_the_sweep(
    due, manager, small_batches, django_capture_on_commit_callbacks
):
    v2, _people = due
    campaign = campaigns.campaign_start(version=v2, by=manager)
    ReconsentCampaign.objects.filter(pk=campaign.pk).update(
        next_batch_due_at=timezone.now() - dt.timedelta(minutes=3)
    )
    with django_capture_on_commit_callbacks(execute=True):
        resumed = campaigns.campaigns_resume_stalled()
    assert resumed == [campaign.pk]
    # Eager Celery: the resumed task ran its batch and chained the rest.
    assert len(mail.outbox) == 5


def test_those_who_acted_or_have_no_address_are_not_mailed(due, manager, small_batches):
    v2, people = due
    record(people[0], v2, {**YES, "overseas_transfer": True}, kind="reconsent")
    no_mail = ParticipantFactory(site=people[1].site)
    v1 = ConsentState.objects.get(participant=people[1]).version
    record(no_mail, v1, YES)  # on the replaced version: due for re-consent
    campaign = campaigns.campaign_start(version=v2, by=manager)
    for _ in range(4):
        campaigns.campaign_send_batch(campaign_id=campaign.pk)
    outcomes = dict(campaign.invitations.values_list("participant_id", "outcome"))
    assert outcomes[no_mail.pk] == "no_address"
    assert len(mail.outbox) == 4
    assert people[0].user.email not in [m.to[0] for m in mail.outbox]


def test_reminders_go_after_n_days_to_those_still_due_at_most_max(due, manager, small_batches):
    v2, people = due
    campaign = campaigns.campaign_start(version=v2, by=manager)
    for _ in range(3):
        campaigns.campaign_send_batch(campaign_id=campaign.pk)
    mail.outbox.clear()
    record(people[0], v2, {**YES, "overseas_transfer": False}, kind="reconsent")
    assert campaigns.campaign_send_reminders(campaign_id=campaign.pk) == 0
    later = timezone.now() + dt.timedelta(days=8)
    handled = sum(
        campaigns.campaign_send_reminders(campaign_id=campaign.pk, now=later) for _ in range(3)
    )
    assert handled == 5  # four reminders, and one marked as no longer needed
    reminded = {m.to[0] for m in mail.outbox}
    assert people[0].user.email not in reminded and len(reminded) == 4
    assert (
        campaigns.campaign_send_reminders(
            campaign_id=campaign.pk, now=later + dt.timedelta(days=30)
        )
        == 0
    )  # max_reminders = 1


def test_progress_per_site(due, manager, small_batches):
    v2, people = due
    campaign = campaigns.campaign_start(version=v2, by=manager)
    for _ in range(3):
        campaigns.campaign_send_batch(campaign_id=campaign.pk)
    record(people[0], v2, {**YES, "overseas_transfer": True}, kind="reconsent")
    record(people[3], v2, YES, kind="withdraw", withdrawal_level="no_further_use")
    progress = campaign_progress(campaign)
    by_code = {s.site_code: s for s in progress.per_site}
    assert (by_code["aaa"].invited, by_code["aaa"].completed, by_code["aaa"].still_due) == (3, 1, 2)
    assert (by_code["bbb"].invited, by_code["bbb"].withdrawn, by_code["bbb"].still_due) == (2, 1, 1)
    assert progress.total.invited == 5 and progress.pending == 0
    only_a = campaign_progress(campaign, site_ids=frozenset({people[0].site_id}))
    assert only_a.total.invited == 3


def test_pause_stops_sending_and_resume_continues(due, manager, small_batches):
    v2, _people = due
    campaign = campaigns.campaign_start(version=v2, by=manager)
    campaigns.campaign_pause(campaign=campaign, by=manager)
    assert campaigns.campaign_send_batch(campaign_id=campaign.pk) == 0
    campaigns.campaign_resume(campaign=campaign, by=manager)
    assert campaigns.campaign_send_batch(campaign_id=campaign.pk) == 2


def test_campaign_needs_an_active_version(manager):
    draft_like = make_version("v9", status="approved")
    with pytest.raises(ValidationError):
        campaigns.campaign_start(version=draft_like, by=manager)


def _minor(birth_date: dt.date, email: str = "young@example.org"):
    participant = ParticipantFactory(is_minor=True, birth_year=birth_date.year)
    personal_data_write(
        participant=participant,
        profile=Profile(name="김민지", birth_date=birth_date, email=email),
    )
    return participant


def test_minor_turning_19_is_flagged_once_and_told(manager):
    v1 = make_version("v1")
    today = dt.date(2026, 11, 29)
    turns_19_today = _minor(dt.date(2007, 11, 29))
    still_18 = _minor(dt.date(2007, 11, 30), email="")
    for p in (turns_19_today, still_18):
        # The guardian signed while they were minors.
        signed = timezone.make_aware(dt.datetime(2026, 6, 1, 10, 0))
        record(p, v1, YES, signer_kind="legal_representative", signed_at=signed)
    result = minors_flag_coming_of_age(today=today)
    assert (result.flagged, result.notified) == (1, 1)
    request = OwnConsentRequest.objects.get()
    assert request.participant == turns_19_today
    assert request.came_of_age_on == today
    assert ConsentState.objects.get(participant=turns_19_today).status == "reconsent_due"
    assert ConsentState.objects.get(participant=still_18).status == "active"
    assert mail.outbox[0].to == ["young@example.org"]
    assert minors_flag_coming_of_age(today=today).flagged == 0


def test_a_stale_chain_sends_nothing_after_pause_and_resume(
    due, manager, small_batches, django_capture_on_commit_callbacks
):
    v2, _people = due
    campaign = campaigns.campaign_start(version=v2, by=manager)
    first = ReconsentCampaign.objects.get(pk=campaign.pk).chain_token
    campaigns.campaign_pause(campaign=campaign, by=manager)
    campaigns.campaign_resume(campaign=campaign, by=manager)
    live = ReconsentCampaign.objects.get(pk=campaign.pk).chain_token
    assert live and live != first
    # The batch scheduled before the pause arrives: it is not the live chain.
    assert campaigns.campaign_send_batch(campaign_id=campaign.pk, chain_token=first) == 0
    assert campaigns.campaign_send_batch(campaign_id=campaign.pk, chain_token="") == 0
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=False) as scheduled:
        assert campaigns.campaign_send_batch(campaign_id=campaign.pk, chain_token=live) == 2
    assert len(scheduled) == 1  # the chain goes on, once
    # Delivered again (a killed worker's task): its token was used up.
    assert campaigns.campaign_send_batch(campaign_id=campaign.pk, chain_token=live) == 0


def test_the_sweep_leaves_a_chain_that_is_on_time_and_replaces_an_overdue_one(
    due, manager, small_batches
):
    v2, _people = due
    campaign = campaigns.campaign_start(version=v2, by=manager)
    assert campaigns.campaigns_resume_stalled() == []
    old = ReconsentCampaign.objects.get(pk=campaign.pk).chain_token
    later = timezone.now() + campaigns.OVERDUE_GRACE + dt.timedelta(seconds=5)
    assert campaigns.campaigns_resume_stalled(now=later) == [campaign.pk]
    assert campaigns.campaign_send_batch(campaign_id=campaign.pk, chain_token=old) == 0
    assert mail.outbox == []


def test_the_mail_is_handed_over_outside_a_transaction(due, manager, small_batches, monkeypatch):
    from django.db import connection

    v2, _people = due
    campaign = campaigns.campaign_start(version=v2, by=manager)
    depth = []
    real_mail = campaigns._mail

    def watching(**kwargs: Any) -> None:
        # pytest-django's test transaction is the one atomic block allowed here.
        depth.append(len(connection.savepoint_ids))
        real_mail(**kwargs)

    monkeypatch.setattr(campaigns, "_mail", watching)
    campaigns.campaign_send_batch(campaign_id=campaign.pk)
    assert depth == [0, 0]


def _sent_a_week_ago(campaign):
    for _ in range(3):
        campaigns.campaign_send_batch(campaign_id=campaign.pk)
    ReconsentInvitation.objects.filter(campaign=campaign).update(
        sent_at=timezone.now() - dt.timedelta(days=8)
    )
    mail.outbox.clear()


def test_a_stale_reminder_batch_sends_nothing_and_the_live_one_chains_once(
    due, manager, small_batches, django_capture_on_commit_callbacks
):
    v2, _people = due
    campaign = campaigns.campaign_start(version=v2, by=manager)
    _sent_a_week_ago(campaign)
    with django_capture_on_commit_callbacks(execute=False) as started:
        assert campaigns.campaigns_remind_all() == 1
    assert len(started) == 1
    first = ReconsentCampaign.objects.get(pk=campaign.pk).reminder_chain_token
    assert first
    # The daily start again (beat run twice, or a second beat): the live chain is left alone.
    with django_capture_on_commit_callbacks(execute=False) as again:
        assert campaigns.campaigns_remind_all() == 0
    assert again == []
    # The sweep, as if the chain's clock ran ahead, replaces it: the old token is stale.
    later = timezone.now() + campaigns.OVERDUE_GRACE + dt.timedelta(seconds=5)
    assert campaigns.campaigns_resume_stalled(now=later) == [campaign.pk]
    live = ReconsentCampaign.objects.get(pk=campaign.pk).reminder_chain_token
    assert live and live != first
    assert campaigns.campaign_send_reminders(campaign_id=campaign.pk, chain_token=first) == 0
    assert campaigns.campaign_send_reminders(campaign_id=campaign.pk, chain_token="") == 0
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=False) as scheduled:
        assert campaigns.campaign_send_reminders(campaign_id=campaign.pk, chain_token=live) == 2
    assert len(scheduled) == 1  # the chain goes on, once
    assert len(mail.outbox) == 2
    # Delivered again (a killed worker's task): its token was used up.
    assert campaigns.campaign_send_reminders(campaign_id=campaign.pk, chain_token=live) == 0
    assert len(mail.outbox) == 2


def test_the_reminder_chain_ends_when_nobody_is_left_and_the_sweep_leaves_it(
    due, manager, small_batches, django_capture_on_commit_callbacks
):
    v2, people = due
    campaign = campaigns.campaign_start(version=v2, by=manager)
    _sent_a_week_ago(campaign)
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.campaigns_remind_all()  # eager: the whole chain runs
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.user.email for p in people)
    campaign.refresh_from_db()
    assert (campaign.reminder_chain_token, campaign.next_reminder_due_at) == ("", None)
    later = timezone.now() + dt.timedelta(hours=1)
    assert campaigns.campaigns_resume_stalled(now=later) == []


def test_reminders_wait_until_every_first_invitation_is_out(
    due, manager, small_batches, django_capture_on_commit_callbacks
):
    v2, _people = due
    campaign = campaigns.campaign_start(version=v2, by=manager)
    campaigns.campaign_send_batch(campaign_id=campaign.pk)  # two of five sent
    ReconsentInvitation.objects.filter(campaign=campaign, sent_at__isnull=False).update(
        sent_at=timezone.now() - dt.timedelta(days=8)
    )
    mail.outbox.clear()
    # Still sending first invitations: no reminder chain beside it, so the rate is not doubled.
    with django_capture_on_commit_callbacks(execute=False) as started:
        assert campaigns.campaigns_remind_all() == 0
    assert started == []
    assert campaigns.campaign_send_reminders(campaign_id=campaign.pk) == 0
    assert mail.outbox == []
    campaigns.campaign_send_batch(campaign_id=campaign.pk)
    campaigns.campaign_send_batch(campaign_id=campaign.pk)
    assert ReconsentCampaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert campaigns.campaigns_remind_all() == 1
    assert len(mail.outbox) == 2  # the two sent a week ago
