"""No personal data leaves: participants whose identifying data are unique canary strings go
through consent, change and withdrawal; everything is delivered to the loopback dam; not one
canary appears in any byte it received."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from consent.services import consent_record, consent_update, consent_withdraw
from dam.models import OutboxMessage, OutboxState
from dam.services.delivery import outbox_deliver
from tests.consent.signing_builders import eligible_participant, right_answers, typed
from tests.dam.builders import sharing_optional_version

pytestmark = pytest.mark.django_db


def _canaries(n: int) -> dict[str, object]:
    return {
        "name": f"카나리아{n}호박꽃",
        "latin_name": f"Canaryname{n}x Qwerty",
        "phone": f"010-7{n:03d}-9{n:03d}",
        "email": f"canary.{n}.zq@canary-mail.example",
        "address": f"카나리아로 {n}7길 3{n} 캐너리빌",
        "birth_date": dt.date(1950 + n, 1 + n % 12, 3 + n),
    }


def _forms(values: dict[str, object]) -> list[bytes]:
    """Each canary as it might be written: as typed, and the usual other spellings."""
    birth = values["birth_date"]
    assert isinstance(birth, dt.date)
    phone = str(values["phone"])
    texts = [
        str(values["name"]),
        str(values["latin_name"]),
        str(values["latin_name"]).split()[0],
        phone,
        phone.replace("-", ""),
        "+82" + phone.replace("-", "")[1:],
        str(values["email"]),
        str(values["email"]).lower(),
        str(values["address"]),
        birth.isoformat(),
        birth.strftime("%Y%m%d"),
        birth.strftime("%Y.%m.%d"),
    ]
    forms = []
    for text in texts:
        forms.append(text.encode())
        # JSON may escape non-ASCII text.
        forms.append(json.dumps(text).strip('"').encode())
    return forms


def test_no_canary_reaches_the_dam(dam_receiver):
    version = sharing_optional_version()
    canaries = []
    for n in range(1, 6):
        values = _canaries(n)
        canaries.append(values)
        participant = eligible_participant(**values)
        consent_record(
            participant=participant,
            version=version,
            choices={c: True for c in version.items.values_list("code", flat=True)},
            signature=typed(str(values["name"])),
            by=None,
            answers=right_answers(version),
        )
        consent_update(
            participant=participant, choices={"genomic_analysis": False}, by=None, confirmed=True
        )
        if n % 2:
            consent_withdraw(
                participant=participant,
                level="no_further_use",
                samples_fate="retain_anonymized",
                by=None,
                confirmed=True,
            )
    report = outbox_deliver()
    assert report.error is None
    assert not OutboxMessage.objects.exclude(state=OutboxState.DELIVERED).exists()
    assert report.counts["accepted"] == OutboxMessage.objects.count() == 5 * 3 + 3
    sent = b"\n".join(dam_receiver.bodies)
    assert sent  # something was sent, so the search below can fail
    for values in canaries:
        for form in _forms(values):
            assert form not in sent, form
    # And the dam's own detector found nothing either.
    assert not any(r.get("error") == "invalid" for r in dam_receiver.results)
