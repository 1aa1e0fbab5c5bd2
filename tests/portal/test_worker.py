"""A real Celery worker, started as its own process against the test Redis, runs a task."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from portal.celery import app

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_celery_is_configured_for_at_least_once_delivery_with_json_only():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.broker_transport_options["visibility_timeout"] == settings.CELERY_VISIBILITY_TIMEOUT
    # A task must end well before Redis would hand it to a second worker.
    assert conf.task_time_limit < settings.CELERY_VISIBILITY_TIMEOUT
    assert conf.beat_schedule["portal-heartbeat"]["task"] == "portal.tasks.heartbeat"


def _worker_env() -> dict[str, str]:
    database = connection.settings_dict
    credentials = database["USER"] + (f":{database['PASSWORD']}" if database["PASSWORD"] else "")
    env = dict(os.environ)
    env.update(
        PORTAL_ENV="test",
        CELERY_TASK_ALWAYS_EAGER="false",
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        REDIS_URL=settings.REDIS_URL,
        # The database pytest-django created for this run (test_...), not the configured one.
        DATABASE_URL=(
            f"postgres://{credentials}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
    )
    return env


def test_a_real_worker_runs_a_task_sent_through_redis(tmp_path):
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.fail("the worker test needs CELERY_BROKER_URL pointing at Redis")
    cache.delete("portal:heartbeat")
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "portal", "worker",
            "--pool=solo", "--loglevel=INFO", "--without-gossip", "--without-mingle",
            "--hostname", f"test-{os.getpid()}@%h",
        ],
        cwd=Path(settings.BASE_DIR),
        env=_worker_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        app.send_task("portal.tasks.heartbeat")  # through the broker, whatever eager says
        deadline = time.monotonic() + 60
        while cache.get("portal:heartbeat") is None and time.monotonic() < deadline:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            time.sleep(0.2)
        assert cache.get("portal:heartbeat") is not None, (tmp_path / "worker.log").read_text()
    finally:
        worker.send_signal(signal.SIGTERM)  # warm shutdown: finish the current task, then stop
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
        log.close()
    assert "portal.tasks.heartbeat" in (tmp_path / "worker.log").read_text()
