"""One scheduler for the cluster: a second `celery beat` waits on the lock instead of sending twice."""

from __future__ import annotations

import uuid

import pytest

from portal.celery import app
from tests.redis_server import RedisServer
from tests.workers import (
    beat_entry_make_due,
    beat_sends,
    beat_start,
    log_text,
    process_stop,
    wait_for,
    worker_environment,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_second_beat_waits_for_the_lock_and_takes_over_when_the_first_stops(tmp_path):
    env = worker_environment()
    env.update(
        HEARTBEAT_INTERVAL_SECONDS="1",
        BEAT_MAX_LOOP_INTERVAL="1",
        REDBEAT_KEY_PREFIX=f"test-beat-{uuid.uuid4().hex}",
    )
    first = beat_start(tmp_path, "first", env)
    second = None
    try:
        assert wait_for(lambda: beat_sends(tmp_path, "first") >= 1, 30), log_text(tmp_path, "first")
        second = beat_start(tmp_path, "second", env)
        assert wait_for(lambda: beat_sends(tmp_path, "first") >= 7, 30), log_text(tmp_path, "first")
        # Six seconds with both running: the schedule ran from the first beat only.
        assert beat_sends(tmp_path, "second") == 0, log_text(tmp_path, "second")
        assert "Acquired lock" not in log_text(tmp_path, "second")
        assert second.poll() is None  # waiting, not crashed
        process_stop(first)  # releases the lock
        assert wait_for(lambda: beat_sends(tmp_path, "second") >= 2, 30), log_text(
            tmp_path, "second"
        )
        assert "Acquired lock" in log_text(tmp_path, "second")
    finally:
        process_stop(first)
        if second is not None:
            process_stop(second)
        app.control.purge()  # nobody consumed the heartbeats


def test_a_beat_restarted_after_redis_restarts_resumes_without_running_a_schedule_twice(tmp_path):
    """redbeat's beat exits when Redis goes away (its lock cannot be extended), so production runs
    it under a supervisor that starts it again. The new beat takes the lock, keeps the schedule
    that Redis kept, and runs nothing a second time; a beat started beside it still waits."""
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    prefix = f"test-beat-{uuid.uuid4().hex}"
    env = worker_environment()
    env.update(
        CELERY_BROKER_URL=f"{redis.url}/0",
        REDIS_URL=f"{redis.url}/1",
        HEARTBEAT_INTERVAL_SECONDS="1",
        BEAT_MAX_LOOP_INTERVAL="1",
        REDBEAT_KEY_PREFIX=prefix,
    )
    nightly = "portal-sessions-clear"
    beats = {"first": beat_start(tmp_path, "first", env)}
    try:
        assert wait_for(lambda: beat_sends(tmp_path, "first") >= 1, 30), log_text(tmp_path, "first")
        beat_entry_make_due(redis_url=f"{redis.url}/0", key_prefix=prefix, entry=nightly)
        assert wait_for(lambda: beat_sends(tmp_path, "first", nightly) == 1, 30)
        # Redis restarts; beat's next tick finds it down and beat exits.
        redis.stop()
        assert wait_for(lambda: beats["first"].poll() is not None, 30), log_text(tmp_path, "first")
        redis.start()
        # The supervisor starts it again (systemd: Restart=always).
        beats["second"] = beat_start(tmp_path, "second", env)
        assert wait_for(lambda: beat_sends(tmp_path, "second") >= 2, 30), log_text(
            tmp_path, "second"
        )
        assert "Acquired lock" in log_text(tmp_path, "second")
        beats["third"] = beat_start(tmp_path, "third", env)  # a restart while it still runs
        before = beat_sends(tmp_path, "second")
        assert wait_for(lambda: beat_sends(tmp_path, "second") >= before + 5, 30)
        assert beat_sends(tmp_path, "third") == 0, log_text(tmp_path, "third")
        assert beats["third"].poll() is None  # waiting on the lock
        # The nightly job ran once, before the restart: its last run was kept in Redis.
        assert beat_sends(tmp_path, "second", nightly) == 0
        assert beat_sends(tmp_path, "third", nightly) == 0
    finally:
        for beat in beats.values():
            process_stop(beat)
        redis.stop()
