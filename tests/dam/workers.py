"""Real Celery worker processes for the dam's fault-injection tests."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

from dam.models import OutboxMessage, OutboxState


def worker_env(receiver_url: str, *, broker_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of a worker on the test database, pointed at a loopback dam."""
    database = connection.settings_dict
    credentials = database["USER"] + (f":{database['PASSWORD']}" if database["PASSWORD"] else "")
    broker = broker_url or settings.CELERY_BROKER_URL
    env = dict(os.environ)
    env.update(
        PORTAL_ENV="test",
        CELERY_TASK_ALWAYS_EAGER="false",
        CELERY_BROKER_URL=broker,
        REDIS_URL=broker if broker_url else settings.REDIS_URL,
        DATABASE_URL=(
            f"postgres://{credentials}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        DAM_TRANSPORT="http",
        DAM_URL=receiver_url,
        DAM_KEY_ID=settings.DAM_KEY_ID,
        DAM_SECRET=settings.DAM_SECRET,
        DAM_TIMEOUT_SECONDS="1",
        DAM_RETRY_BASE_SECONDS="0.2",
        DAM_RETRY_MAX_SECONDS="1.5",
        DAM_SWEEP_SECONDS="1",
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


class Worker:
    """``celery worker`` (with the beat sweep when ``beat``) as a child process."""

    def __init__(self, env: dict[str, str], log_path: Path, *, name: str, beat: bool) -> None:
        self.log_path = log_path
        self.log = log_path.open("w")
        command = [
            sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo",
            "--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--hostname", f"{name}-{os.getpid()}@%h",
        ]  # fmt: skip
        if beat:
            # The file scheduler: these tests are about delivery, and one of them restarts Redis,
            # which the cluster's one-beat lock (celery-redbeat, tested on its own) lives in.
            command += ["--beat", "--scheduler", "celery.beat:PersistentScheduler",
                        "--schedule", str(log_path.with_suffix(".beat"))]  # fmt: skip
        self.process = subprocess.Popen(
            command,
            cwd=Path(settings.BASE_DIR),
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            # Its own process group, so the embedded beat dies with it (a SIGKILL of the worker
            # alone would leave that child sending sweeps to later tests).
            start_new_session=True,
        )

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no acknowledgement, the database connection just drops."""
        self._kill_group()
        self.process.wait(timeout=10)

    def _kill_group(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._kill_group()  # whatever child outlived it
        self.log.close()

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text()


def wait_until(
    condition: Callable[[], Any], *, timeout: float, what: str, logs: Any = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    details = logs() if callable(logs) else ""
    raise AssertionError(f"timed out waiting for {what}\n{details}")


def all_delivered() -> bool:
    return not OutboxMessage.objects.exclude(state=OutboxState.DELIVERED).exists()
