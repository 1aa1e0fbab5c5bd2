"""Text messages through a pluggable sender (setting ``TEXT_SENDER``, a dotted class path).

Senders implement ``send(*, to_phone, body)``. The embedded default writes each message to a file
under ``TEXT_DIRECTORY`` and names the file on the console; tests use ``LocmemTextSender``
and read ``messaging.outbox`` (the latest ``OUTBOX_KEPT`` messages). Production refuses both and
requires a real sender (see ``portal/settings.py``). ``HttpTextSender`` posts to a gateway (``TEXT_SENDER_URL``,
``TEXT_SENDER_TOKEN``).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import urllib.error
import urllib.request
import uuid
from collections import deque
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

# The channels a message to a participant goes by, each sent (and retried) by its own task.
EMAIL = "email"
TEXT = "text"
CHANNELS = (EMAIL, TEXT)


@dataclass(frozen=True)
class TextMessage:
    to_phone: str
    body: str


class TextSender(Protocol):
    def send(self, *, to_phone: str, body: str) -> None: ...


# Messages "sent" by LocmemTextSender (and kept by FileTextSender too), for tests and the
# embedded default. Bounded: a long-running process keeps only the latest ones.
OUTBOX_KEPT = 1000
outbox: deque[TextMessage] = deque(maxlen=OUTBOX_KEPT)


class LocmemTextSender:
    def send(self, *, to_phone: str, body: str) -> None:
        outbox.append(TextMessage(to_phone=to_phone, body=body))


class FileTextSender:
    """One JSON file per message in ``TEXT_DIRECTORY`` (the embedded default)."""

    def send(self, *, to_phone: str, body: str) -> None:
        directory = Path(settings.TEXT_DIRECTORY)
        directory.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
        path = directory / f"{stamp}-{uuid.uuid4().hex[:8]}.json"
        path.write_text(json.dumps({"to": to_phone, "body": body}, ensure_ascii=False))
        # The console learns only where the message went, never the number or the text.
        sys.stdout.write(f"[text message written to {path}]\n")
        outbox.append(TextMessage(to_phone=to_phone, body=body))


class TextSendFailed(Exception):
    """The gateway did not accept the message. The message names the status, never the text."""


class HttpTextSender:
    """A text-message gateway over HTTPS: ``POST TEXT_SENDER_URL`` with JSON ``{"to", "text"}``
    and ``Authorization: Bearer TEXT_SENDER_TOKEN``; any 2xx answer means accepted."""

    timeout_seconds = 10

    def send(self, *, to_phone: str, body: str) -> None:
        url = settings.TEXT_SENDER_URL
        if not url.startswith(("https://", "http://")):
            raise TextSendFailed("TEXT_SENDER_URL is not set to an http(s) address")
        request = urllib.request.Request(  # noqa: S310 (scheme checked above)
            url,
            data=json.dumps({"to": to_phone, "text": body}, ensure_ascii=False).encode(),
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Authorization": f"Bearer {settings.TEXT_SENDER_TOKEN}",
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            raise TextSendFailed(f"text gateway answered {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise TextSendFailed(f"text gateway unreachable ({type(exc).__name__})") from None
        if not 200 <= status < 300:
            raise TextSendFailed(f"text gateway answered {status}")


@lru_cache(maxsize=4)
def _sender(path: str) -> TextSender:
    sender: TextSender = import_string(path)()
    return sender


def text_send(*, to_phone: str, body: str) -> None:
    """Send one text message to an E.164 phone number through the configured sender."""
    if not to_phone:
        return
    _sender(settings.TEXT_SENDER).send(to_phone=to_phone, body=body)
