"""The portal as a small cluster: two Celery workers and two beats (one waiting on the lock), all
through a real PgBouncer in transaction mode, sharing one file directory, with this process as the
web node. One running cluster shows each failure of running on many machines fixed:

* the second beat sends nothing while the first holds the lock, and takes over after a crash
  without running a daily job again;
* a re-consent campaign keeps its rate through pause/resume and the recovery sweep;
* a receipt that the signing's task, a download and a task delivered twice race for is rendered,
  stored (where the web node reads it) and mailed once;
* the daily coming-of-age job, started by beat, pages through the pooler without cursor errors;
* expired sessions are cleared when beat runs their schedule;
* worker and beat logs are JSON lines, carrying the id of the request that started a task;
* readiness reports beat's heartbeat as stale once no beat runs.

Select it with ``-m cluster``.
"""

from __future__ import annotations

import datetime as dt
import signal
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from consent.models import ConsentReceipt, OwnConsentRequest, ReconsentInvitation
from consent.services import campaigns
from consent.services.activation import version_activate
from consent.tasks import consent_receipt_issue
from enrollment.vault import Profile, personal_data_write
from portal.celery import app
from portal.roles import Role
from tests.consent import signing_builders as ca
from tests.consent.ledger_builders import ITEMS_V1, make_version, record
from tests.enrollment.people import years_ago
from tests.factories import ParticipantFactory, UserFactory, staff_user
from tests.workers import (
    beat_entry_make_due,
    beat_sends,
    beat_start,
    campaign_worker_start,
    json_records,
    log_text,
    process_stop,
    recipients,
    wait_for,
    worker_environment,
)

pytestmark = [pytest.mark.cluster, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

YES = {"data_sharing": True, "sample_storage": True, "genomic_analysis": True, "recontact": True}
PEOPLE = 21
BATCH = 3
RATE = 90  # campaign_worker_start's workers: a batch every 2 seconds
MINORS = 3
REQUEST_ID = "req-cluster-5d2e8a"
STALE_AFTER = 4  # seconds without a heartbeat (sent every second) before readiness says so


def _campaign_due(manager: Any) -> Any:
    """``PEOPLE`` participants on v1; v2 activated, so all of them are due to re-consent."""
    v1 = make_version("v1", activated_at=timezone.now() - dt.timedelta(days=30))
    for _ in range(PEOPLE):
        record(ParticipantFactory(user=UserFactory()), v1, YES)
    v2 = make_version("v2", [*ITEMS_V1, ("overseas_transfer", False)], status="approved")
    version_activate(version=v2, by=manager)
    return v2


def _minors_turning_19_today(version: Any) -> list[Any]:
    """Participants whose guardian signed ``version`` and who are 19 today."""
    minors = []
    for n in range(MINORS):
        participant = ParticipantFactory(is_minor=True, birth_year=years_ago(19).year)
        personal_data_write(
            participant=participant,
            profile=Profile(name="김민지", birth_date=years_ago(19), email=f"young{n}@example.org"),
        )
        record(participant, version, YES, signer_kind="legal_representative")
        minors.append(participant)
    return minors


def _expired_and_live_sessions() -> tuple[str, str]:
    live, expired = SessionStore(), SessionStore()
    for store in (live, expired):
        store["k"] = 1
        store.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=timezone.now() - dt.timedelta(minutes=1)
    )
    return live.session_key, expired.session_key


