"""Fault injection: real Redis, real Celery worker processes, the strict loopback dam, a few hundred
messages each. Every test ends with every message accepted exactly once, in sequence per subject,
none lost (``assert_exactly_once_in_order``) and nothing left undelivered."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from django.conf import settings

from dam.models import OutboxMessage
from portal.celery import app
from tests.dam.builders import subjects_with_messages
from tests.dam.receiver import DamReceiver
from tests.dam.workers import Worker, all_delivered, wait_until, worker_env

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]

SUBJECTS = 100  # x 3 messages each


@pytest.fixture
def through_broker(monkeypatch):
    """Delivery requested after each commit goes through Redis to the worker, as in production."""
    monkeypatch.setattr(
        "dam.tasks.delivery_request",
        lambda *, urgent=False: app.send_task("dam.tasks.outbox_deliver_task"),
    )


@pytest.fixture
def workers(tmp_path):
    started: list[Worker] = []

    def start(url: str, *, beat: bool = True, name: str = "dam", **env: str) -> Worker:
        worker = Worker(worker_env(url, **env), tmp_path / f"{name}{len(started)}.log",
                        name=name, beat=beat)  # fmt: skip
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
    # Requests and follow-ups still queued would otherwise reach the next test's workers.
    app.control.purge()


def _logs(*workers: Worker):
    return lambda: "\n".join(w.output()[-3000:] for w in workers)


def _finish(receiver: DamReceiver, ids: list[str], *workers: Worker, timeout: float = 90) -> None:
    wait_until(all_delivered, timeout=timeout, what="every message delivered", logs=_logs(*workers))
    receiver.assert_exactly_once_in_order(set(ids))
    assert OutboxMessage.objects.count() == len(ids)


def test_receiver_answering_500_then_recovering(dam_receiver, workers, through_broker):
    dam_receiver.fail(times=4, status=500)
    worker = workers(dam_receiver.url)
    ids = subjects_with_messages(SUBJECTS)
    _finish(dam_receiver, ids, worker)
    assert [r[2] for r in dam_receiver.requests[:4]] == [500] * 4
    assert OutboxMessage.objects.filter(attempts__gt=1).exists()


def test_receiver_hanging_past_the_timeout(dam_receiver, workers, through_broker):
    dam_receiver.hang(times=2, seconds=3)  # the worker's timeout is 1 s
    worker = workers(dam_receiver.url)
    ids = subjects_with_messages(SUBJECTS)
    _finish(dam_receiver, ids, worker)
    # The hung batches had been applied by the dam: resent, they came back as duplicates.
    assert dam_receiver.statuses().get("duplicate", 0) > 0
    assert OutboxMessage.objects.filter(dam_status="duplicate").exists()


def test_429_with_retry_after_is_honoured(dam_receiver, workers, through_broker):
    dam_receiver.fail(times=2, status=429, retry_after="2")
    worker = workers(dam_receiver.url)
    ids = subjects_with_messages(SUBJECTS)
    _finish(dam_receiver, ids, worker)
    posts = [r for r in dam_receiver.requests if r[0] == "POST"]
    assert [p[2] for p in posts[:2]] == [429, 429]
    # The next attempt came no sooner than the dam asked.
    assert posts[1][3] - posts[0][3] >= 2.0
    assert posts[2][3] - posts[1][3] >= 2.0


def test_connection_refused_until_the_dam_comes_up(workers, through_broker, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    receiver = DamReceiver()
    settings.DAM_KEY_ID, settings.DAM_SECRET = receiver.key_id, receiver.secret
    worker = workers(url)
    ids = subjects_with_messages(SUBJECTS)
    wait_until(
        lambda: OutboxMessage.objects.filter(error_code="unreachable").exists(),
        timeout=60,
        what="a refused connection",
        logs=_logs(worker),
    )
    assert not OutboxMessage.objects.filter(state="delivered").exists()
    receiver.start(port=port)
    try:
        _finish(receiver, ids, worker)
    finally:
        receiver.stop()


def test_worker_killed_mid_batch(dam_receiver, workers, through_broker):
    dam_receiver.hang(times=1, seconds=4)
    first = workers(dam_receiver.url, name="doomed")
    ids = subjects_with_messages(SUBJECTS)
    wait_until(lambda: dam_receiver.requests, timeout=60, what="a first batch", logs=_logs(first))
    first.kill()  # while it waits for the dam's answer, its claim transaction still open
    assert first.process.returncode == -9
    second = workers(dam_receiver.url, name="survivor")
    _finish(dam_receiver, ids, second)


def test_redis_restarted_while_rows_wait(dam_receiver, workers, tmp_path, monkeypatch):
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        pytest.fail("redis-server is needed for this test")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [redis_server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", str(tmp_path)]  # fmt: skip

    def start_redis() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_until(lambda: _answers(port), timeout=10, what="private redis up")
        return process

    redis = start_redis()
    private = f"redis://127.0.0.1:{port}/0"
    # Requests after commits go to the private Redis too, so that its restart loses them.
    monkeypatch.setattr(
        "dam.tasks.delivery_request",
        lambda *, urgent=False: _send_task(private, "dam.tasks.outbox_deliver_task"),
    )
    try:
        dam_receiver.fail(times=3, status=503, retry_after="1")
        worker = workers(dam_receiver.url, broker_url=private)
        ids = subjects_with_messages(SUBJECTS)
        wait_until(
            lambda: dam_receiver.requests, timeout=60, what="a first try", logs=_logs(worker)
        )
        redis.terminate()
        redis.wait(timeout=10)
        time.sleep(1.5)  # rows wait; queued task messages are gone with the server
        redis = start_redis()
        # A worker whose broker vanished mid-batch may exit instead of reconnecting (kombu can
        # fail while closing the lost connection). Production runs workers under a supervisor
        # that starts them again (README, "Beat under a supervisor"); this test does the same,
        # and still asks that every message arrive exactly once, in order.
        running = [worker]

        def delivered_under_a_supervisor() -> bool:
            if running[-1].process.poll() is not None:
                running.append(workers(dam_receiver.url, broker_url=private))
            return all_delivered()

        wait_until(delivered_under_a_supervisor, timeout=90, what="every message delivered",
                   logs=lambda: _logs(*running)())  # fmt: skip
        _finish(dam_receiver, ids, *running)
    finally:
        redis.terminate()
        redis.wait(timeout=10)


def test_process_dies_between_commit_and_publish(dam_receiver, workers, tmp_path):
    """Another process writes the rows, commits, and dies before it can ask for delivery."""
    script = textwrap.dedent(
        f"""
        import os, django
        django.setup()
        from django.db import transaction
        import dam.tasks
        dam.tasks.delivery_request = lambda **kw: os._exit(9)  # dies right after the commit
        from tests.dam.builders import subjects_with_messages
        with transaction.atomic():
            subjects_with_messages({SUBJECTS})
        """
    )
    env = worker_env(dam_receiver.url)
    env["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    dying = subprocess.run(
        [sys.executable, "-c", script], cwd=Path(settings.BASE_DIR), env=env, check=False
    )
    assert dying.returncode == 9
    ids = [str(i) for i in OutboxMessage.objects.values_list("id", flat=True)]
    assert len(ids) == SUBJECTS * 3  # committed, then the process died before publishing
    worker = workers(dam_receiver.url)  # nothing was asked of it: only the sweep can deliver
    _finish(dam_receiver, ids, worker, timeout=60)


def test_two_workers_at_once(dam_receiver, workers, through_broker):
    one = workers(dam_receiver.url, name="one")
    two = workers(dam_receiver.url, name="two", beat=False)
    ids = subjects_with_messages(SUBJECTS)
    # Extra requests, so both workers are busy claiming at the same moment.
    for _ in range(20):
        app.send_task("dam.tasks.outbox_deliver_task")
    _finish(dam_receiver, ids, one, two)
    assert dam_receiver.statuses().get("rejected:sequence_gap", 0) == 0


def test_the_same_message_sent_twice(dam_receiver, workers, through_broker):
    dam_receiver.drop(times=3)  # applied by the dam, answer lost: the batch is sent again
    worker = workers(dam_receiver.url)
    ids = subjects_with_messages(SUBJECTS)
    _finish(dam_receiver, ids, worker)
    assert dam_receiver.statuses().get("duplicate", 0) > 0


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _send_task(broker_url: str, name: str) -> None:
    from celery import Celery

    # Not the current app: shared tasks queued later in the session (by other tests) must keep
    # going through the portal's app, not to this test's private Redis.
    Celery(broker=broker_url, set_as_current=False).send_task(name)
