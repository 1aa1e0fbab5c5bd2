"""A re-consent campaign run by real Celery workers through Redis, with one worker killed mid-way.

The campaign's state lives in the database, so a fresh worker (after the lost one's batch is sent
again, as the sweep does) finishes it: everyone is e-mailed, nobody is skipped, and at most the one
e-mail in flight when the worker died goes out twice.
"""

from __future__ import annotations

import datetime as dt
import signal

import pytest
from django.utils import timezone

from consent.models import ReconsentInvitation
from consent.services import campaigns
from consent.services.activation import version_activate
from portal.celery import app
from portal.roles import Role
from tests.consent.ledger_builders import ITEMS_V1, make_version, record
from tests.factories import ParticipantFactory, UserFactory, staff_user
from tests.workers import campaign_worker_start as start_worker
from tests.workers import process_stop, recipients, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

YES = {"data_sharing": True, "sample_storage": True, "genomic_analysis": True, "recontact": True}
PEOPLE = 12


def test_campaign_survives_a_killed_worker(tmp_path, settings, worker_env):
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.fail("the worker test needs CELERY_BROKER_URL pointing at Redis")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CONSENT_CAMPAIGN = {
        "BATCH_SIZE": 3,
        "RATE_PER_MINUTE": 90,
        "REMINDER_AFTER_DAYS": 7,
        "MAX_REMINDERS": 1,
    }
    manager = staff_user(Role.PROGRAMME_MANAGER)
    v1 = make_version("v1", activated_at=timezone.now() - dt.timedelta(days=30))
    people = [ParticipantFactory(user=UserFactory()) for _ in range(PEOPLE)]
    for p in people:
        record(p, v1, YES)
    v2 = make_version("v2", [*ITEMS_V1, ("overseas_transfer", False)], status="approved")
    version_activate(version=v2, by=manager)

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False  # the first batch goes through Redis, after the commit
    first = start_worker(tmp_path, "first", worker_env)
    try:
        campaign = campaigns.campaign_start(version=v2, by=manager)
        sent = ReconsentInvitation.objects.filter(campaign=campaign, sent_at__isnull=False)
        assert wait_for(lambda: sent.count() >= 3, 60), (tmp_path / "first.log").read_text()
        first.send_signal(signal.SIGKILL)  # lost: no warm shutdown, its countdown task with it
        first.wait(timeout=10)
        assert sent.count() < PEOPLE
        # The five-minute sweep, once the campaign's next batch is overdue, starts a new chain.
        later = timezone.now() + campaigns.OVERDUE_GRACE + dt.timedelta(seconds=30)
        assert campaigns.campaigns_resume_stalled(now=later) == [campaign.pk]
        second = start_worker(tmp_path, "second", worker_env)
        try:
            done = wait_for(lambda: sent.count() == PEOPLE, 90)
            assert done, (tmp_path / "second.log").read_text()
        finally:
            process_stop(second)
    finally:
        app.conf.task_always_eager = eager
        if first.poll() is None:
            first.kill()
    mailed = recipients(tmp_path)
    expected = {p.user.email for p in people}
    assert set(mailed) == expected
    assert len(mailed) <= PEOPLE + 1  # at most the e-mail in flight when the worker died
    campaign.refresh_from_db()
    assert campaign.status == "sent"