def _files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def test_a_cluster_behind_pgbouncer_runs_every_job_once_at_its_rate(
    tmp_path, settings, client, pgbouncer
):
    settings.CONSENT_CAMPAIGN = {
        "BATCH_SIZE": BATCH,
        "RATE_PER_MINUTE": RATE,
        "REMINDER_AFTER_DAYS": 7,
        "MAX_REMINDERS": 1,
    }
    shared = tmp_path / "shared"  # the directory every node mounts
    settings.MEDIA_ROOT = shared
    settings.PORTAL_HEALTHZ_CHECK_BROKER = True
    settings.HEARTBEAT_STALE_AFTER_SECONDS = STALE_AFTER
    prefix = f"test-cluster-{uuid.uuid4().hex}"
    env = worker_environment(pooler=pgbouncer)
    env.update(
        FILE_STORAGE="directory",
        MEDIA_ROOT=str(shared),
        LOG_FORMAT="json",
        PYTHONWARNINGS="ignore:You're running the worker",
        HEARTBEAT_INTERVAL_SECONDS="1",
        HEARTBEAT_STALE_AFTER_SECONDS=str(STALE_AFTER),
        BEAT_MAX_LOOP_INTERVAL="1",  # the lock of a crashed beat expires after 5 seconds
        REDBEAT_KEY_PREFIX=prefix,
    )

    manager = staff_user(Role.PROGRAMME_MANAGER)
    v2 = _campaign_due(manager)
    minors = _minors_turning_19_today(v2)
    live_session, expired_session = _expired_and_live_sessions()
    signer = ca.eligible_participant(user=UserFactory(), email="signer@example.org")
    client.force_login(signer.user)

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    processes = {
        "w1": campaign_worker_start(tmp_path, "w1", env),
        "w2": campaign_worker_start(tmp_path, "w2", env),
        "beat1": beat_start(tmp_path, "beat1", env),
    }
    try:
        assert wait_for(lambda: beat_sends(tmp_path, "beat1") >= 1, 30), log_text(tmp_path, "beat1")
        processes["beat2"] = beat_start(tmp_path, "beat2", env)

        # A campaign, paused and resumed at once while its next batch waits in Redis.
        campaign = campaigns.campaign_start(version=v2, by=manager)
        sent = ReconsentInvitation.objects.filter(campaign=campaign, sent_at__isnull=False)
        assert wait_for(lambda: sent.count() >= 2 * BATCH, 60), log_text(tmp_path, "w1")
        campaigns.campaign_pause(campaign=campaign, by=manager)
        campaigns.campaign_resume(campaign=campaign, by=manager)
        resumed_at = timezone.now()
        # The sweep judges the chain overdue (as if its clock ran ahead) and restarts it.
        later = timezone.now() + campaigns.OVERDUE_GRACE + dt.timedelta(seconds=30)
        assert campaigns.campaigns_resume_stalled(now=later) == [campaign.pk]

        # Meanwhile a participant signs; the signing's task, their download (which asks again)
        # and the same task delivered twice race on the two workers.
        event = ca.sign_all_yes(signer, v2)
        response = client.get(f"/consent/receipts/{event.pk}/", HTTP_X_REQUEST_ID=REQUEST_ID)
        assert response.status_code == 202  # being prepared; this page renders nothing
        consent_receipt_issue.delay(event.pk)

        # The nightly jobs, made due in beat's own schedule.
        for entry in ("consent-minors-coming-of-age", "portal-sessions-clear"):
            beat_entry_make_due(
                redis_url=settings.CELERY_BROKER_URL, key_prefix=prefix, entry=entry
            )
        flagged = OwnConsentRequest.objects.filter(participant__in=minors)
        assert wait_for(lambda: flagged.count() == MINORS, 60), log_text(tmp_path, "w2")
        sessions = Session.objects.values_list("session_key", flat=True)
        assert wait_for(lambda: expired_session not in set(sessions), 30)
        assert live_session in set(sessions)

        mailed = ConsentReceipt.objects.filter(event=event, emailed_at__isnull=False)
        assert wait_for(mailed.exists, 60), log_text(tmp_path, "w1") + log_text(tmp_path, "w2")
        assert wait_for(lambda: sent.count() == PEOPLE, 90), log_text(tmp_path, "w2")

        # Beat: only the first sent anything; the second waited on the lock.
        assert beat_sends(tmp_path, "beat2") == 0, log_text(tmp_path, "beat2")
        assert "Acquired lock" not in log_text(tmp_path, "beat2")
        assert processes["beat2"].poll() is None
        ready = client.get("/healthz/ready").json()
        assert (ready["status"], ready["checks"]["beat"]) == ("ok", "ok")

        # The first beat crashes (no lock released): the standby takes over once the lock
        # expires, and does not run again the nightly jobs the first one ran.
        processes["beat1"].send_signal(signal.SIGKILL)
        processes["beat1"].wait(timeout=10)
        assert wait_for(lambda: beat_sends(tmp_path, "beat2") >= 2, 30), log_text(tmp_path, "beat2")
        assert "Acquired lock" in log_text(tmp_path, "beat2")
        for entry in ("consent-minors-coming-of-age", "portal-sessions-clear"):
            assert beat_sends(tmp_path, "beat1", entry) == 1
            assert beat_sends(tmp_path, "beat2", entry) == 0

        # No beat at all: readiness says beat is stale, and the node still serves.
        process_stop(processes["beat2"])
        assert wait_for(
            lambda: client.get("/healthz/ready").json()["checks"]["beat"] == "stale", 30
        )
        response = client.get("/healthz/ready")
        assert (response.status_code, response.json()["status"]) == (200, "degraded")
    finally:
        app.conf.task_always_eager = eager
        for process in processes.values():
            process_stop(process)
        app.control.purge()

    # The campaign kept its rate after the resume and the sweep; everyone mailed once.
    times = sorted(
        t for t in sent.filter(sent_at__gt=resumed_at).values_list("sent_at", flat=True) if t
    )
    assert len(times) >= 4 * BATCH
    per_minute = (len(times) - 1) / (times[-1] - times[0]).total_seconds() * 60
    assert per_minute <= RATE * 1.35, f"{per_minute:.0f}/min against {RATE}/min"
    mail_to = recipients(tmp_path)
    campaign_to = [a for a in mail_to if a not in ("signer@example.org",) and "young" not in a]
    assert len(campaign_to) == PEOPLE == len(set(campaign_to))

    # The receipt: one row, one file in the shared directory, one e-mail; the web node reads it.
    receipt = ConsentReceipt.objects.get(event=event)
    assert [p.relative_to(shared).as_posix() for p in _files(shared)] == [receipt.file.name]
    assert mail_to.count("signer@example.org") == 1
    download = client.get(f"/consent/receipts/{event.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF-")

    # Coming of age through the pooler: each minor flagged and told once, no error anywhere.
    assert sorted(a for a in mail_to if "young" in a) == [
        f"young{n}@example.org" for n in range(MINORS)
    ]
    logs = {name: json_records(tmp_path / f"{name}.log") for name in ("w1", "w2", "beat1")}
    errors = [
        r for records in logs.values() for r in records if r["level"] in ("ERROR", "CRITICAL")
    ]
    assert errors == []
    # The request's id travelled into the receipt task it asked for.
    worker_records = logs["w1"] + logs["w2"]
    assert any(
        r.get("request_id") == REQUEST_ID
        and r.get("task_name") == "consent.tasks.consent_receipt_issue"
        for r in worker_records
    ), worker_records
    assert any("Sending due task" in r["message"] for r in logs["beat1"])
