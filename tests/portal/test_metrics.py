"""Prometheus metrics: not public; requests, queue depth, task failures, events and app figures."""

from __future__ import annotations

import pytest
from celery import signals
from django.core.cache import cache
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from consent.tasks import consent_receipt_issue
from portal import health
from portal.celery import app
from portal.metrics import event_count
from portal.roles import Role
from portal.tasks import HEARTBEAT_KEY
from tests.factories import staff_user

pytestmark = pytest.mark.django_db

TOKEN = "t" * 20 + "0123456789abcdef"


def samples(body: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_are_not_public(client, settings):
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    client.force_login(staff_user(Role.COORDINATOR, mfa=True))
    assert client.get("/metrics").status_code == 404


def test_a_scraper_with_the_token_or_an_administrator_reads_them(client, settings):
    settings.METRICS_TOKEN = TOKEN
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    settings.METRICS_TOKEN = ""
    client.force_login(staff_user(Role.ADMIN, mfa=True))
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")


def test_requests_queue_failures_events_and_figures_are_exported(client, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.CELERY_TASK_ALWAYS_EAGER = False  # as in production: the broker's queue is read
    app.control.purge()
    for _ in range(3):
        app.send_task("portal.tasks.heartbeat")  # waiting: no worker in this test
    event_count("campaign_send", 2)
    signals.task_failure.send(sender=consent_receipt_issue, task_id="x", exception=OSError())
    cache.set(HEARTBEAT_KEY, timezone.now().isoformat())
    health.figure_register("test_outbox_age_seconds", lambda: 42.0, documentation="Test figure.")
    try:
        client.get("/healthz/live")
        found = samples(client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").content)
    finally:
        health._figures.pop("test_outbox_age_seconds", None)
        app.control.purge()
    assert found[("portal_celery_queue_length", (("queue", "celery"),))] == 3
    failures = (
        "portal_celery_task_failures_total",
        (("task", "consent.tasks.consent_receipt_issue"),),
    )
    assert found[failures] == 1
    assert found[("portal_events_total", (("event", "campaign_send"),))] == 2
    assert ("portal_events_last_minute", (("event", "campaign_send"),)) in found
    assert found[("portal_test_outbox_age_seconds", ())] == 42.0
    assert 0 <= found[("portal_heartbeat_age_seconds", ())] < 60
    requests = [
        value
        for (name, labels), value in found.items()
        if name == "django_http_requests_total_by_method_total" and ("method", "GET") in labels
    ]
    assert requests and requests[0] >= 1
