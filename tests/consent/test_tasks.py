"""Consent's tasks are found by Celery's autodiscovery alone (no ``CELERY_IMPORTS``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

# A fresh interpreter, as a worker or beat starts: only what autodiscovery imports is registered.
PROBE = """
import json, django
django.setup()
from portal.celery import app
app.loader.import_default_modules()
print(json.dumps(sorted(app.tasks)))
"""


def test_every_scheduled_consent_task_is_registered_by_autodiscovery() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=Path(settings.BASE_DIR),
        env={**os.environ, "PORTAL_ENV": "test", "DJANGO_SETTINGS_MODULE": "portal.settings"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    registered = set(json.loads(out.strip().splitlines()[-1]))
    scheduled = {
        entry["task"]
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"].startswith("consent.")
    }
    assert len(scheduled) == 5  # with the receipts re-issue
    assert scheduled <= registered
    assert {
        "consent.tasks.consent_receipt_issue",
        "consent.tasks.campaign_send_batch_task",
        "consent.tasks.campaign_send_reminders_task",
        "consent.tasks.consent_ledger_verification_run",
    } <= registered
    assert not getattr(settings, "CELERY_IMPORTS", None)
