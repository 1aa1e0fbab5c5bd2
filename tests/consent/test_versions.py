"""Consent versions: sanitized Markdown, approval hashes and freezes the text (the database refuses
changes too, on PostgreSQL and on SQLite), re-consent after a new version."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from consent.db import frozen_versions_sql
from consent.models import ConsentItem, ConsentState, ConsentVersion
from consent.services import (
    ItemSpec,
    consent_record,
    markdown_render,
    version_approve,
    version_create,
    version_update_draft,
)
from consent.services.activation import version_activate
from consent.services.versions import version_text_sha256
from portal.roles import Role
from tests.consent import signing_builders as ca
from tests.factories import staff_user

# Service messages are asserted in English, their source language.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


def test_markdown_is_rendered_and_sanitized():
    html = markdown_render(
        "# 제목\n\n**굵게** [link](javascript:alert(1)) <script>alert(1)</script>"
        '<img src=x onerror=alert(1)> <a href="https://example.org" onclick="x()">ok</a>'
    )
    assert "<h2>제목</h2>" in html and "<strong>굵게</strong>" in html
    assert "script" not in html and "onerror" not in html and "onclick" not in html
    assert "javascript:" not in html and "<img" not in html
    assert 'href="https://example.org"' in html


def _draft(label: str = "9.0") -> ConsentVersion:
    return version_create(
        form=ca.main_form(),
        label=label,
        language="ko",
        title="동의서",
        body_markdown="본문",
        items=ca.ITEMS,
        questions=ca.QUESTIONS,
        by=None,
    )


def test_approval_needs_the_irb_number_and_date():
    draft = _draft()
    with pytest.raises(ValidationError, match="IRB"):
        version_approve(version=draft, by=None)
    draft.refresh_from_db()
    assert draft.status == "draft" and draft.text_sha256 == ""


def test_approval_hashes_the_rendered_text_and_freezes_it():
    draft = _draft()
    approved = version_approve(
        version=draft, by=None, irb_approval_number="IRB-1", irb_approved_on=dt.date(2026, 1, 2)
    )
    assert approved.status == "approved" and len(approved.text_sha256) == 64
    assert approved.text_sha256 == version_text_sha256(approved)
    with pytest.raises(ValidationError, match="Only a draft"):
        version_update_draft(version=approved, by=None, body_markdown="바뀐 본문")
    # The database refuses even when the services are bypassed.
    with pytest.raises(DatabaseError, match="frozen consent version"), transaction.atomic():
        ConsentVersion.objects.filter(pk=approved.pk).update(body_markdown="바뀐 본문")
    with pytest.raises(DatabaseError, match="frozen consent version"), transaction.atomic():
        ConsentItem.objects.filter(version=approved).update(required=False)
    with pytest.raises(DatabaseError, match="frozen consent version"), transaction.atomic():
        ConsentItem.objects.create(version=approved, code="new_item", title="t", text="x")
    with pytest.raises(DatabaseError, match="frozen consent version"), transaction.atomic():
        ConsentVersion.objects.filter(pk=approved.pk).update(status="draft")
    # The lifecycle still moves forward.
    version_activate(version=approved, by=staff_user(Role.PROGRAMME_MANAGER))
    approved.refresh_from_db()
    assert approved.status == "active" and approved.is_active()


def test_a_changed_draft_is_rendered_again():
    draft = _draft()
    version_update_draft(version=draft, by=None, body_markdown="**새 본문**")
    draft.refresh_from_db()
    assert draft.body_html == "<p><strong>새 본문</strong></p>"


def test_items_with_bad_duo_terms_are_refused():
    with pytest.raises(ValidationError, match="DUO"):
        version_create(
            form=ca.main_form(),
            label="x",
            language="ko",
            title="t",
            body_markdown="b",
            items=[ItemSpec("data_sharing", "t", "x", True, ("GRU",))],
            by=None,
        )


def test_sqlite_triggers_freeze_approved_versions_too():
    db = sqlite3.connect(":memory:")
    db.executescript(
        """
        CREATE TABLE consent_consentversion (id INTEGER PRIMARY KEY, form_id INT, label TEXT,
          language TEXT, title TEXT, body_markdown TEXT, body_html TEXT, text_sha256 TEXT,
          irb_approval_number TEXT, irb_approved_on TEXT, approved_at TEXT, approved_by_id INT,
          created_at TEXT, status TEXT, effective_from TEXT, activated_at TEXT, ended_at TEXT);
        CREATE TABLE consent_consentitem (id INTEGER PRIMARY KEY, version_id INT, text TEXT);
        CREATE TABLE consent_comprehensionquestion (id INTEGER PRIMARY KEY, version_id INT,
          text TEXT);
        """
    )
    for statement in frozen_versions_sql("sqlite"):
        db.execute(statement)
    db.execute(
        "INSERT INTO consent_consentversion (id, body_markdown, status) VALUES (1, 'b', 'draft')"
    )
    db.execute("INSERT INTO consent_consentitem (version_id, text) VALUES (1, 'x')")
    db.execute("UPDATE consent_consentversion SET body_markdown = 'b2' WHERE id = 1")
    db.execute(
        "UPDATE consent_consentversion SET status = 'approved', text_sha256 = 'h' WHERE id = 1"
    )
    refused = [
        "UPDATE consent_consentversion SET body_markdown = 'b3' WHERE id = 1",
        "UPDATE consent_consentversion SET status = 'draft' WHERE id = 1",
        "UPDATE consent_consentitem SET text = 'y'",
        "INSERT INTO consent_consentitem (version_id, text) VALUES (1, 'z')",
        "DELETE FROM consent_consentitem",
        "DELETE FROM consent_consentversion",
    ]
    for statement in refused:
        with pytest.raises(sqlite3.IntegrityError, match="frozen consent version"):
            db.execute(statement)
    db.execute(
        "UPDATE consent_consentversion SET status = 'active', activated_at = 'now' WHERE id = 1"
    )
    db.execute("UPDATE consent_consentversion SET status = 'superseded' WHERE id = 1")


def test_a_new_version_with_other_items_asks_for_reconsent_and_keeps_first_yes_times():
    manager = staff_user(Role.PROGRAMME_MANAGER)
    v1 = ca.active_version(by=manager)
    participant = ca.eligible_participant()
    first = consent_record(
        participant=participant,
        version=v1,
        choices=ca.all_yes(v1),
        signature=ca.typed(),
        by=None,
        answers=ca.right_answers(v1),
    )
    items = [
        *ca.ITEMS,
        ItemSpec("overseas_transfer", "국외 이전", "국외 이전에 동의합니다.", False),
    ]
    v2 = ca.active_version(label="2.0", items=items, by=manager)
    state = ConsentState.objects.get(participant=participant)
    assert state.status == "reconsent_due" and state.version_id == v1.pk
    second = consent_record(
        participant=participant,
        version=v2,
        choices={**ca.all_yes(v2), "overseas_transfer": False},
        signature=ca.typed(),
        by=None,
        answers=ca.right_answers(v2),
    )
    assert second.kind == "reconsent" and second.prev_hash == first.hash
    state.refresh_from_db()
    assert state.status == "active" and state.version_id == v2.pk
    assert "overseas_transfer" not in state.first_granted_at
    assert state.first_granted_at["data_sharing"] < second.signed_at.isoformat().replace(
        "+00:00", "Z"
    )


def test_admin_shows_versions_read_only_once_approved_and_approves_drafts(client):
    admin_user = staff_user(Role.ADMIN, mfa=True, is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    active = ca.active_version()
    draft = _draft()
    assert client.get("/admin/consent/consentversion/").status_code == 200
    page = client.get(f"/admin/consent/consentversion/{active.pk}/change/")
    assert page.status_code == 200 and 'name="body_markdown"' not in page.content.decode()
    assert (
        'name="body_markdown"'
        in client.get(f"/admin/consent/consentversion/{draft.pk}/change/").content.decode()
    )
    version_update_draft(
        version=draft, by=None, irb_approval_number="IRB-9", irb_approved_on=dt.date(2026, 2, 1)
    )
    client.post(
        "/admin/consent/consentversion/",
        {"action": "approve_drafts", "_selected_action": [draft.pk]},
    )
    draft.refresh_from_db()
    assert draft.status == "approved" and draft.text_sha256
    assert client.get("/admin/consent/consentevent/").status_code == 200
