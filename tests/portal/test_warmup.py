"""A web worker's warm-up (portal.warmup, run by portal.wsgi): lazy imports done, start-up frozen."""

from __future__ import annotations

import gc
import logging
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from portal import warmup


@pytest.fixture
def unfrozen_afterwards() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_warm_up_freezes_what_exists(unfrozen_afterwards):
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    warmup.server_warm()
    assert gc.get_freeze_count() > 10_000


def test_a_worker_that_cannot_warm_up_still_starts(monkeypatch, caplog, unfrozen_afterwards):
    def broken() -> None:
        raise ImportError("no such module")

    monkeypatch.setattr(warmup, "modules_load", broken)
    with caplog.at_level(logging.WARNING, logger="portal.warmup"):
        warmup.server_warm()
    assert "warm-up of the web worker failed" in caplog.text
    assert gc.get_freeze_count() > 0


def test_the_wsgi_module_warms_up_on_import():
    # In a process of its own, as a server loads it (importing it here would set Django up again).
    # What the first requests would import is not loaded before, and is after.
    lazy = ["fhir.resources.R4B.consent", "kombu.transport.redis"]
    script = (
        "import gc, os, sys\n"
        f"lazy = {lazy!r}\n"
        "assert not [m for m in lazy if m in sys.modules]\n"
        "import portal.wsgi\n"
        "missing = [m for m in lazy if m not in sys.modules]\n"
        "assert not missing, missing\n"
        "print(gc.get_freeze_count())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        # A Redis broker, as in production (without one the portal uses the in-memory transport).
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "CELERY_BROKER_URL": os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/9",
        },
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[-1]) > 10_000
