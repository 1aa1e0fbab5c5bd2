"""The text-message senders: the real HTTP sender against a real server on loopback."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail

from enrollment import messaging
from enrollment.models import Visit
from enrollment.services import visit_book
from enrollment.services.funnel import participant_transition
from tests.enrollment.people import (
    open_day,
    participant_with_profile,
)
from tests.factories import SiteFactory


class Gateway:
    def __init__(self, status: int) -> None:
        self.status = status
        self.received: list[tuple[dict[str, str], dict[str, str]]] = []


@pytest.fixture
def gateway(settings):
    state = Gateway(status=202)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            state.received.append((dict(self.headers), json.loads(self.rfile.read(length))))
            self.send_response(state.status)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.TEXT_SENDER = "enrollment.messaging.HttpTextSender"
    settings.TEXT_SENDER_URL = f"http://127.0.0.1:{server.server_port}/messages"
    settings.TEXT_SENDER_TOKEN = "gateway-token"
    yield state
    server.shutdown()
    server.server_close()


def test_http_sender_posts_the_message_with_the_token(gateway):
    messaging.text_send(to_phone="+821023456789", body="내일 방문 안내")
    headers, payload = gateway.received[0]
    assert payload == {"to": "+821023456789", "text": "내일 방문 안내"}
    assert headers["Authorization"] == "Bearer gateway-token"


def test_http_sender_reports_a_refusal_without_the_text(gateway):
    gateway.status = 500
    with pytest.raises(messaging.TextSendFailed) as failed:
        messaging.text_send(to_phone="+821023456789", body="내일 방문 안내")
    assert "500" in str(failed.value) and "+8210" not in str(failed.value)


@pytest.mark.django_db
@pytest.mark.usefixtures("in_english")
def test_a_failing_gateway_does_not_undo_or_break_a_booking(
    gateway, django_capture_on_commit_callbacks
):
    gateway.status = 503
    site = SiteFactory()
    participant = participant_with_profile(site=site)
    participant_transition(participant=participant, to_status="eligible", actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        visit_book(participant=participant, site=site, day=open_day(), by=None)
    assert Visit.objects.get(participant=participant).status == "booked"
    assert len(gateway.received) == 1  # tried once
    assert len(mail.outbox) == 1  # the e-mail went before the text failed
