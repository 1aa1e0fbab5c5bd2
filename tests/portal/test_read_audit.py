"""Every staff read of a participant's consent or personal data leaves one audit row.

The walk enumerates the whole URL conf: each route is either a staff read (called here, as staff of
the participant's site, and must write exactly one audit row naming the participant, or one row
with a count for lists and bulk checks) or listed below with why it is not one. A new route that
is in neither list fails the first test, so a new endpoint cannot slip by unaudited.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from consent.services import InPerson, consent_record
from portal.models import AuditEvent
from portal.roles import Role
from tests.consent import signing_builders as ca
from tests.enrollment.people import participant_with_profile
from tests.factories import SiteFactory, staff_user

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class World:
    participant: Any
    registered: Any
    event: Any
    coordinator: Any
    admin: Any


Call = Callable[[World], tuple[str, str, dict[str, Any], str]]  # method, path, data, who

STAFF_READS: dict[str, Call] = {
    "enrollment:site_participant": lambda w: (
        "get",
        f"/sites/participants/{w.participant.code}/",
        {},
        "coordinator",
    ),
    "enrollment:site_participant_screening": lambda w: (
        "post",
        f"/sites/participants/{w.registered.code}/screening/",
        {},
        "coordinator",
    ),
    "enrollment:api_participant": lambda w: (
        "get",
        f"/api/enrollment/participants/{w.participant.code}/",
        {},
        "coordinator",
    ),
    "enrollment:api_participant_transitions": lambda w: (
        "get",
        f"/api/enrollment/participants/{w.participant.code}/transitions/",
        {},
        "coordinator",
    ),
    "consent:site_find": lambda w: (
        "get",
        f"/site/consent/find/?code={w.participant.code}",
        {},
        "coordinator",
    ),
    "consent:site_participant": lambda w: (
        "get",
        f"/site/consent/participants/{w.participant.code}/",
        {},
        "coordinator",
    ),
    "consent:site_record": lambda w: (
        "get",
        f"/site/consent/participants/{w.participant.code}/record/tablet/",
        {},
        "coordinator",
    ),
    "consent:site_handover": lambda w: (
        "get",
        f"/site/consent/participants/{w.participant.code}/handover/tablet/",
        {},
        "coordinator",
    ),
    "consent:site_withdraw": lambda w: (
        "get",
        f"/site/consent/participants/{w.participant.code}/withdraw/",
        {},
        "coordinator",
    ),
    "consent:site_qc": lambda w: (
        "get",
        f"/site/consent/events/{w.event.pk}/check/",
        {},
        "coordinator",
    ),
    "consent:api_states": lambda w: ("get", "/api/consent/participants/", {}, "coordinator"),
    "consent:api_state": lambda w: (
        "get",
        f"/api/consent/participants/{w.participant.code}/",
        {},
        "coordinator",
    ),
    "consent:api_history": lambda w: (
        "get",
        f"/api/consent/participants/{w.participant.code}/history/",
        {},
        "coordinator",
    ),
    "consent:api_fhir": lambda w: (
        "get",
        f"/api/consent/participants/{w.participant.code}/fhir/",
        {},
        "coordinator",
    ),
    "consent:api_checks": lambda w: (
        "post",
        "/api/consent/checks/",
        {"participants": [w.participant.code], "purpose": "general_research"},
        "coordinator",
    ),
    "admin:consent_consentevent_changelist": lambda w: (
        "get",
        "/admin/consent/consentevent/",
        {},
        "admin",
    ),
    "admin:consent_consentevent_change": lambda w: (
        "get",
        f"/admin/consent/consentevent/{w.event.pk}/change/",
        {},
        "admin",
    ),
}

# Routes that are not a staff read of one participant's consent or personal data, and why.
NOT_STAFF_READS: dict[str, str] = {
    "home": "landing page",
    "staff_home": "menu",
    "healthz": "health check",
    "healthz_live": "health check",
    "healthz_ready": "health check",
    "metrics": "counts for the monitoring, no participant",
    "enrollment:duplicates_cross_site": "pairs of codes and sites only",
    "set_language": "language switch",
    "javascript-catalog": "translations",
    "api-schema": "API description",
    "api-docs": "API description",
    "handover_return": "the staff member's own re-authentication",
    "oauth-token": "machine clients' tokens, no participant",
    "enrollment:me": "the participant's own pages",
    "enrollment:me_register": "the participant's own pages",
    "enrollment:me_profile": "the participant's own pages",
    "enrollment:me_screening": "the participant's own pages",
    "enrollment:me_visit": "the participant's own pages",
    "enrollment:me_visit_cancel": "the participant's own pages",
    "enrollment:me_visit_calendar": "the participant's own pages",
    "enrollment:me_claim": "the participant's own pages",
    "enrollment:site_worklist": "codes and statuses only",
    "enrollment:site_find": "audited as a search (participant.searched) by the vault",
    "enrollment:site_enroll": "a write (audited by its service)",
    "enrollment:site_import": "a write (audited by its service)",
    "enrollment:site_invitation_new": "a write (audited by its service)",
    "enrollment:site_visit_outcome": "a write (audited by its service)",
    "enrollment:site_duplicate_resolve": "a write (audited by its service)",
    "enrollment:site_closures": "site closures: dates and reasons, no personal data",
    "enrollment:site_closure_remove": "a write (audited by its service)",
    "enrollment:dashboard_national": "counts only",
    "enrollment:dashboard_national_csv": "counts only",
    "enrollment:dashboard_site": "counts only",
    "enrollment:dashboard_site_csv": "counts only",
    "enrollment:programmes": "programme structure",
    "enrollment:programme_new": "programme structure",
    "enrollment:programme_edit": "programme structure",
    "enrollment:phase_new": "programme structure",
    "enrollment:phase_edit": "programme structure",
    "enrollment:phase_targets": "programme structure",
    "enrollment:programme_site_new": "programme structure",
    "enrollment:programme_site_edit": "programme structure",
    "enrollment:cohort_new": "programme structure",
    "enrollment:cohort_edit": "programme structure",
    "enrollment:information": "public information page",
    "enrollment:information_manage": "information pages (no participant)",
    "enrollment:information_edit": "information pages (no participant)",
    "enrollment:api_participants": "codes and statuses only (no consent, no personal data)",
    "enrollment:api_transitions": "funnel steps of many, no consent, no personal data",
    "enrollment:api_visits": "visit days of many, no personal data",
    "enrollment:api_dashboard": "counts only",
    "consent:mine": "the participant's own pages",
    "consent:sign": "the participant's own pages",
    "consent:change": "the participant's own pages",
    "consent:withdraw": "the participant's own pages",
    "consent:receipt": "the participant's own pages",
    "consent:site_worklist": "codes of consents awaiting a check",
    "consent:site_artifact": "audited (consent.artifact_viewed) by the view itself",
    "consent:activation_list": "versions and counts",
    "consent:activation_preview": "versions and counts",
    "consent:campaign_list": "campaigns and counts",
    "consent:campaign_detail": "campaigns and counts",
    "consent:campaign_steer": "a write (audited by its service)",
    "consent:ledger_verifications": "verification runs, no participant",
    "consent:api_me": "the participant's own consent",
    "consent:api_me_history": "the participant's own consent",
    "consent:api_me_receipts": "the participant's own consent",
    "consent:api_me_receipt_download": "the participant's own consent",
    "consent:api_me_fhir": "the participant's own consent",
    "consent:api_active_versions": "consent texts",
    "consent:api_purposes": "purposes",
    "dam:samples": "sample worklist of a site",
    "dam:sample": "one tube: barcode, type, notes",
    "dam:fates": "tubes awaiting a fate: barcodes and codes",
    "dam:fate_certificate": "the participant's own certificate",
    "dam:shipments": "manifests of barcodes",
    "dam:shipment": "manifests of barcodes",
    "dam:shipment_line_remove": "a write (audited by its service)",
    "dam:shipment_submit": "a write (audited by its service)",
    "dam:steward_manifests": "manifests and the dam's acknowledgements",
    "dam:steward_manifest": "manifests and the dam's acknowledgements",
    "dam:steward_manifest_check": "a write (audited by its service)",
    "dam:reconciliation": "pseudonyms, sequences and barcodes",
    "dam:delivery_status": "delivery states and counts",
    "dam:dead_letters": "pseudonyms and delivery states, no personal data",
    "dam:dead_letter_retry": "a write (audited by its service)",
    "dam:reidentifications": "requests and decisions, no identity",
    "dam:reidentification_decision": "a write (audited by its service)",
    "dam:reidentification_reveal": "audited by its service (the reveal, shown once)",
    "reports:index": "report jobs and their forms",
    "reports:job": "a report job's progress",
    "reports:job_download": "a report export, audited with its reason when it was requested",
    "reports:ledger_csv": "an export of many, audited with its reason by the view",
    "reports:audit_trail": "audited with the reviewer's reason by its service",
    "reports:certificates": "ledger certificates, no participant",
    "reports:programme": "counts only",
}
# Admin pages of models that hold neither consent nor personal data.
ADMIN_MODELS_WITHOUT_PARTICIPANT_DATA = {
    "auth_group",
    "portal_user",
    "portal_auditevent",
    "account_emailaddress",
    "mfa_authenticator",
    "socialaccount_socialaccount",
    "consent_purpose",
    "consent_reconsentcampaign",
    "consent_consentform",
    "consent_consentversion",
    "enrollment_programme",
    "enrollment_siteclosure",
    "enrollment_phase",
    "enrollment_site",
    "enrollment_cohort",
    "enrollment_screeningquestion",
    "dam_sample",
    "dam_samplenote",
    "dam_samplefate",
    "dam_manifest",
    "dam_reconciliationrun",
    "dam_reidentificationrequest",
    # Machine clients and their tokens (portal.machine_clients).
    "oauth2_provider_application",
    "oauth2_provider_accesstoken",
    "oauth2_provider_refreshtoken",
    "oauth2_provider_grant",
    "oauth2_provider_idtoken",
}


def _routes(patterns: list[Any], namespace: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "allauth" or "accounts" in str(pattern.pattern):
                continue  # sign-in, sign-up, two-factor: the user's own account
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _routes(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}{pattern.name}"


def _is_exempt(route: str) -> bool:
    if route in NOT_STAFF_READS:
        return True
    if route.startswith("admin:"):
        name = route.removeprefix("admin:")
        if name in {"index", "login", "logout", "password_change", "password_change_done"}:
            return True
        if name in {"jsi18n", "view_on_site", "autocomplete", "app_list"}:
            return True
        model = name.rsplit("_", 1)[0]
        return model in ADMIN_MODELS_WITHOUT_PARTICIPANT_DATA or (
            name.endswith(("_add", "_delete", "_history"))
            and model in {"consent_consentevent"}  # refused (no add or delete) or the log
        )
    return False


def test_every_route_is_either_an_audited_read_or_says_why_not():
    routes = set(_routes(get_resolver().url_patterns))
    unclassified = sorted(r for r in routes if r not in STAFF_READS and not _is_exempt(r))
    assert unclassified == [], "classify these routes in this test"
    assert set(STAFF_READS) <= routes


@pytest.fixture
def world() -> World:
    site = SiteFactory(daily_capacity=5)
    version = ca.active_version()
    coordinator = staff_user(Role.COORDINATOR, sites=[site], mfa=True)  # type: ignore[list-item]
    participant = ca.eligible_participant(site=site)
    event = consent_record(
        participant=participant,
        version=version,
        choices=ca.all_yes(version),
        signature=ca.typed(),
        by=coordinator,
        answers=ca.right_answers(version),
        in_person=InPerson(countersigned_by=coordinator, countersignature_confirmed=True),
    )
    registered = participant_with_profile(
        site=site, email="second@example.org", phone="010-7777-8888"
    )
    admin = staff_user(Role.ADMIN, mfa=True, is_staff=True, is_superuser=True)
    return World(participant, registered, event, coordinator, admin)


@pytest.mark.parametrize("route", sorted(STAFF_READS))
def test_each_staff_read_writes_one_audit_row(world, route):
    method, path, data, who = STAFF_READS[route](world)
    user = world.coordinator if who == "coordinator" else world.admin
    client = Client()
    client.force_login(user)
    before = AuditEvent.objects.count()
    if method == "get":
        response = client.get(path)
    else:
        response = client.post(path, data, content_type="application/json")
    assert response.status_code < 400, (route, response.status_code)
    rows = list(AuditEvent.objects.order_by("pk")[before:])
    reads = [r for r in rows if r.actor_id == user.pk]
    assert len(reads) >= 1, f"{route} left no audit row"
    for row in reads:
        # Ids only: the row names the participant (or a count), never their data.
        assert str(world.participant.code) not in str(row.details)
        assert row.object_id in ("", str(world.participant.pk), str(world.registered.pk)) or (
            row.object_type == "consent.consentevent"
        )


def test_a_bulk_check_writes_one_row_with_its_count_and_purpose(world):
    client = Client()
    client.force_login(world.coordinator)
    before = AuditEvent.objects.count()
    codes = [world.participant.code, world.registered.code, "NOPE-0000"]
    response = client.post(
        "/api/consent/checks/",
        {"participants": codes, "purpose": "general_research"},
        content_type="application/json",
    )
    assert response.status_code == 200
    rows = list(AuditEvent.objects.order_by("pk")[before:])
    assert [(r.action, r.details) for r in rows] == [
        ("consent.checked", {"what": "check", "count": 3, "purpose": "general_research"})
    ]
