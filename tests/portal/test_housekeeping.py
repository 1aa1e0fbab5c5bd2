"""Housekeeping that a long-running cluster needs: expired sessions go, kept texts stay bounded."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from enrollment import messaging
from portal.tasks import sessions_clear_expired

pytestmark = pytest.mark.django_db


def test_beat_clears_expired_sessions_and_keeps_live_ones():
    live = SessionStore()
    live["k"] = 1
    live.create()
    expired = SessionStore()
    expired["k"] = 2
    expired.create()
    Session.objects.filter(session_key=expired.session_key).update(
        expire_date=timezone.now() - dt.timedelta(minutes=1)
    )
    sessions_clear_expired.delay()
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]
    schedule = settings.CELERY_BEAT_SCHEDULE["portal-sessions-clear"]
    assert schedule["task"] == "portal.tasks.sessions_clear_expired"


def test_the_in_memory_sender_keeps_only_the_latest_messages():
    messaging.outbox.clear()
    sender = messaging.LocmemTextSender()
    for n in range(messaging.OUTBOX_KEPT + 5):
        sender.send(to_phone="+821000000000", body=f"message {n}")
    assert len(messaging.outbox) == messaging.OUTBOX_KEPT
    assert messaging.outbox[0].body == "message 5"
    assert messaging.outbox[-1].body == f"message {messaging.OUTBOX_KEPT + 4}"
    messaging.outbox.clear()
