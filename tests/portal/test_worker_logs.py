"""Worker logs are JSON lines like the web's, and carry the id of the request that started a task."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from consent.models import LedgerVerification
from portal.celery import app
from portal.roles import Role
from tests.factories import staff_user
from tests.workers import json_records, process_stop, wait_for, worker_environment, worker_start

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

REQUEST_ID = "req-4f9a1c2e7b"


def test_worker_logs_are_json_with_the_request_id_tracebacks_and_extra_fields(tmp_path, client):
    env = worker_environment()
    # Production workers never run as root; the test machine's may, and Celery warns about it on
    # stderr before logging is set up.
    env.update(LOG_FORMAT="json", PYTHONWARNINGS="ignore:You're running the worker")
    reviewer = staff_user(Role.ETHICS_REVIEWER, mfa=True, all_sites=True)
    client.force_login(reviewer)
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    worker = worker_start(tmp_path, "worker", env)
    log = tmp_path / "worker.log"
    try:
        # A request starts a task (after its commit): the worker's lines carry the request's id.
        response = client.post(
            reverse("consent:ledger_verifications"), HTTP_X_REQUEST_ID=REQUEST_ID
        )
        assert response.status_code == 302
        assert response["X-Request-ID"] == REQUEST_ID
        finished = LedgerVerification.objects.filter(finished_at__isnull=False)
        assert wait_for(finished.exists, 60), log.read_text()
        # A task that fails: its traceback stays inside one record.
        app.send_task("consent.tasks.consent_ledger_verification_run", args=[987654321])
        assert wait_for(lambda: "DoesNotExist" in log.read_text(), 60), log.read_text()
    finally:
        app.conf.task_always_eager = eager
        process_stop(worker)
    found = json_records(log)
    assert {"time", "level", "logger", "message", "request_id"} <= set(found[0])
    ours = [r for r in found if r.get("request_id") == REQUEST_ID]
    assert ours, found
    assert any(r.get("task_name") == "consent.tasks.consent_ledger_verification_run" for r in ours)
    failed = [r for r in found if r["level"] == "ERROR" and "DoesNotExist" in r.get("exc_info", "")]
    assert len(failed) == 1, found
    assert "Traceback (most recent call last)" in failed[0]["exc_info"]
    assert failed[0]["exc_info"].count("\n") > 3  # multi-line, in one record
    assert failed[0]["request_id"] == "-"  # sent without a request
    # Celery's own extra fields survive (the task's id and name in "data").
    assert failed[0]["data"]["name"] == "consent.tasks.consent_ledger_verification_run"
    # The worker counted the failure where /metrics on any web node reads it.
    key = "portal:metrics:task_failures:consent.tasks.consent_ledger_verification_run"
    assert cache.get(key) == 1
