"""The FHIR R4 Consent of a participant, validated with the R4B models of fhir.resources."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from fhir.resources.R4B.consent import Consent

from consent.selectors.fhir import DUO_SYSTEM, ITEM_SYSTEM, consent_resource_for
from consent.services.activation import version_activate
from tests.consent.ledger_builders import ITEMS_V1, make_version, record
from tests.factories import ParticipantFactory

pytestmark = pytest.mark.django_db

YES = {"data_sharing": True, "sample_storage": True, "genomic_analysis": False, "recontact": True}


def provisions(resource: dict) -> dict[str, str]:
    out = {}
    for p in resource["provision"]["provision"]:
        codes = {c["system"]: c["code"] for c in p["code"][0]["coding"]}
        if ITEM_SYSTEM in codes:
            out[codes[ITEM_SYSTEM]] = p["type"]
    return out


def test_current_consent_is_a_valid_r4_consent_with_item_provisions():
    v1 = make_version("v1")
    participant = ParticipantFactory()
    signed = timezone.now() - dt.timedelta(days=2)
    event = record(participant, v1, YES, signed_at=signed)
    resource: Any = consent_resource_for(participant)
    consent: Any = Consent.model_validate(resource)
    assert consent.status == "active"
    assert consent.scope.coding[0].code == "research"
    assert consent.patient.identifier.value == participant.code
    assert consent.policy[0].uri.endswith(f":v1:ko:sha256:{v1.text_sha256}")
    assert consent.identifier[0].value == event.hash
    assert consent.dateTime is not None
    assert provisions(resource) == {
        "data_sharing": "permit",
        "sample_storage": "permit",
        "genomic_analysis": "deny",
        "recontact": "permit",
    }
    data_sharing = resource["provision"]["provision"][0]["code"][0]["coding"]
    assert {"system": DUO_SYSTEM, "code": "DUO:0000042"} in data_sharing


def test_withdrawal_of_further_use_is_inactive_and_denies_everything():
    v1 = make_version("v1")
    participant = ParticipantFactory()
    record(participant, v1, YES)
    record(participant, v1, YES, kind="withdraw", withdrawal_level="no_further_use")
    resource: Any = consent_resource_for(participant)
    consent: Any = Consent.model_validate(resource)
    assert consent.status == "inactive"
    assert consent.provision.type == "deny"
    assert set(provisions(resource).values()) == {"deny"}


def test_no_further_contact_keeps_use_but_denies_contact():
    v1 = make_version("v1")
    participant = ParticipantFactory()
    record(participant, v1, YES)
    record(participant, v1, YES, kind="withdraw", withdrawal_level="no_further_contact")
    resource: Any = consent_resource_for(participant)
    Consent.model_validate(resource)
    assert resource["status"] == "active"
    assert provisions(resource)["recontact"] == "deny"
    assert provisions(resource)["data_sharing"] == "permit"


def test_new_item_of_the_active_version_is_denied_until_reconsent(manager):
    v1 = make_version("v1", activated_at=timezone.now() - dt.timedelta(days=30))
    participant = ParticipantFactory()
    record(participant, v1, YES)
    v2 = make_version("v2", [*ITEMS_V1, ("overseas_transfer", False)], status="approved")
    version_activate(version=v2, by=manager)
    resource: Any = consent_resource_for(participant)
    Consent.model_validate(resource)
    assert provisions(resource)["overseas_transfer"] == "deny"
    assert provisions(resource)["data_sharing"] == "permit"


def test_patient_identifier_is_pluggable(settings):
    settings.CONSENT_FHIR_PATIENT_IDENTIFIER = "tests.consent.test_fhir.fake_pseudonym"
    v1 = make_version("v1")
    participant = ParticipantFactory()
    record(participant, v1, YES)
    resource: Any = consent_resource_for(participant)
    assert resource["patient"]["identifier"] == {"system": "urn:test:pseudonym", "value": "PSX"}


def fake_pseudonym(participant):
    return "urn:test:pseudonym", "PSX"


def test_no_consent_no_resource():
    assert consent_resource_for(ParticipantFactory()) is None
