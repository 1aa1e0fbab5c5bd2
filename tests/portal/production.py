"""Running ``manage.py`` in a fresh process with a complete production environment, for the tests
of settings that are read once at start-up."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)


def production_env(**overrides: str) -> dict[str, str]:
    """Every variable production requires, with ``overrides`` on top (an empty value stays set)."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(BASE_DIR)),
        "PORTAL_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "DATABASE_URL": "postgres://portal@db.internal:5432/portal",
        "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
        "REDIS_URL": "redis://redis.internal:6379/1",
        "PII_KEYS": "k1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "BLIND_INDEX_KEY": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "portal.example.org",
        "SITE_URL": "https://portal.example.org",
        "TEXT_SENDER": "enrollment.messaging.HttpTextSender",
        "TEXT_SENDER_URL": "https://texts.example.org/send",
        "TEXT_SENDER_TOKEN": secrets.token_urlsafe(24),
        "FILE_STORAGE": "s3",
        "S3_BUCKET": "portal-files",
        "PROGRAMME_CONTACT_EMAIL": "contact@portal.example.org",
        "PROGRAMME_CONTACT_PHONE": "02-1234-5678",
    }
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
