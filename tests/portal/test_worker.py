"""A real Celery worker, started as its own process against the test Redis, runs a task."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.core.cache import cache

from portal.celery import app
from tests.workers import process_stop, worker_start

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
    # One beat for the cluster: the schedule and its lock live in Redis.
    assert conf.beat_scheduler == "redbeat.RedBeatScheduler"
    assert conf.redbeat_redis_url == settings.CELERY_BROKER_URL


def test_a_real_worker_runs_a_task_sent_through_redis(tmp_path, worker_env):
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.fail("the worker test needs CELERY_BROKER_URL pointing at Redis")
    cache.delete("portal:heartbeat")
    worker = worker_start(tmp_path, "worker", worker_env)
    try:
        app.send_task("portal.tasks.heartbeat")  # through the broker, whatever eager says
        deadline = time.monotonic() + 60
        while cache.get("portal:heartbeat") is None and time.monotonic() < deadline:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            time.sleep(0.2)
        assert cache.get("portal:heartbeat") is not None, (tmp_path / "worker.log").read_text()
    finally:
        process_stop(worker, timeout=20)
    assert "portal.tasks.heartbeat" in (tmp_path / "worker.log").read_text()
