"""The impartial witness and the codes that replace typed text in the ledger (hash format 2), and
the events recorded before them (format 1) that must keep verifying."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pypdf
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse

from consent import ledger
from consent.models import ArtifactKind, ConsentArtifact, ConsentEvent
from consent.services import InPerson, Signature, Witness, consent_record, consent_withdraw
from consent.services.artifacts import event_files_read
from consent.services.receipts import receipt_render
from consent.services.sealed_files import sealed_files_verify
from tests.consent import signing_builders as ca

pytestmark = pytest.mark.django_db

WITNESS = "박증인"
OTHER_RELATION = "이모 김순자 (어머니의 자매)"


def _with_witness(version: Any, participant: Any, by: Any) -> ConsentEvent:
    return consent_record(
        participant=participant,
        version=version,
        choices=ca.all_yes(version),
        signature=ca.typed(),
        by=by,
        answers=ca.right_answers(version),
        in_person=InPerson(
            countersigned_by=by,
            countersignature_confirmed=True,
            witness=Witness(name=WITNESS, signature_png=ca.tiny_png()),
        ),
    )


def _row(event: ConsentEvent) -> str:
    """Every column of the stored ledger row, as text."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT row_to_json(e)::text FROM consent_consentevent e WHERE id = %s", [event.pk]
        )
        return str(cursor.fetchone()[0])


def _tamper(event_id: int, sql: str) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, [event_id])


def _verify_both() -> list[list[tuple[int, str]]]:
    return [
        [(b.event_id, b.problem) for b in ledger.ledger_verify(in_database=flag).broken]
        for flag in (True, False)
    ]


def test_format_1_hash_is_unchanged():
    # Computed by the hash function as it was before format 2 existed: an event without witness
    # or codes must hash to the same bytes, or every stored chain would break.
    values = {
        "participant_id": 41,
        "sequence": 3,
        "kind": "withdraw",
        "version_id": 7,
        "version_sha256": "ab" * 32,
        "choices": {"recontact": False, "data_sharing": True},
        "signed_at": dt.datetime(2026, 3, 1, 9, 30, 0, 123456, tzinfo=dt.UTC),
        "recorded_at": dt.datetime(2026, 3, 1, 9, 30, 1, 5, tzinfo=dt.UTC),
        "signer_kind": "legal_representative",
        "representative_relationship": '어머니 (母) "q"',
        "method": "",
        "channel": "site_tablet",
        "staff_id": 5,
        "countersigned_by_id": None,
        "withdrawal_level": "no_further_use",
        "samples_fate": "destroy",
        "voids_id": None,
        "reason": "전화 \\ 요청\n",
        "signer_name_digest": "",
        "signature_sha256": "",
        "countersignature_sha256": "",
        "document_sha256": "",
        "prev_hash": "cd" * 32,
    }
    expected = "a7e289c5c39bf3a7742ca834e3a00c569faca4cdec5b25d8c0779e79c0ce271c"
    assert ledger.event_format(values) == 1
    assert ledger.event_hash(values) == expected
    assert ledger.event_hash({**values, **dict.fromkeys(ledger.FORMAT_2_FIELDS, "")}) == expected
    assert ledger.event_hash({**values, "witness_name_sha256": "ef" * 32}) != expected


def test_a_witnessed_tablet_consent_stores_name_and_signature_encrypted_and_hashed(site_team):
    _site, first, _second = site_team
    version = ca.active_version()
    participant = ca.eligible_participant(site=_site)
    event = _with_witness(version, participant, first)

    assert event.has_witness and len(event.witness_signature_sha256) == 64
    assert WITNESS not in _row(event)
    kinds = set(ConsentArtifact.objects.filter(event=event).values_list("kind", flat=True))
    assert {ArtifactKind.WITNESS_NAME, ArtifactKind.WITNESS_SIGNATURE} <= kinds
    name_file = ConsentArtifact.objects.get(event=event, kind=ArtifactKind.WITNESS_NAME)
    with name_file.file.open("rb") as handle:
        assert WITNESS.encode() not in handle.read()
    assert event_files_read(event).witness_name == WITNESS
    # Format 2, in both verifications; the files match their hashes.
    assert ledger.event_hash({**_stored(event)}) == event.hash
    assert _verify_both() == [[], []]
    assert sealed_files_verify(participant_id=participant.pk) == []

    text = "".join(
        "".join(page.extract_text().split())
        for page in pypdf.PdfReader(io.BytesIO(receipt_render(event))).pages
    )
    assert "공정한입회인" in text and WITNESS in text and event.witness_signature_sha256 in text


