"""The loopback dam for the dam tests (and anyone who needs one): ``dam_receiver``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.dam.receiver import DamReceiver


@pytest.fixture
def dam_receiver(settings: Any) -> Iterator[DamReceiver]:
    """A strict dam on loopback; the portal's settings point at it (HTTP transport)."""
    receiver = DamReceiver().start()
    settings.DAM_TRANSPORT = "http"
    settings.DAM_URL = receiver.url
    settings.DAM_KEY_ID = receiver.key_id
    settings.DAM_SECRET = receiver.secret
    settings.DAM_TIMEOUT_SECONDS = 2
    settings.DAM_RETRY_BASE_SECONDS = 0.05
    settings.DAM_RETRY_MAX_SECONDS = 0.5
    try:
        yield receiver
    finally:
        receiver.stop()
