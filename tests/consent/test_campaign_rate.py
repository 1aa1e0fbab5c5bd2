"""A campaign keeps its rate with two real workers, through pause/resume and the recovery sweep.

Before one live chain per campaign, resuming while the old chain's next batch was still waiting in
the broker, or the sweep restarting a chain that was alive, left two (or three) chains sending:
120/min became 240/min. Here the sends after the resume are timed from the database.
"""

from __future__ import annotations

import datetime as dt

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
PEOPLE = 24
BATCH = 3
RATE = 90  # a batch every 2 seconds


def test_rate_stays_as_set_after_pause_resume_and_the_sweep(tmp_path, settings, worker_env):
    settings.CONSENT_CAMPAIGN = {
        "BATCH_SIZE": BATCH,
        "RATE_PER_MINUTE": RATE,
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
    app.conf.task_always_eager = False
    workers = [start_worker(tmp_path, f"w{n}", worker_env) for n in (1, 2)]
    try:
        campaign = campaigns.campaign_start(version=v2, by=manager)
        sent = ReconsentInvitation.objects.filter(campaign=campaign, sent_at__isnull=False)
        assert wait_for(lambda: sent.count() >= 2 * BATCH, 60), (tmp_path / "w1.log").read_text()
        # Pause and resume at once: the old chain's next batch is still waiting in Redis.
        campaigns.campaign_pause(campaign=campaign, by=manager)
        campaigns.campaign_resume(campaign=campaign, by=manager)
        resumed_at = timezone.now()
        # The sweep finds the chain overdue (as if its clock ran ahead) and restarts it while
        # the resumed chain is alive.
        later = timezone.now() + campaigns.OVERDUE_GRACE + dt.timedelta(seconds=30)
        assert campaigns.campaigns_resume_stalled(now=later) == [campaign.pk]
        assert wait_for(lambda: sent.count() == PEOPLE, 120), (tmp_path / "w2.log").read_text()
    finally:
        app.conf.task_always_eager = eager
        for worker in workers:
            process_stop(worker)
    times = sorted(
        t for t in sent.filter(sent_at__gt=resumed_at).values_list("sent_at", flat=True) if t
    )
    assert len(times) >= 4 * BATCH
    per_minute = (len(times) - 1) / (times[-1] - times[0]).total_seconds() * 60
    assert per_minute <= RATE * 1.35, f"{per_minute:.0f}/min against {RATE}/min"
    mailed = recipients(tmp_path)
    assert sorted(mailed) == sorted(p.user.email for p in people)  # each exactly once
