"""Health checks and operating figures that apps register from their ``AppConfig.ready``.

``portal`` knows no app above it, so apps add what only they can measure (the dam app its outbox
age, for example) here, and ``/healthz/ready`` and ``/metrics`` read the same registry:

* ``health_check_register(name, check, critical=...)``: ``check()`` returns ``"ok"``, a short
  word for what is wrong (``"unavailable"``, ``"stale"``), or ``None`` when it does not apply to
  this configuration (no broker in the embedded default). A failing critical check makes the node
  not ready (503: the load balancer stops sending it requests); a non-critical one is reported
  but leaves the node ready (beat being late is no reason to stop serving pages).
* ``figure_register(name, read, documentation=...)``: ``read()`` returns a number (or ``None``
  when unknown); each figure is exported as a Prometheus gauge ``portal_<name>``.

Checks and figures must be quick, never raise for an outage (a raised exception counts as
``"unavailable"``), and return no personal data.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)

OK = "ok"
UNAVAILABLE = "unavailable"
STALE = "stale"


@dataclass(frozen=True)
class HealthCheck:
    name: str
    check: Callable[[], str | None]
    critical: bool


@dataclass(frozen=True)
class Figure:
    name: str
    read: Callable[[], float | None]
    documentation: str


_checks: dict[str, HealthCheck] = {}
_figures: dict[str, Figure] = {}


def health_check_register(
    name: str, check: Callable[[], str | None], *, critical: bool = True
) -> None:
    """Add (or replace) the readiness check called ``name``."""
    _checks[name] = HealthCheck(name=name, check=check, critical=critical)


def figure_register(name: str, read: Callable[[], float | None], *, documentation: str) -> None:
    """Add (or replace) an operating figure exported as the gauge ``portal_<name>``."""
    _figures[name] = Figure(name=name, read=read, documentation=documentation)


def registered_figures() -> list[Figure]:
    return list(_figures.values())


def figure_values() -> dict[str, float | None]:
    """Every registered figure by name (``None`` when unknown or unreadable), for ``/healthz``."""
    values: dict[str, float | None] = {}
    for figure in _figures.values():
        try:
            values[figure.name] = figure.read()
        except Exception:
            logger.warning("figure unavailable", extra={"figure": figure.name}, exc_info=True)
            values[figure.name] = None
    return values


@dataclass(frozen=True)
class Readiness:
    ready: bool
    checks: dict[str, str]


def readiness() -> Readiness:
    """Run every registered check; ready unless a critical one fails."""
    results: dict[str, str] = {}
    ready = True
    for item in _checks.values():
        try:
            outcome = item.check()
        except Exception:
            logger.warning("health check failed", extra={"check": item.name}, exc_info=True)
            outcome = UNAVAILABLE
        if outcome is None:
            continue
        results[item.name] = outcome
        if outcome != OK and item.critical:
            ready = False
    return Readiness(ready=ready, checks=results)


# --- the portal's own checks ------------------------------------------------------------------


def database_check() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return OK


def cache_check() -> str:
    """Sign-in, rate limits and used sign-in codes need the cache: write and read a key."""
    key = "portal:healthz:cache"
    stamp = timezone.now().isoformat()
    cache.set(key, stamp, timeout=60)
    return OK if cache.get(key) == stamp else UNAVAILABLE


def broker_check() -> str | None:
    if not settings.PORTAL_HEALTHZ_CHECK_BROKER:
        return None  # tasks run in the web process (embedded default)
    from .celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return OK


def heartbeat_age_seconds() -> float | None:
    """Seconds since beat's last heartbeat ran on a worker; None when there is none."""
    from .tasks import HEARTBEAT_KEY

    stamp = cache.get(HEARTBEAT_KEY)
    if not stamp:
        return None
    return (timezone.now() - dt.datetime.fromisoformat(stamp)).total_seconds()


def beat_check() -> str | None:
    if not settings.PORTAL_HEALTHZ_CHECK_BROKER:
        return None
    age = heartbeat_age_seconds()
    if age is None or age > settings.HEARTBEAT_STALE_AFTER_SECONDS:
        return STALE
    return OK


def register_portal_checks() -> None:
    health_check_register("database", database_check)
    health_check_register("cache", cache_check)
    health_check_register("broker", broker_check)
    # Beat and a worker together write the heartbeat; a late one is reported, not fatal.
    health_check_register("beat", beat_check, critical=False)
    figure_register(
        "heartbeat_age_seconds",
        heartbeat_age_seconds,
        documentation="Seconds since the last beat heartbeat was run by a worker.",
    )
