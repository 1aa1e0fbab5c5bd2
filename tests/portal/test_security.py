"""Security headers on every page, no caching of signed-in pages, nothing loaded from elsewhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests import factories

pytestmark = pytest.mark.django_db


def test_pages_carry_the_security_headers(client):
    response = client.get("/")
    csp = response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert "default-src 'self'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_signed_in_pages_are_not_stored_by_browsers_or_proxies():
    client = Client()
    assert "no-store" not in client.get("/").get("Cache-Control", "")
    client.force_login(factories.UserFactory())
    response = client.get("/")
    assert response["Cache-Control"] == "no-store"


# A page must not load anything from another origin: no CDN, web font, analytics or image host.
_EXTERNAL_LOAD = re.compile(
    r"""(?:src|srcset|data)\s*=\s*["']\s*(?:https?:)?//"""
    r"""|<link[^>]+href\s*=\s*["']\s*(?:https?:)?//"""
    r"""|url\(\s*["']?\s*(?:https?:)?//"""
    r"""|@import\s+["']?(?:https?:)?//""",
    re.IGNORECASE,
)


def test_no_template_or_stylesheet_loads_anything_from_elsewhere():
    base = Path(settings.BASE_DIR)
    files = [
        *base.glob("templates/**/*.html"),
        *base.glob("*/templates/**/*.html"),
        *base.glob("static/**/*.css"),
        *base.glob("static/**/*.js"),
        *base.glob("*/static/**/*.css"),
        *base.glob("*/static/**/*.js"),
    ]
    assert files
    offenders = [
        str(path.relative_to(base))
        for path in files
        if ".venv" not in path.parts and _EXTERNAL_LOAD.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_api_is_throttled_per_user(settings, client):
    settings.API_USER_RATE = "3/minute"
    first, second = factories.UserFactory(), factories.UserFactory()
    client.force_login(first)
    codes = [client.get("/api/consent/me/").status_code for _ in range(4)]
    assert 429 not in codes[:3] and codes[3] == 429
    # Another user has a count of their own.
    client.force_login(second)
    assert client.get("/api/consent/me/").status_code != 429
