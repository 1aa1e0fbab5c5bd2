"""A real Celery worker for the tests that need one: its own process, against the test Redis and
the database pytest-django created for this run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection


def worker_env(**extra: str) -> dict[str, str]:
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
        worker.send_signal(signal.SIGTERM)  # warm shutdown: finish the current task, then stop
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
        log.close()
