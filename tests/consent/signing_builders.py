"""Builders for the consent-core tests: versions through the lifecycle services, participants with
a vault profile and an eligible enrollment status, signatures that match them, and the web form
data and re-authentication the signing pages ask for."""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from typing import Any

from django.db import transaction
from django.test import Client
from django.urls import reverse

from consent.models import ConsentEvent, ConsentForm, ConsentVersion
from consent.services import (
    ItemSpec,
    QuestionSpec,
    Signature,
    consent_record,
    version_approve,
    version_create,
)
from consent.services.activation import version_activate
from enrollment.models import Participant, ParticipantStatus
from enrollment.services.funnel import participant_transition
from tests.enrollment.people import participant_with_profile
from tests.factories import DEFAULT_PASSWORD

NAME = "김하늘"
ITEMS = [
    ItemSpec(
        "data_sharing",
        "자료 공유",
        "연구 목적으로 자료를 공유하는 데 동의합니다.",
        True,
        ("DUO:0000042",),
    ),
    ItemSpec("sample_storage", "검체 보관", "검체를 바이오뱅크에 보관하는 데 동의합니다.", True),
    ItemSpec("genomic_analysis", "유전체 분석", "유전체 분석에 동의합니다.", False),
    ItemSpec("recontact", "재연락", "추가 연구를 위해 다시 연락받는 데 동의합니다.", False),
]
QUESTIONS = [
    QuestionSpec("언제든지 동의를 철회할 수 있습니까?", ["예", "아니요"], 0),
]


def main_form() -> ConsentForm:
    form, _created = ConsentForm.objects.get_or_create(
        code="main", defaults={"title": "Main consent", "kind": "main"}
    )
    return form


def active_version(
    *,
    label: str = "1.0",
    language: str = "ko",
    items: list[ItemSpec] | None = None,
    questions: list[QuestionSpec] | None = None,
    by: Any = None,
    effective_from: dt.datetime | None = None,
) -> ConsentVersion:
    version = version_create(
        form=main_form(),
        label=label,
        language=language,
        title="바이오 데이터 댐 참여 동의서",
        body_markdown="# 연구 설명\n\n이 연구는 **백만 명**의 참여자를 모집합니다.",
        items=items if items is not None else ITEMS,
        questions=questions if questions is not None else QUESTIONS,
        effective_from=effective_from,
        by=by,
    )
    version = version_approve(
        version=version,
        by=by,
        irb_approval_number="IRB-2026-001",
        irb_approved_on=dt.date(2026, 1, 15),
    )
    if by is None:
        from portal.roles import Role
        from tests.factories import staff_user

        by = staff_user(Role.PROGRAMME_MANAGER)
    version_activate(version=version, by=by)
    version.refresh_from_db()
    return version


def eligible_participant(**overrides: Any) -> Participant:
    overrides.setdefault("name", NAME)
    overrides.setdefault("latin_name", "Kim Haneul")
    participant = participant_with_profile(**overrides)
    participant_transition(
        participant=participant, to_status=ParticipantStatus.ELIGIBLE, actor=None
    )
    participant.refresh_from_db()
    return participant


def all_yes(version: ConsentVersion) -> dict[str, bool]:
    return {code: True for code in version.items.values_list("code", flat=True)}


def right_answers(version: ConsentVersion) -> dict[int, int]:
    return {q.pk: q.correct_choice for q in version.questions.all()}


def typed(name: str = NAME) -> Signature:
    return Signature(typed_name=name, confirmed=True)


def sign_all_yes(participant: Participant, version: ConsentVersion) -> ConsentEvent:
    """The participant signs ``version`` on the web, saying yes to every item."""
    return consent_record(
        participant=participant,
        version=version,
        choices=all_yes(version),
        signature=typed(),
        by=None,
        answers=right_answers(version),
    )


def tiny_png() -> bytes:
    """A valid one-pixel PNG, as the signature pad sends."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b"\x00\x00\x00\x00"
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw + b"\xff"))
        + chunk(b"IEND", b"")
    )


def reauthenticate(client: Client) -> None:
    """Confirm the password, as the signing, change and withdrawal pages ask."""
    response = client.post(reverse("account_reauthenticate"), {"password": DEFAULT_PASSWORD})
    assert response.status_code == 302


def sign_data(version: ConsentVersion, **overrides: Any) -> dict[str, Any]:
    """The signing form filled in: every item yes, right answers, the registered name, confirmed
    with the account's password (the coordinators' form has no password field and ignores it)."""
    data: dict[str, Any] = {f"item_{code}": "yes" for code in all_yes(version)}
    data.update({f"q_{q}": str(a) for q, a in right_answers(version).items()})
    data.update({"typed_name": NAME, "confirm": "on", "password": DEFAULT_PASSWORD})
    data.update(overrides)
    return data


def legacy_event(participant: Participant, *, kind: str, **fields: Any) -> ConsentEvent:
    """An event as the portal wrote it before the ledger held codes (hash format 1): typed text in
    ``representative_relationship`` and ``reason``. Hashed with the real ``event_hash``, whose
    format-1 output a test pins byte for byte (``test_format_1_hash_is_unchanged``)."""
    from consent import ledger
    from consent.projection import state_refresh
    from consent.services.events import participant_lock

    with transaction.atomic():
        participant = participant_lock(participant)
        head, now = ledger.chain_head_and_now(participant.pk)
        state = participant.consent_state
        values: dict[str, Any] = {
            "participant_id": participant.pk,
            "sequence": head[0] + 1 if head else 1,
            "kind": kind,
            "version_id": state.version_id,
            "version_sha256": state.version.text_sha256 if state.version else "",
            "choices": dict(state.choices),
            "signed_at": now,
            "recorded_at": now,
            "signer_kind": "self",
            "representative_relationship": "",
            "method": "",
            "channel": "site_tablet",
            "staff_id": None,
            "countersigned_by_id": None,
            "withdrawal_level": "",
            "samples_fate": "",
            "voids_id": None,
            "reason": "",
            "signer_name_digest": "",
            "signature_sha256": "",
            "countersignature_sha256": "",
            "document_sha256": "",
            "prev_hash": head[1] if head else "",
            **fields,
        }
        digest = ledger.event_hash(values)
        event = ConsentEvent.objects.create(
            **values, hash=digest, verification_code=ledger.verification_code(digest)
        )
        state_refresh(participant_id=participant.pk)
    return event
