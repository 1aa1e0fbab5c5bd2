"""One scheduler for the cluster: a second `celery beat` waits on the lock instead of sending twice."""

from __future__ import annotations

import uuid

import pytest

from portal.celery import app
from tests.workers import (
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
