"""The web shell: health check, request logs, staff idle timeout, sign-out, error pages."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path

from portal.audit import Action
from portal.celery import app
from portal.logging import RequestIdFilter
from portal.models import AuditEvent
from portal.roles import Role
from tests import factories

pytestmark = pytest.mark.django_db


def _forbidden(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def _broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


urlpatterns = [
    path("test/forbidden/", _forbidden),
    path("test/broken/", _broken),
    path("", include("portal.urls")),
]
handler403 = "portal.errors.forbidden"
handler404 = "portal.errors.not_found"
handler500 = "portal.errors.server_error"


def test_healthz_answers_200_when_database_and_broker_answer(client, settings):
    settings.PORTAL_HEALTHZ_CHECK_BROKER = True
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "broker": "ok", "dam_outbox": "ok"}


def test_healthz_answers_503_when_the_broker_does_not(client, settings, monkeypatch):
    settings.PORTAL_HEALTHZ_CHECK_BROKER = True
    # Celery lets the environment variable win over its configuration: break both.
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "unavailable"


def test_request_log_is_json_with_the_request_id_and_no_email(settings):
    # The production formatter and filter, attached here to capture what production would print.
    from pythonjsonlogger.json import JsonFormatter

    assert settings.LOGGING["formatters"]["json"]["()"] == "pythonjsonlogger.json.JsonFormatter"

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(
        JsonFormatter("%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s")
    )
    logger = logging.getLogger("portal.request")
    previous_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        user = factories.UserFactory(email="private.person@example.org")
        response = Client().post(
            "/accounts/login/?email=private.person@example.org",
            {"login": user.email, "password": factories.DEFAULT_PASSWORD},
        )
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)
    output = stream.getvalue()
    records = [json.loads(line) for line in output.splitlines()]
    login = next(r for r in records if r["path"] == "/accounts/login/")
    assert login["request_id"] == response["X-Request-ID"]
    assert login["status"] == 302
    assert login["user_id"] == user.pk
    assert "private.person" not in output and "@" not in output


def test_staff_session_ends_after_the_idle_time(client, settings):
    settings.STAFF_IDLE_TIMEOUT_SECONDS = 60
    staff = factories.staff_user(Role.PROGRAMME_MANAGER, mfa=True)
    client.force_login(staff)
    assert client.get("/staff/").status_code == 200
    session = client.session
    session["portal_last_seen"] -= 61
    session.save()
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/staff/")
    assert "_auth_user_id" not in client.session


def test_staff_session_stays_while_active(client, settings):
    settings.STAFF_IDLE_TIMEOUT_SECONDS = 60
    staff = factories.staff_user(Role.PROGRAMME_MANAGER, mfa=True)
    client.force_login(staff)
    client.get("/staff/")
    session = client.session
    session["portal_last_seen"] -= 59
    session.save()
    assert client.get("/staff/").status_code == 200


def test_sign_out_deletes_the_server_side_session(client):
    client.force_login(factories.UserFactory())
    key = client.session.session_key
    assert Session.objects.filter(session_key=key).exists()
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert not Session.objects.filter(session_key=key).exists()


@pytest.mark.parametrize(
    ("language", "text"),
    [("ko", "요청하신 페이지가 없습니다."), ("en", "The page you asked for does not exist.")],
)
def test_not_found_page_in_both_languages(client, language, text):
    client.cookies["portal_language"] = language
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert text in response.content.decode()
    assert f'lang="{language}"' in response.content.decode()


@pytest.mark.parametrize(
    ("language", "text"),
    [("ko", "이 페이지에 접근할 권한이 없습니다."), ("en", "You do not have access to this page.")],
)
def test_forbidden_page_in_both_languages_and_audited(client, settings, language, text):
    settings.ROOT_URLCONF = __name__
    client.cookies["portal_language"] = language
    response = client.get("/test/forbidden/")
    assert response.status_code == 403
    assert text in response.content.decode()
    denied = AuditEvent.objects.get(action=Action.PERMISSION_DENIED)
    assert (denied.object_type, denied.reason) == ("view", "forbidden")


def test_refused_form_post_gets_the_portal_page_and_is_audited():
    client = Client(enforce_csrf_checks=True)
    client.cookies["portal_language"] = "en"
    response = client.post("/accounts/login/", {"login": "a@example.org", "password": "x"})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
    assert AuditEvent.objects.filter(action=Action.PERMISSION_DENIED, reason="csrf").exists()


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("ko", "문제가 발생했습니다."),
        ("en", "Something went wrong on our side. Please try again later."),
    ],
)
def test_server_error_page_in_both_languages_without_details(settings, language, text):
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)
    client.cookies["portal_language"] = language
    response = client.get("/test/broken/")
    assert response.status_code == 500
    body = response.content.decode()
    assert text in body
    assert "a bug" not in body and "Traceback" not in body


def test_api_errors_are_json(client):
    response = client.get("/api/no-such-endpoint/")
    assert response.status_code == 404
    assert response.json()["code"] == "404"


def test_idle_staff_api_call_gets_a_json_401(client, settings):
    settings.STAFF_IDLE_TIMEOUT_SECONDS = 60
    staff = factories.staff_user(Role.PROGRAMME_MANAGER, mfa=True)
    client.force_login(staff)
    client.get("/staff/")
    session = client.session
    session["portal_last_seen"] -= 61
    session.save()
    response = client.get("/api/schema/")
    assert response.status_code == 401
    assert response.json()["code"] == "idle"
