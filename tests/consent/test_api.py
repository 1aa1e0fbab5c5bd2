"""Consent REST API: own consent, staff scoping, active versions, bulk checks; query counts pinned."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from fhir.resources.R4B.consent import Consent

from consent.services import receipt_issue
from portal.roles import Role
from tests.audits import assert_access_denied
from tests.consent.ledger_builders import make_version, record
from tests.factories import ParticipantFactory, SiteFactory, UserFactory, staff_user

pytestmark = pytest.mark.django_db

YES = {"data_sharing": True, "sample_storage": True, "genomic_analysis": True, "recontact": False}


@pytest.fixture
def v1():
    return make_version("v1")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def me(v1):
    user = UserFactory()
    participant = ParticipantFactory(user=user)
    grant = record(participant, v1, YES)
    update = record(participant, v1, {**YES, "recontact": True}, kind="update")
    receipt = receipt_issue(event_id=grant.pk)
    return participant, client_for(user), grant, update, receipt


def test_participant_sees_own_consent_history_and_receipts(me, django_assert_max_num_queries):
    participant, client, grant, _update, receipt = me
    with django_assert_max_num_queries(8):
        state = client.get("/api/consent/me/").json()
    assert state["participant"] == participant.code
    assert state["choices"]["recontact"] is True
    assert state["version"]["label"] == "v1"
    with django_assert_max_num_queries(8):
        history = client.get("/api/consent/me/history/").json()
    assert [e["kind"] for e in history["results"]] == ["update", "grant"]
    assert history["results"][1]["hash"] == grant.hash
    assert history["results"][1]["receipt"] == receipt.pk
    receipts = client.get("/api/consent/me/receipts/").json()
    assert receipts[0]["verification_code"] == grant.verification_code
    response = client.get(receipts[0]["download"])
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_history_query_count_does_not_grow_with_events(me, v1, django_assert_max_num_queries):
    participant, client, *_ = me
    for _ in range(20):
        record(participant, v1, YES, kind="update")
    with django_assert_max_num_queries(8):
        response = client.get("/api/consent/me/history/")
    assert len(response.json()["results"]) == 22


def test_participant_cannot_download_someone_elses_receipt(me, v1):
    _participant, _client, _g, _u, receipt = me
    other = UserFactory()
    ParticipantFactory(user=other)
    response = client_for(other).get(f"/api/consent/me/receipts/{receipt.pk}/download/")
    assert response.status_code == 404
    assert_access_denied(
        actor=other, object_type="consent.consentreceipt", object_id=receipt.pk, reason="not own"
    )


def test_the_api_schema_and_docs_are_for_signed_in_users_only():
    for url in ("/api/schema/", "/api/docs/"):
        assert Client().get(url).status_code in (401, 403)
    participant_client = Client()
    participant_client.force_login(UserFactory())
    assert participant_client.get("/api/schema/").status_code == 200


def test_participant_gets_own_fhir_consent(me):
    participant, client, *_ = me
    response = client.get("/api/consent/me/fhir/")
    assert response.status_code == 200
    consent = Consent.model_validate(response.json())
    assert consent.patient.identifier.value == participant.code


def test_active_versions_list_items(v1, django_assert_max_num_queries):
    make_version("v1", language="en")
    client = client_for(UserFactory())
    with django_assert_max_num_queries(6):
        versions = client.get("/api/consent/versions/active/").json()
    assert {(v["label"], v["language"]) for v in versions} == {("v1", "ko"), ("v1", "en")}
    assert [i["code"] for i in versions[0]["items"]][:2] == ["data_sharing", "sample_storage"]


def test_coordinator_sees_only_their_sites(v1, django_assert_max_num_queries, denials):
    mine: Any = SiteFactory()
    theirs: Any = SiteFactory()
    coordinator = staff_user(Role.COORDINATOR, sites=[mine], mfa=True)
    for i in range(12):
        record(ParticipantFactory(site=mine if i % 2 else theirs), v1, YES)
    other = ParticipantFactory(site=theirs)
    record(other, v1, YES)
    client = client_for(coordinator)
    with django_assert_max_num_queries(12):
        listed = client.get("/api/consent/participants/").json()
    assert len(listed["results"]) == 6
    for tried, suffix in enumerate(("", "fhir/", "history/"), start=1):
        url = f"/api/consent/participants/{other.code}/{suffix}"
        assert client.get(url).status_code == 404
        refusal = {"object_type": "enrollment.participant", "object_id": other.code}
        assert denials(actor=coordinator, reason="out of scope", **refusal) == tried
    own = listed["results"][0]["participant"]
    assert client.get(f"/api/consent/participants/{own}/fhir/").status_code == 200


def test_participant_cannot_use_staff_views(me):
    participant, client, *_ = me
    assert client.get("/api/consent/participants/").status_code == 403
    assert_access_denied(
        actor=participant.user, object_type="api", object_id="StaffStatesApi", reason="role"
    )


def test_bulk_check_answers_each_code_with_reason(v1, django_assert_max_num_queries):
    steward = staff_user(Role.DATA_STEWARD, mfa=True)
    a, b = ParticipantFactory(), ParticipantFactory()
    record(a, v1, YES)
    record(b, v1, {**YES, "genomic_analysis": False})
    client = client_for(steward)
    payload = {"purpose": "genomic_research", "participants": [a.code, b.code, "NOPE"]}
    # Sign-in and MFA (4), the purpose, one look-up of which identifiers are participant codes (the
    # rest may be dam pseudonyms), the check itself, its audit row and the session: 11 at most.
    with django_assert_max_num_queries(11):
        response = client.post("/api/consent/checks/", payload, content_type="application/json")
    body = response.json()
    assert response.status_code == 200
    assert (body["allowed"], body["refused"]) == (1, 2)
    assert [r["reason"] for r in body["results"]] == [
        "allowed",
        "item genomic_analysis declined",
        "unknown participant",
    ]


def test_bulk_check_query_count_is_flat(v1, django_assert_num_queries):
    steward = staff_user(Role.DATA_STEWARD, mfa=True)
    codes = []
    for _ in range(40):
        p = ParticipantFactory()
        record(p, v1, YES)
        codes.append(p.code)
    client = client_for(steward)
    counts = []
    for n in (2, 40):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            client.post(
                "/api/consent/checks/",
                {"purpose": "general_research", "participants": codes[:n]},
                content_type="application/json",
            )
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_bulk_check_hides_other_sites_from_a_coordinator(v1):
    mine: Any = SiteFactory()
    theirs: Any = SiteFactory()
    coordinator = staff_user(Role.COORDINATOR, sites=[mine], mfa=True)
    other = ParticipantFactory(site=theirs)
    record(other, v1, YES)
    response = client_for(coordinator).post(
        "/api/consent/checks/",
        {"purpose": "general_research", "participants": [other.code]},
        content_type="application/json",
    )
    assert response.json()["results"][0]["reason"] == "unknown participant"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"purpose": "no_such_purpose", "participants": ["P1"]}, "purpose"),
        ({"purpose": "general_research", "participants": []}, "participants"),
        ({"purpose": "general_research", "participants": ["P"] * 10_001}, "participants"),
        ({"purpose": "general_research", "participants": "P1"}, "participants"),
        ({"purpose": "general_research", "participants": ["P1"], "at": "yesterday"}, "at"),
        ({"purpose": "general_research", "participants": ["P1"], "at": "2999-01-01T00:00Z"}, "at"),
    ],
)
def test_bulk_check_bad_input_is_a_clear_400(payload, field):
    steward = staff_user(Role.DATA_STEWARD, mfa=True)
    response = client_for(steward).post(
        "/api/consent/checks/", payload, content_type="application/json"
    )
    assert response.status_code == 400
    assert field in response.json()


def test_bulk_check_accepts_ten_thousand_codes(v1):
    steward = staff_user(Role.DATA_STEWARD, mfa=True)
    codes = [f"Z{i:07d}" for i in range(10_000)]
    response = client_for(steward).post(
        "/api/consent/checks/",
        {"purpose": "general_research", "participants": codes},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["refused"] == 10_000


def test_bulk_check_refused_to_participants(me):
    participant, client, *_ = me
    response = client.post(
        "/api/consent/checks/",
        {"purpose": "general_research", "participants": ["P1"]},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert_access_denied(
        actor=participant.user, object_type="api", object_id="ConsentCheckApi", reason="role"
    )


def test_schema_lists_the_consent_api():
    client = client_for(staff_user(Role.ADMIN, mfa=True))
    schema = client.get("/api/schema/").content.decode()
    for path in (
        "/api/consent/me/",
        "/api/consent/me/history/",
        "/api/consent/me/receipts/",
        "/api/consent/me/receipts/{receipt_id}/download/",
        "/api/consent/me/fhir/",
        "/api/consent/versions/active/",
        "/api/consent/participants/{code}/fhir/",
        "/api/consent/checks/",
    ):
        assert path in schema
