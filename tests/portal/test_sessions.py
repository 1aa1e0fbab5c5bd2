"""The portal's session store: Django's database sessions, a change saved in one statement."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from portal.sessions import SessionStore
from tests.factories import DEFAULT_PASSWORD, UserFactory


@pytest.mark.django_db(transaction=True)
def test_a_changed_session_is_saved_in_one_statement_outside_any_transaction():
    session = SessionStore()
    session["step"] = "sign"
    session.save()  # created as Django creates it
    session = SessionStore(session_key=session.session_key)
    session["step"] = "signed"
    with CaptureQueriesContext(connection) as captured:
        session.save()
    statements = [query["sql"] for query in captured.captured_queries]
    assert len(statements) == 1, statements
    assert statements[0].startswith('UPDATE "django_session"')
    assert SessionStore(session_key=session.session_key)["step"] == "signed"


@pytest.mark.django_db
def test_saving_a_session_that_was_deleted_meanwhile_is_refused_as_django_refuses_it():
    session = SessionStore()
    session["step"] = "sign"
    session.save()
    Session.objects.filter(session_key=session.session_key).delete()
    session["step"] = "signed"
    with pytest.raises(UpdateError):
        session.save()
    assert not Session.objects.filter(session_key=session.session_key).exists()


@pytest.mark.django_db
def test_the_expiry_moves_with_each_save(settings):
    session = SessionStore()
    session.set_expiry(60)
    session.save()
    first = Session.objects.get(session_key=session.session_key).expire_date
    session.set_expiry(3600)
    session.save()
    assert Session.objects.get(session_key=session.session_key).expire_date > first


@pytest.mark.django_db
def test_a_page_that_changes_the_session_stores_the_change(client, settings):
    assert settings.SESSION_ENGINE == "portal.sessions"
    client.force_login(UserFactory(email="sessions@example.org"))
    key = client.session.session_key
    # Confirming the password records a re-authentication in the session.
    response = client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    stored = SessionStore(session_key=key).load()
    assert [m["method"] for m in stored["account_authentication_methods"]][-1] == "password"
    client.post(reverse("account_logout"))
    assert not Session.objects.filter(session_key=key).exists()
