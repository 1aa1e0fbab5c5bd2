"""Builders for the dam custody tests: participants who really consented (through the consent
services), with sample storage allowed or declined, and tubes recorded through ``sample_record``."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from django.utils import timezone

from consent.models import ConsentVersion, Purpose
from consent.seeding.purposes import purposes_seed
from consent.services import ItemSpec, consent_record, consent_withdraw
from dam.models import Sample
from dam.services import sample_record
from enrollment.models import Participant, Site
from portal.models import User
from tests.consent.signing_builders import (
    QUESTIONS,
    active_version,
    eligible_participant,
    right_answers,
    typed,
)

# Sample storage and data sharing are optional here, so that a participant can decline them.
STORAGE_ITEMS = [
    ItemSpec("data_sharing", "자료 공유", "연구 목적으로 자료를 공유하는 데 동의합니다.", False),
    ItemSpec("sample_storage", "검체 보관", "검체를 바이오뱅크에 보관하는 데 동의합니다.", False),
    ItemSpec("recontact", "재연락", "추가 연구를 위해 다시 연락받는 데 동의합니다.", False),
]

_barcodes = itertools.count(1)


def next_barcode(prefix: str = "BDD") -> str:
    return f"{prefix}-{next(_barcodes):06d}"


def storage_version() -> ConsentVersion:
    """The active main consent version (created once per test)."""
    purposes_seed(Purpose)
    version = ConsentVersion.objects.filter(status=ConsentVersion.Status.ACTIVE).first()
    if version is not None:
        return version
    return active_version(items=STORAGE_ITEMS, questions=QUESTIONS)


def consented(
    site: Site, *, storage: bool = True, sharing: bool = True, **overrides: Any
) -> Participant:
    """A participant of ``site`` who signed on the web, answering ``storage`` for sample storage
    and ``sharing`` for data sharing (without which the dam never learns of them)."""
    version = storage_version()
    participant = eligible_participant(site=site, **overrides)
    consent_record(
        participant=participant,
        version=version,
        choices={"data_sharing": sharing, "sample_storage": storage, "recontact": True},
        signature=typed(),
        by=None,
        answers=right_answers(version),
    )
    participant.refresh_from_db()
    return participant


def withdraw(
    participant: Participant, *, level: str = "no_further_use", samples_fate: str = "destroy"
) -> None:
    consent_withdraw(
        participant=participant,
        level=level,
        by=None,
        confirmed=True,
        samples_fate=samples_fate if level == "no_further_use" else "",
    )
    participant.refresh_from_db()


def tube(
    participant: Participant,
    by: User,
    *,
    barcode: str | None = None,
    sample_type: str = "WB_EDTA",
    collected_at: dt.datetime | None = None,
    volume_ml: Decimal = Decimal("4.5"),
) -> Sample:
    return sample_record(
        participant=participant,
        barcode=barcode or next_barcode(),
        sample_type=sample_type,
        collected_at=collected_at or timezone.now() - dt.timedelta(minutes=10),
        volume_ml=volume_ml,
        by=by,
    )
