"""Helpers for tests that start real Celery processes (workers, beat) as their own processes."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

from tests.pgbouncer import Pooler


def worker_environment(*, pooler: Pooler | None = None) -> dict[str, str]:
    """The test database (``test_...``) and Redis, directly or through ``pooler``."""
    database = connection.settings_dict
    credentials = database["USER"] + (f":{database['PASSWORD']}" if database["PASSWORD"] else "")
    host = database["HOST"] or "127.0.0.1"
    port = str(database["PORT"] or 5432)
    env = dict(os.environ)
    env.update(
        PORTAL_ENV="test",
        CELERY_TASK_ALWAYS_EAGER="false",
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        REDIS_URL=settings.REDIS_URL,
        DISABLE_SERVER_SIDE_CURSORS="false",
        DATABASE_PREPARED_STATEMENTS="true",
    )
    if pooler is not None:
        host, port = pooler.host, str(pooler.port)
        env.update(DISABLE_SERVER_SIDE_CURSORS="true", DATABASE_PREPARED_STATEMENTS="false")
    env["DATABASE_URL"] = f"postgres://{credentials}@{host}:{port}/{database['NAME']}"
    return env


def celery_start(
    tmp_path: Path, name: str, env: dict[str, str], *arguments: str
) -> subprocess.Popen[bytes]:
    """Start ``celery -A portal --quiet <arguments>`` with its output in ``tmp_path/<name>.log``."""
    log = (tmp_path / f"{name}.log").open("w")
    try:
        return subprocess.Popen(
            # --quiet: no start-up banner, as in production; what is left are log records.
            [sys.executable, "-m", "celery", "-A", "portal", "--quiet", *arguments],
            cwd=Path(settings.BASE_DIR),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    finally:
        log.close()


def worker_start(tmp_path: Path, name: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return celery_start(
        tmp_path, name, env, "worker", "--pool=solo", "--loglevel=INFO", "--without-gossip",
        "--without-mingle", "--hostname", f"{name}-{os.getpid()}@%h",
    )  # fmt: skip


def process_stop(process: subprocess.Popen[bytes], *, timeout: float = 30) -> None:
    """Warm shutdown (finish the current task), then kill if it does not end in time."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def wait_for(condition: Callable[[], Any], seconds: float = 90) -> bool:
    """Poll ``condition`` until it holds or ``seconds`` pass; whether it held."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return bool(condition())


def worker_env(**extra: str) -> dict[str, str]:
    """The environment of a worker straight on the test database, with ``extra`` on top."""
    env = worker_environment()
    env.update(extra)
    return env


@contextmanager
def celery_worker(log_path: Path, **extra_env: str) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``celery -A portal worker`` (solo pool) with its output in ``log_path``; stop it with
    a warm shutdown on leaving."""
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        raise RuntimeError("a worker test needs CELERY_BROKER_URL pointing at Redis")
    log = log_path.open("w")
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "portal", "worker",
            "--pool=solo", "--loglevel=INFO", "--without-gossip", "--without-mingle",
            "--hostname", f"test-{os.getpid()}@%h",
        ],
        cwd=Path(settings.BASE_DIR),
        env=worker_env(**extra_env),
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        yield worker
    finally:
        process_stop(worker, timeout=20)
        log.close()


def campaign_worker_start(
    tmp_path: Path, name: str, worker_env: dict[str, str]
) -> subprocess.Popen[bytes]:
    """A worker that sends campaign e-mails to files under ``tmp_path/mail``."""
    env = dict(worker_env)
    env.update(
        PORTAL_VAR_DIR=str(tmp_path),
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        CONSENT_CAMPAIGN_BATCH_SIZE="3",
        CONSENT_CAMPAIGN_RATE_PER_MINUTE="90",  # a batch every 2 seconds
    )
    return worker_start(tmp_path, name, env)


def recipients(tmp_path: Path) -> list[str]:
    found = []
    for path in (tmp_path / "mail").glob("*.log"):
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("To: "):
                found.append(line[4:].strip())
    return found


def beat_start(tmp_path: Path, name: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start ``celery beat`` (the redbeat scheduler of the settings) logging to ``<name>.log``."""
    return celery_start(
        tmp_path, name, env, "beat", "--loglevel=INFO", f"--pidfile={tmp_path / name}.pid",
        f"--schedule={tmp_path / name}-schedule",
    )  # fmt: skip


def log_text(tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name}.log"
    return path.read_text(errors="replace") if path.exists() else ""


def beat_sends(tmp_path: Path, name: str, entry: str = "portal-heartbeat") -> int:
    """How many times beat ``name`` sent the schedule entry ``entry``."""
    sent = re.compile(rf"Sending due task {re.escape(entry)}\b")
    return len(sent.findall(log_text(tmp_path, name)))


def json_records(path: Path) -> list[dict[str, Any]]:
    """The JSON log records; outside them only Celery's own shutdown notice may be printed."""
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    found = [json.loads(line) for line in lines if line.startswith("{")]
    others = [line for line in lines if not line.startswith("{")]
    assert all(line.startswith("worker: ") for line in others), others
    return found


def beat_entry_make_due(*, redis_url: str, key_prefix: str, entry: str) -> None:
    """Make the running beat's schedule entry ``entry`` due now, as if its last run were two
    days ago: beat sends it at its next tick, through its own schedule and lock (a nightly job
    need not wait for the night)."""
    from celery import Celery
    from redbeat.schedulers import RedBeatSchedulerEntry, ensure_conf

    probe = Celery("beat-probe", set_as_current=False)
    probe.conf.update(
        redbeat_redis_url=redis_url,
        redbeat_key_prefix=key_prefix,
        redbeat_redis_options={},
        timezone=settings.CELERY_TIMEZONE,
    )
    ensure_conf(probe)
    key = RedBeatSchedulerEntry.generate_key(probe, entry)
    stored = RedBeatSchedulerEntry.from_key(key, app=probe)
    stored.reschedule(last_run_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=2))