def _stored(event: ConsentEvent) -> dict[str, Any]:
    row = ConsentEvent.objects.filter(pk=event.pk).values(
        *[f for f in ledger.HASHED_FIELDS], *ledger.FORMAT_2_FIELDS
    )
    return dict(row.get())


def test_a_witness_needs_a_name_and_a_signature(site_team):
    _site, first, _second = site_team
    version = ca.active_version()
    participant = ca.eligible_participant(site=_site)
    for witness, message in (
        (Witness(name=" ", signature_png=ca.tiny_png()), "성명"),
        (Witness(name=WITNESS, signature_png=None), "서명"),
        (Witness(name=WITNESS, signature_png=b"\x89PNG\r\n\x1a\nnot really"), "PNG"),
        (Witness(name="박\u202e증인", signature_png=ca.tiny_png()), "보이지 않는"),
    ):
        with pytest.raises(ValidationError, match=message):
            consent_record(
                participant=participant,
                version=version,
                choices=ca.all_yes(version),
                signature=ca.typed(),
                by=first,
                answers=ca.right_answers(version),
                in_person=InPerson(
                    countersigned_by=first, countersignature_confirmed=True, witness=witness
                ),
            )
    assert not ConsentEvent.objects.filter(participant=participant).exists()


def test_tampering_with_a_witness_is_detected(site_team):
    _site, first, _second = site_team
    version = ca.active_version()
    people = [
        ca.eligible_participant(site=_site, phone=f"010-5555-{n:04d}", email=f"w{n}@example.org")
        for n in range(3)
    ]
    events = [_with_witness(version, p, first) for p in people]
    # Cleared: the event falls back to format 1, whose hash differs.
    _tamper(events[0].pk, "UPDATE consent_consentevent SET witness_name_sha256 = '' WHERE id = %s")
    # Pointed at another signature image.
    _tamper(
        events[1].pk,
        f"UPDATE consent_consentevent SET witness_signature_sha256 = '{'e' * 64}' WHERE id = %s",
    )
    for answer in _verify_both():
        assert answer == [
            (events[0].pk, "content does not match its hash"),
            (events[1].pk, "content does not match its hash"),
        ]
    # The file itself replaced: the file check names it.
    signature = ConsentArtifact.objects.get(event=events[2], kind=ArtifactKind.WITNESS_SIGNATURE)
    with signature.file.open("wb") as handle:
        handle.write(b"garbage")
    problems = sealed_files_verify(participant_id=people[2].pk)
    assert [(p.event_id, p.problem) for p in problems] == [
        (
            events[2].pk,
            "stored witness_signature file does not open (changed, moved or under an unknown key)",
        )
    ]


def test_old_events_with_typed_text_still_verify_beside_new_ones(site_team):
    _site, first, _second = site_team
    version = ca.active_version()
    old, new = (
        ca.eligible_participant(site=_site),
        ca.eligible_participant(site=_site, phone="010-7777-0000", email="new@example.org"),
    )
    ca.sign_all_yes(old, version)
    legacy = ca.legacy_event(
        old,
        kind="withdraw",
        withdrawal_level="no_further_contact",
        signer_kind="legal_representative",
        representative_relationship="어머니",
        reason="전화 요청",
    )
    _with_witness(version, new, first)
    assert ledger.event_format(_stored(legacy)) == 1
    assert _verify_both() == [[], []]
    out = io.StringIO()
    call_command("verify_consent_ledger", stdout=out)
    assert "every stored file matches" in out.getvalue()
    # People see what was typed then.
    assert (legacy.relationship_label, legacy.reason_label) == ("어머니", "전화 요청")


