"""Outbox rows are written in the transaction of the consent change, with exactly the payloads
of the dam's interface."""

from __future__ import annotations

import pytest
from django.db import transaction
from fhir.resources.R4B.consent import Consent

from consent.services import consent_update, consent_withdraw
from dam.models import MessageType, OutboxMessage
from dam.pseudonyms import pseudonym_is_well_formed
from tests.consent.signing_builders import eligible_participant, sign_all_yes, typed
from tests.dam.builders import sharing_optional_version

pytestmark = pytest.mark.django_db


def _messages(participant):
    return list(OutboxMessage.objects.filter(participant=participant).order_by("sequence"))


def test_first_consent_allowing_sharing_registers_the_subject_then_sends_the_consent():
    version = sharing_optional_version()
    participant = eligible_participant()
    sign_all_yes(participant, version)
    registered, consent = _messages(participant)
    assert (registered.type, registered.sequence) == (MessageType.SUBJECT_REGISTERED, 1)
    assert (consent.type, consent.sequence) == (MessageType.CONSENT_UPDATED, 2)
    subject = registered.subject
    assert pseudonym_is_well_formed(subject) and consent.subject == subject
    payload = registered.payload
    assert set(payload) == {"cohort", "site", "enrolled_on", "birth_year", "sex"}
    assert payload["birth_year"] == participant.birth_year
    assert payload["sex"] == "female" and payload["site"] == participant.site.code
    assert len(payload["enrolled_on"]) == 7 and payload["enrolled_on"][4] == "-"
    body = consent.payload
    assert set(body) == {"consent_version", "status", "signed_at", "permissions", "fhir"}
    assert body["status"] == "active" and body["consent_version"] == "main 1.0"
    sharing = next(p for p in body["permissions"] if p["item"] == "data_sharing")
    assert sharing == {"item": "data_sharing", "granted": True, "duo": ["DUO:0000042"]}
    assert body["fhir"]["patient"]["identifier"]["value"] == subject
    assert str(participant.pk) not in body["fhir"]["id"]
    Consent.model_validate(body["fhir"])  # FHIR R4 (R4B) Consent
    assert participant.code not in str(registered.payload) + str(body)


def test_nothing_is_written_for_a_participant_who_never_allowed_sharing():
    version = sharing_optional_version()
    participant = eligible_participant()
    from consent.services import consent_record
    from tests.consent.signing_builders import right_answers

    choices = {
        code: code != "data_sharing" for code in version.items.values_list("code", flat=True)
    }
    consent_record(
        participant=participant,
        version=version,
        choices=choices,
        signature=typed(),
        by=None,
        answers=right_answers(version),
    )
    assert _messages(participant) == []
    consent_withdraw(participant=participant, level="no_further_contact", by=None, confirmed=True)
    assert _messages(participant) == []


def test_allowing_sharing_later_registers_then_every_change_follows_in_sequence():
    version = sharing_optional_version()
    participant = eligible_participant()
    from consent.services import consent_record
    from tests.consent.signing_builders import right_answers

    choices = {
        code: code != "data_sharing" for code in version.items.values_list("code", flat=True)
    }
    consent_record(
        participant=participant,
        version=version,
        choices=choices,
        signature=typed(),
        by=None,
        answers=right_answers(version),
    )
    consent_update(participant=participant, choices={"data_sharing": True}, by=None, confirmed=True)
    consent_update(
        participant=participant, choices={"genomic_analysis": False}, by=None, confirmed=True
    )
    consent_withdraw(
        participant=participant,
        level="no_further_use",
        samples_fate="destroy",
        by=None,
        confirmed=True,
    )
    types = [(m.sequence, m.type) for m in _messages(participant)]
    assert types == [
        (1, "subject.registered"),
        (2, "consent.updated"),
        (3, "consent.updated"),
        (4, "subject.withdrawn"),
    ]
    withdrawn = _messages(participant)[-1].payload
    assert set(withdrawn) == {"level", "effective_at", "samples"}
    assert (withdrawn["level"], withdrawn["samples"]) == ("no_further_use", "destroy")
    assert "+09:00" in withdrawn["effective_at"]


def test_the_outbox_row_goes_with_a_rolled_back_change():
    version = sharing_optional_version()
    participant = eligible_participant()
    with pytest.raises(RuntimeError), transaction.atomic():
        sign_all_yes(participant, version)
        assert len(_messages(participant)) == 2
        raise RuntimeError("the change fails after the consent was written")
    assert _messages(participant) == []


def test_every_consent_shape_is_validated_once_and_a_broken_one_is_refused(monkeypatch):
    """The FHIR Consent of each message is valid: validated in full for the first of its shape,
    and those that differ only in the person's own values (pseudonym, times, hash) by that."""
    from dam import payloads

    monkeypatch.setattr(payloads, "_valid_shapes", set())
    validated: list[dict] = []
    full = payloads.validate_fhir_consent

    def counting(resource):
        validated.append(resource)
        full(resource)

    monkeypatch.setattr(payloads, "validate_fhir_consent", counting)
    version = sharing_optional_version()
    first, second = eligible_participant(), eligible_participant()
    sign_all_yes(first, version)
    sign_all_yes(second, version)
    bodies = [
        m.payload["fhir"]
        for p in (first, second)
        for m in _messages(p)
        if m.type != "subject.registered"
    ]
    assert len(bodies) == 2 and bodies[0]["id"] != bodies[1]["id"]
    assert len(validated) == 1  # the second, same shape with its own values, was not rebuilt
    for body in bodies:
        Consent.model_validate(body)  # and it is valid all the same
    # A different shape (one choice changed) is validated in full again.
    consent_update(participant=second, choices={"genomic_analysis": False}, by=None, confirmed=True)
    assert len(validated) == 2
    # A broken resource of a new shape is refused, and remembered as nothing.
    broken = {**bodies[0], "provision": "not a provision"}
    with pytest.raises(ValueError):
        payloads.validate_fhir_consent_shape(broken)
    with pytest.raises(ValueError):
        payloads.validate_fhir_consent_shape(broken)


def test_a_first_consent_reads_the_outbox_once_and_writes_both_messages_in_one_insert():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    version = sharing_optional_version()
    participant = eligible_participant()
    with CaptureQueriesContext(connection) as queries:
        sign_all_yes(participant, version)
    outbox_sql = [q["sql"] for q in queries.captured_queries if "dam_outboxmessage" in q["sql"]]
    assert len(outbox_sql) == 2, outbox_sql  # one read (under the lock), one insert of both rows
    assert outbox_sql[1].startswith('INSERT INTO "dam_outboxmessage"')
    assert [(m.sequence, m.type) for m in _messages(participant)] == [
        (1, "subject.registered"),
        (2, "consent.updated"),
    ]
