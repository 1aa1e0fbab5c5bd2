"""Liveness and readiness: a node that cannot serve sign-in says so; apps add their own checks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from portal import health
from portal.celery import app
from portal.tasks import HEARTBEAT_KEY

pytestmark = pytest.mark.django_db

CLOSED_PORT = "redis://127.0.0.1:1/0"


@pytest.fixture
def with_broker(settings):
    settings.PORTAL_HEALTHZ_CHECK_BROKER = True


def test_ready_when_database_cache_broker_answer_and_beat_is_recent(client, with_broker):
    cache.set(HEARTBEAT_KEY, timezone.now().isoformat())
    for url in ("/healthz/ready", "/healthz"):  # the old address answers as readiness
        response = client.get(url)
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        # The portal's own checks, and the dam's outbox, which the dam app registers.
        assert body["checks"] == {
            "database": "ok",
            "cache": "ok",
            "broker": "ok",
            "beat": "ok",
            "dam_outbox": "ok",
        }
        assert 0 <= body["figures"]["heartbeat_age_seconds"] < 60
        assert body["figures"]["dam_outbox_oldest_pending_seconds"] is None


def test_not_ready_when_the_cache_redis_is_down_but_still_alive(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CLOSED_PORT,
        }
    }
    response = client.get("/healthz/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"]["cache"] == "unavailable"
    assert response.json()["checks"]["database"] == "ok"
    assert client.get("/healthz").status_code == 503
    live = client.get("/healthz/live")
    assert live.status_code == 200
    assert live.json() == {"status": "ok"}


def test_not_ready_when_the_broker_does_not_answer(client, with_broker, monkeypatch):
    # Celery lets the environment variable win over its configuration: break both.
    monkeypatch.setenv("CELERY_BROKER_URL", CLOSED_PORT)
    monkeypatch.setattr(app.conf, "broker_url", CLOSED_PORT)
    response = client.get("/healthz/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "unavailable"


def test_a_stale_beat_heartbeat_is_reported_but_the_node_stays_ready(client, with_broker, settings):
    old = timezone.now() - dt.timedelta(seconds=settings.HEARTBEAT_STALE_AFTER_SECONDS + 5)
    cache.set(HEARTBEAT_KEY, old.isoformat())
    response = client.get("/healthz/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["beat"] == "stale"
    cache.delete(HEARTBEAT_KEY)  # never written at all: stale too
    assert client.get("/healthz/ready").json()["checks"]["beat"] == "stale"


def test_embedded_default_checks_neither_broker_nor_beat(client, settings):
    settings.PORTAL_HEALTHZ_CHECK_BROKER = False
    response = client.get("/healthz/ready")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "cache": "ok", "dam_outbox": "ok"}


def test_an_app_registers_its_own_check_and_a_failing_critical_one_makes_the_node_unready(client):
    health.health_check_register("test-queue", lambda: "unavailable")
    try:
        response = client.get("/healthz/ready")
        assert response.status_code == 503
        assert response.json()["checks"]["test-queue"] == "unavailable"
        health.health_check_register("test-queue", lambda: "behind", critical=False)
        response = client.get("/healthz/ready")
        assert response.status_code == 200
        assert response.json()["status"] == "degraded"
    finally:
        health._checks.pop("test-queue", None)


def test_a_check_that_raises_counts_as_unavailable(client):
    def broken() -> str:
        raise ConnectionError("down")

    health.health_check_register("test-broken", broken)
    try:
        response = client.get("/healthz/ready")
        assert response.status_code == 503
        assert response.json()["checks"]["test-broken"] == "unavailable"
    finally:
        health._checks.pop("test-broken", None)
