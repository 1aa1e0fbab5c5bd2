"""Builders for the consent-check and campaign tests.

Versions go through the real lifecycle (``version_create``, ``version_approve`` with its text
hash, ``version_activate``); every ledger event through the real event service (``event_append``:
the participant's lock, the hash chain, the projection folded as the portal folds it). Histories
may still be written as they happened, with signed-at times in the past (paper consents recorded
late), without going through the signing pages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from datetime import datetime

from django.db import transaction

from consent.models import ConsentEvent, ConsentForm, ConsentVersion
from consent.services import ItemSpec, version_activate, version_approve, version_create
from consent.services.events import event_append, participant_lock
from enrollment.models import Participant
from portal.roles import Role
from tests.factories import staff_user

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
    """A version through the lifecycle: draft, approved (text hashed), and active if asked
    (``activated_at`` in the past for histories that began earlier)."""
    if status not in ("approved", "active"):
        raise ValueError(f"make_version builds approved or active versions, not {status}")
    manager = staff_user(Role.PROGRAMME_MANAGER)
    version = version_create(
        form=form or main_form(),
        label=label,
        language=language,
        title=f"Main consent {label}",
        body_markdown=f"Body of {label}",
        items=[
            ItemSpec(
                code=code,
                title=code.replace("_", " "),
                text=(texts or {}).get(code, f"Do you agree to {code}?"),
                required=required,
                duo_codes=("DUO:0000042",) if code == "data_sharing" else (),
            )
            for code, required in items
        ],
        by=manager,
    )
    version = version_approve(
        version=version,
        by=manager,
        irb_approval_number="IRB-2026-001",
        irb_approved_on=dt.date(2026, 1, 15),
    )
    if status == "active":
        version_activate(version=version, by=manager, at=activated_at)
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
    signer_kind: str = "self",
) -> ConsentEvent:
    """Append one event through the event service (``signed_at=None``: signed now, on the web)."""
    with transaction.atomic():
        return event_append(
            participant=participant_lock(participant),
            kind=kind,
            version=version,
            choices=choices,
            signed_at=signed_at,
            channel="web",
            method="" if kind in ("withdraw", "void") else "typed_name",
            withdrawal_level=withdrawal_level,
            samples_fate="destroy" if withdrawal_level == "no_further_use" else "",
            voids=voids,
            reason="quality check failed" if kind == "void" else "",
            signer_kind=signer_kind,
        )
