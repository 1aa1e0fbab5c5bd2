"""Builders for the consent-check and campaign tests.

Versions are made the way the lifecycle makes them (draft with items, then approved with a hash).
Ledger rows are written directly with the projection next to them, so that these tests exercise the
checks and campaigns on exactly the histories they describe (signed-at times in the past, paper
consents recorded late) without going through signing pages.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.utils import timezone

from consent.models import (
    ConsentEvent,
    ConsentForm,
    ConsentItem,
    ConsentState,
    ConsentVersion,
)
from enrollment.models import Participant

_counter = itertools.count(1)

ITEMS_V1 = [
    ("data_sharing", True),
    ("sample_storage", True),
    ("genomic_analysis", False),
    ("recontact", False),
]


def main_form() -> ConsentForm:
    form, _created = ConsentForm.objects.get_or_create(
        code="main", defaults={"title": "Main consent", "kind": "main"}
    )
    return form


def make_version(
    label: str,
    items: Sequence[tuple[str, bool]] = ITEMS_V1,
    *,
    status: str = "active",
    language: str = "ko",
    form: ConsentForm | None = None,
    texts: Mapping[str, str] | None = None,
    activated_at: datetime | None = None,
) -> ConsentVersion:
    form = form or main_form()
    version = ConsentVersion.objects.create(
        form=form,
        label=label,
        language=language,
        title=f"Main consent {label}",
        body_markdown=f"Body of {label}",
        body_html=f"<p>Body of {label}</p>",
    )
    for order, (code, required) in enumerate(items):
        ConsentItem.objects.create(
            version=version,
            code=code,
            order=order,
            title=code.replace("_", " "),
            text=(texts or {}).get(code, f"Do you agree to {code}?"),
            required=required,
            duo_codes=["DUO:0000042"] if code == "data_sharing" else [],
        )
    digest = hashlib.sha256(f"{form.code}:{label}:{language}".encode()).hexdigest()
    ConsentVersion.objects.filter(pk=version.pk).update(
        status="approved", text_sha256=digest, approved_at=timezone.now()
    )
    if status in ("active", "superseded"):
        when = activated_at or timezone.now()
        ConsentVersion.objects.filter(pk=version.pk).update(
            status="active", activated_at=when, effective_from=when
        )
    if status == "superseded":
        ConsentVersion.objects.filter(pk=version.pk).update(
            status="superseded", ended_at=timezone.now()
        )
    version.refresh_from_db()
    return version


def record(
    participant: Participant,
    version: ConsentVersion | None,
    choices: Mapping[str, bool],
    *,
    kind: str = "grant",
    signed_at: datetime | None = None,
    withdrawal_level: str = "",
    voids: ConsentEvent | None = None,
    state_status: str | None = None,
) -> ConsentEvent:
    """Append one event and move the projection the way the consent service does."""
    signed_at = signed_at or timezone.now()
    previous = ConsentEvent.objects.filter(participant=participant).order_by("-sequence").first()
    n = next(_counter)
    event = ConsentEvent.objects.create(
        participant=participant,
        sequence=(previous.sequence + 1) if previous else 1,
        kind=kind,
        version=version,
        version_sha256=version.text_sha256 if version else "",
        choices=dict(choices),
        signed_at=signed_at,
        channel="web",
        method="typed_name",
        withdrawal_level=withdrawal_level,
        voids=voids,
        prev_hash=previous.hash if previous else "",
        hash=hashlib.sha256(f"event-{n}-{participant.pk}".encode()).hexdigest(),
        verification_code=f"T{n:07d}",
    )
    status = state_status or {
        "withdraw": ConsentState.Status.WITHDRAWN,
        "void": ConsentState.Status.VOIDED,
    }.get(kind, ConsentState.Status.ACTIVE)
    defaults: dict[str, Any] = {
        "status": status,
        "signed_at": signed_at,
        "last_event": event,
        "withdrawal_level": withdrawal_level,
        "event_count": event.sequence,
    }
    if kind not in ("withdraw", "void"):
        defaults["version"] = version
        defaults["choices"] = dict(choices)
    ConsentState.objects.update_or_create(participant=participant, defaults=defaults)
    return event
