"""Checks that apps add to ``/healthz`` (through their ``AppConfig.ready``), so that the portal
knows no app above it. A check returns ``(ok, details)``; details must carry no personal data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

HealthCheck = Callable[[], tuple[bool, dict[str, Any]]]

_CHECKS: dict[str, HealthCheck] = {}


def health_check_register(name: str, check: HealthCheck) -> None:
    _CHECKS[name] = check


def health_checks() -> dict[str, HealthCheck]:
    return dict(_CHECKS)
