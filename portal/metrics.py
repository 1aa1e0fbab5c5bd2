"""Prometheus metrics: requests (django-prometheus), Celery, campaign sends and app figures.

Request counts and latencies come from django-prometheus' middleware in each web process (with
``PROMETHEUS_MULTIPROC_DIR`` set, summed over gunicorn's workers). Everything else is read when
``/metrics`` is scraped, so any web node answers for the whole cluster:

* ``portal_celery_queue_length{queue}``: messages waiting in the broker;
* ``portal_celery_task_failures_total{task}``: failed task runs on every worker, counted in the
  shared cache (Redis) by a ``task_failure`` receiver;
* ``portal_events_total{event}`` and ``portal_events_last_minute{event}``: counts that services
  record with ``event_count`` (the consent app counts ``campaign_send``), kept in the cache too;
* ``portal_<name>`` gauges for every figure apps register in ``portal.health`` (the beat
  heartbeat's age; the dam app adds its outbox age).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import time
from collections.abc import Iterator
from typing import Any

from celery import signals
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from .health import registered_figures

logger = logging.getLogger(__name__)

_PREFIX = "portal:metrics:"
EVENTS = ("campaign_send",)  # the events event_count accepts; each gets a series
_MINUTE_BUCKETS_KEPT = 10 * 60


def _increment(key: str, amount: int = 1, *, timeout: int | None = None) -> None:
    try:
        cache.add(key, 0, timeout=timeout)
        cache.incr(key, amount)
    except Exception:
        # A metric must never break the work it counts.
        logger.warning("metric not counted", extra={"metric": key}, exc_info=True)


def event_count(event: str, amount: int = 1) -> None:
    """Count ``amount`` occurrences of ``event`` (one of ``EVENTS``) for the whole cluster."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}")
    minute = int(time.time() // 60)
    _increment(f"{_PREFIX}event:{event}:total", amount)
    _increment(f"{_PREFIX}event:{event}:{minute}", amount, timeout=_MINUTE_BUCKETS_KEPT)


@signals.task_failure.connect
def _count_task_failure(sender: Any = None, **kwargs: Any) -> None:
    name = getattr(sender, "name", None) or "unknown"
    _increment(f"{_PREFIX}task_failures:{name}")


def _task_names() -> list[str]:
    from .celery import app

    # Every app's tasks, as a worker knows them (the web process imports them lazily).
    for config in apps.get_app_configs():
        if importlib.util.find_spec(f"{config.name}.tasks") is not None:
            importlib.import_module(f"{config.name}.tasks")
    for module in getattr(settings, "CELERY_IMPORTS", []):
        importlib.import_module(module)
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def _queue_length(queue: str) -> int | None:
    from .celery import app

    if settings.CELERY_TASK_ALWAYS_EAGER:
        return None
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            channel: Any = conn.default_channel
            declared = channel.queue_declare(queue=queue, passive=True)
            return int(declared.message_count)
    except Exception:
        return None


class PortalCollector(Collector):
    def collect(self) -> Iterator[Any]:
        queue = GaugeMetricFamily(
            "portal_celery_queue_length", "Tasks waiting in the broker.", labels=["queue"]
        )
        name = settings.CELERY_TASK_DEFAULT_QUEUE
        length = _queue_length(name)
        if length is not None:
            queue.add_metric([name], length)
        yield queue

        failures = CounterMetricFamily(
            "portal_celery_task_failures", "Failed task runs on every worker.", labels=["task"]
        )
        names = _task_names()
        counts = _read_many({f"{_PREFIX}task_failures:{n}": n for n in names})
        for task_name in names:
            failures.add_metric([task_name], counts.get(task_name, 0))
        yield failures

        totals = CounterMetricFamily(
            "portal_events", "Events counted by the services.", labels=["event"]
        )
        last_minute = GaugeMetricFamily(
            "portal_events_last_minute",
            "Events in the last full minute (campaign e-mails handed to the relay per minute).",
            labels=["event"],
        )
        minute = int(time.time() // 60) - 1
        for event in EVENTS:
            read = _read_many(
                {f"{_PREFIX}event:{event}:total": "total", f"{_PREFIX}event:{event}:{minute}": "m"}
            )
            totals.add_metric([event], read.get("total", 0))
            last_minute.add_metric([event], read.get("m", 0))
        yield totals
        yield last_minute

        for figure in registered_figures():
            try:
                value = figure.read()
            except Exception:
                logger.warning("figure unavailable", extra={"figure": figure.name}, exc_info=True)
                value = None
            gauge = GaugeMetricFamily(f"portal_{figure.name}", figure.documentation)
            if value is not None:
                gauge.add_metric([], float(value))
            yield gauge


def _read_many(keys: dict[str, str]) -> dict[str, int]:
    try:
        found = cache.get_many(list(keys))
    except Exception:
        return {}
    return {keys[key]: int(value) for key, value in found.items()}