def test_a_representatives_relationship_is_a_code_and_other_text_goes_to_the_vault(site_team):
    _site, first, _second = site_team
    version = ca.active_version()
    participant = ca.eligible_participant(site=_site, guardian_name="김보호")
    event = consent_record(
        participant=participant,
        version=version,
        choices=ca.all_yes(version),
        signature=Signature(
            typed_name="김보호",
            confirmed=True,
            signer_kind="legal_representative",
            representative_relation="other",
            representative_note=OTHER_RELATION,
        ),
        by=first,
        answers=ca.right_answers(version),
        in_person=InPerson(countersigned_by=first, countersignature_confirmed=True),
    )
    row = _row(event)
    assert OTHER_RELATION not in row and "이모" not in row
    assert (event.representative_relation, event.representative_relationship) == ("other", "")
    assert len(event.representative_note_sha256) == 64
    assert event_files_read(event).relationship_note == OTHER_RELATION
    assert _verify_both() == [[], []]
    assert sealed_files_verify(participant_id=participant.pk) == []


def test_other_without_words_and_unknown_codes_are_refused(site_team):
    _site, first, _second = site_team
    version = ca.active_version()
    participant = ca.eligible_participant(site=_site)
    ca.sign_all_yes(participant, version)
    for kwargs, message in (
        ({"reason": "other"}, "기타"),
        ({"reason": "전화 요청"}, "목록"),
        ({"reason": ""}, "철회를 어떻게"),
        ({"reason": "phone", "signer_kind": "legal_representative"}, "관계"),
        (
            {
                "reason": "phone",
                "signer_kind": "legal_representative",
                "representative_relation": "어머니",
            },
            "목록",
        ),
    ):
        with pytest.raises(ValidationError, match=message):
            consent_withdraw(
                participant=participant,
                level="no_further_contact",
                by=first,
                staff=first,
                confirmed=True,
                **kwargs,
            )
    assert not ConsentEvent.objects.filter(participant=participant, kind="withdraw").exists()


def test_a_withdrawal_reason_is_a_code_and_its_words_stay_out_of_the_ledger(client, site_team):
    _site, first, _second = site_team
    version = ca.active_version()
    participant = ca.eligible_participant(site=_site)
    ca.sign_all_yes(participant, version)
    client.force_login(first)
    words = "보호자가 방문하여 구두로 요청 (담당의 이OO 입회)"
    response = client.post(
        reverse("consent:site_withdraw", args=[participant.code]),
        {
            "signer_kind": "legal_representative",
            "representative_relation": "spouse",
            "reason": "other",
            "reason_note": words,
            "level": "no_further_contact",
            "confirm": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = ConsentEvent.objects.get(participant=participant, kind="withdraw")
    assert words not in _row(event) and "구두" not in _row(event)
    assert (event.withdrawal_reason, event.reason, event.representative_relation) == (
        "other",
        "",
        "spouse",
    )
    assert event_files_read(event).withdrawal_note == words
    page = client.get(reverse("consent:site_participant", args=[participant.code]))
    assert "기타" in page.content.decode()
    assert words not in page.content.decode()
    assert _verify_both() == [[], []]


def test_the_quality_check_page_shows_the_witness_and_audits_opening_it(client, site_team):
    from portal.models import AuditEvent

    _site, first, second = site_team
    version = ca.active_version()
    participant = ca.eligible_participant(site=_site)
    event = _with_witness(version, participant, first)
    client.force_login(second)
    page = client.get(reverse("consent:site_qc", args=[event.pk])).content.decode()
    assert "공정한 입회인" in page and WITNESS in page
    assert AuditEvent.objects.filter(
        action="consent.artifact_viewed", actor=second, details__notes=["witness_name"]
    ).exists()
    # The name is shown, never handed out as a file.
    name = ConsentArtifact.objects.get(event=event, kind=ArtifactKind.WITNESS_NAME)
    assert client.get(reverse("consent:site_artifact", args=[name.pk])).status_code == 404
