"""Mail and texts leave from Celery tasks that take ids, after the commit: a real worker sends
them through a real text gateway on loopback, and retries the gateway when it fails."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings

from enrollment.services import invitation_issue, visit_book
from portal.celery import app
from tests.enrollment.people import eligible, open_day, participant_with_profile
from tests.factories import SiteFactory
from tests.workers import celery_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PHONE = "+821023456789"  # the phone of tests.enrollment.people.profile()


class Gateway:
    """A text gateway that refuses the first ``failures`` messages (503), then accepts them."""

    def __init__(self) -> None:
        self.failures = 0
        self.refused = 0
        self.received: list[dict[str, str]] = []


@pytest.fixture
def gateway() -> Iterator[tuple[Gateway, str]]:
    state = Gateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if state.refused < state.failures:
                state.refused += 1
                self.send_response(503)
            else:
                state.received.append(payload)
                self.send_response(202)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_port}/messages"
    server.shutdown()
    server.server_close()


@pytest.fixture
def through_redis() -> Iterator[redis.Redis]:
    """Tasks queued in this test go to the broker (not run eagerly); the queue starts empty."""
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.fail("the worker test needs CELERY_BROKER_URL pointing at Redis")
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete("celery")
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield broker
    app.conf.task_always_eager = eager
    broker.delete("celery")


def queued(broker: redis.Redis) -> list[tuple[str, list[Any], str]]:
    """(task name, arguments, raw message) of every task waiting in the default queue."""
    found = []
    for raw in broker.lrange("celery", 0, -1):
        message = json.loads(raw)
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        found.append((message["headers"]["task"], args, raw.decode()))
    return found


def worker_settings(tmp_path: Path, url: str) -> dict[str, str]:
    return {
        "TEXT_SENDER": "enrollment.messaging.HttpTextSender",
        "TEXT_SENDER_URL": url,
        "TEXT_SENDER_TOKEN": "gateway-token",
        "MESSAGE_RETRY_SECONDS": "1",
        "PORTAL_VAR_DIR": str(tmp_path),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
    }


def wait_for(condition: Callable[[], bool], seconds: float = 90) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def mails(tmp_path: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in (tmp_path / "mail").glob("*.log"))


def test_a_booking_queues_its_messages_by_id_and_the_worker_retries_a_failed_text(
    tmp_path, gateway, through_redis
):
    state, url = gateway
    state.failures = 1
    site = SiteFactory()
    participant = eligible(site=site)
    visit = visit_book(participant=participant, site=site, day=open_day(), by=None)

    tasks = queued(through_redis)
    assert sorted((name, args) for name, args, _raw in tasks) == [
        ("enrollment.tasks.visit_message_send", [visit.pk, "visit_booked", "email"]),
        ("enrollment.tasks.visit_message_send", [visit.pk, "visit_booked", "text"]),
    ]
    assert not any("23456789" in raw or "gildong" in raw.lower() for _name, _args, raw in tasks)

    log = tmp_path / "worker.log"
    with celery_worker(log, **worker_settings(tmp_path, url)):
        assert wait_for(lambda: len(state.received) == 1), log.read_text()
        assert wait_for(lambda: "gildong.hong@example.org" in mails(tmp_path)), log.read_text()
    assert state.refused == 1  # refused once, then sent by the retry
    assert state.received[0]["to"] == PHONE and site.name in state.received[0]["text"]
    assert "retry" in log.read_text().lower()


def test_an_invitation_code_travels_sealed_and_arrives_as_printed(
    tmp_path, gateway, through_redis, coordinator, site
):
    state, url = gateway
    participant = participant_with_profile(site=site, kind="patient")
    invitation, code = invitation_issue(participant=participant, by=coordinator)

    tasks = queued(through_redis)
    assert sorted((name, args[:2]) for name, args, _raw in tasks) == [
        ("enrollment.tasks.invitation_message_send", [invitation.pk, "email"]),
        ("enrollment.tasks.invitation_message_send", [invitation.pk, "text"]),
    ]
    assert not any(code.replace("-", "") in raw.replace("-", "") for _n, _a, raw in tasks)

    log = tmp_path / "worker.log"
    with celery_worker(log, **worker_settings(tmp_path, url)):
        assert wait_for(lambda: len(state.received) == 1), log.read_text()
        assert wait_for(lambda: code in mails(tmp_path)), log.read_text()
    assert code in state.received[0]["text"]
