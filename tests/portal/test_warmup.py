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


def test_warm_up_imports_what_first_requests_would_and_freezes_what_exists(unfrozen_afterwards):
    gc.unfreeze()
    warmup.server_warm()
    assert "fhir.resources.R4B.consent" in sys.modules
    assert "kombu.transport.redis" in sys.modules or "kombu.transport.memory" in sys.modules
    frozen = gc.get_freeze_count()
    assert frozen > 10_000
    # What requests make afterwards is collected as usual: it is not added to the frozen objects.
    made_after: list[list[int]] = [[] for _ in range(1000)]
    assert gc.get_freeze_count() == frozen
    del made_after


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
    script = (
        "import gc, sys\n"
        "import portal.wsgi\n"
        "assert 'fhir.resources.R4B.consent' in sys.modules\n"
        "print(gc.get_freeze_count())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[-1]) > 10_000
