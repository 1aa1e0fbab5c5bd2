"""The payloads of the dam's messages, built exactly as the ingest interface (version 1) says.

Only what the interface names goes out: cohort and site codes, the month of enrollment, the birth
*year*, the sex, consent choices with their DUO terms and a FHIR R4 Consent whose patient is the
subject pseudonym. Never a name, phone, e-mail, address, birth date or internal id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zoneinfo
from typing import Any

from consent.models import ConsentState, SamplesFate, WithdrawalLevel
from consent.selectors.fhir import CONTACT_ITEMS, active_items_for, consent_resource
from enrollment.models import Participant, Sex

__all__ = [
    "SUBJECT_SYSTEM",
    "consent_payload",
    "iso",
    "registered_payload",
    "withdrawn_payload",
]

SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")
SUBJECT_SYSTEM = "urn:dam-portal:dam-subject"
_SEX = {Sex.FEMALE: "female", Sex.MALE: "male", Sex.OTHER: "other"}


def iso(value: dt.datetime) -> str:
    """ISO 8601 with the offset, in the programme's time zone (``2026-11-29T10:00:00.000+09:00``)."""
    if value.tzinfo is None:
        raise ValueError("times sent to the dam must be timezone-aware")
    return value.astimezone(SEOUL).isoformat(timespec="milliseconds")


def registered_payload(participant: Participant, *, enrolled_at: dt.datetime) -> dict[str, Any]:
    return {
        "cohort": participant.cohort.code,
        "site": participant.site.code if participant.site is not None else "",
        "enrolled_on": enrolled_at.astimezone(SEOUL).strftime("%Y-%m"),
        "birth_year": int(participant.birth_year),
        "sex": _SEX.get(participant.sex, "unknown"),  # type: ignore[call-overload]
    }


def consent_status(state: ConsentState) -> str:
    """The consent's status as FHIR names it: ``active``, ``inactive`` or ``entered-in-error``."""
    if state.status == ConsentState.Status.VOIDED:
        return "entered-in-error"
    if state.status == ConsentState.Status.WITHDRAWN:
        return "inactive"
    return "active"


def consent_payload(state: ConsentState, *, subject: str) -> dict[str, Any]:
    """``consent.updated``: the version, the permissions now, and the FHIR R4 Consent."""
    version = state.version
    active_items = active_items_for(state)
    items: dict[str, list[str]] = {}
    if version is not None:
        items = {item.code: list(item.duo_codes or []) for item in version.items.all()}
    for code in state.choices:
        items.setdefault(code, [])
    for item in active_items:
        items.setdefault(item.code, list(item.duo_codes or []))
    withdrawn = state.status == ConsentState.Status.WITHDRAWN
    permissions = []
    for code, duo in items.items():
        granted = bool(state.choices.get(code, False)) and state.status != "voided"
        if withdrawn and (
            state.withdrawal_level == WithdrawalLevel.NO_FURTHER_USE or code in CONTACT_ITEMS
        ):
            granted = False
        permissions.append({"item": code, "granted": granted, "duo": duo})
    resource = consent_resource(
        state, active_items=active_items, identifier=lambda _p: (SUBJECT_SYSTEM, subject)
    )
    # The builder names the resource after the internal participant id; the dam gets the pseudonym.
    resource["id"] = f"consent-{subject}"
    validate_fhir_consent_shape(resource)
    return {
        "consent_version": f"{version.form.code} {version.label}" if version is not None else "",
        "status": consent_status(state),
        "signed_at": iso(state.signed_at) if state.signed_at is not None else None,
        "permissions": permissions,
        "fhir": resource,
    }


def withdrawn_payload(
    *, level: str, effective_at: dt.datetime, samples_fate: str
) -> dict[str, Any]:
    # The interface knows two fates. Below "no further use" nothing is destroyed: what was
    # collected stays in use under the pseudonym, which is the "retain" side of the two.
    samples = (
        SamplesFate.DESTROY.value
        if samples_fate == SamplesFate.DESTROY
        else SamplesFate.RETAIN_ANONYMIZED.value
    )
    return {"level": level, "effective_at": iso(effective_at), "samples": samples}


def validate_fhir_consent(resource: dict[str, Any]) -> None:
    """Raise ``ValueError`` unless ``resource`` is a valid FHIR R4 Consent (fhir.resources R4B)."""
    from fhir.resources.R4B.consent import Consent

    Consent.model_validate(resource)


# Validating one Consent costs about 2 ms of CPU (fhir.resources builds some fifty models), paid
# inside every signing transaction. Consents that differ only in the person's own values (the
# pseudonym, the times, the event's hash), each made by one formatting function, have the same
# shape: every shape is validated in full once per process, the rest of its kind by that result.
_PERSONAL_KEYS = frozenset({"id", "value", "dateTime", "start", "end", "lastUpdated"})
_SHAPES_LIMIT = 4096
_valid_shapes: set[str] = set()


def _shape(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: "·" if k in _PERSONAL_KEYS and isinstance(v, str) else _shape(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_shape(v) for v in node]
    return node


def validate_fhir_consent_shape(resource: dict[str, Any]) -> None:
    """``validate_fhir_consent``, in full for the first resource of each shape in this process."""
    shape = hashlib.sha256(
        json.dumps(_shape(resource), sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    if shape in _valid_shapes:
        return
    validate_fhir_consent(resource)
    if len(_valid_shapes) >= _SHAPES_LIMIT:
        _valid_shapes.clear()
    _valid_shapes.add(shape)
