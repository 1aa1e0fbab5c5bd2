"""A participant's current consent as a FHIR R4 ``Consent`` resource.

The same resource goes to the dam with every consent change and is served by the API. Shape:

* ``status``: ``active`` while a consent is in force (also when re-consent is due: earlier choices
  stand), ``inactive`` after a withdrawal of further use, ``entered-in-error`` when the consent was
  voided by its quality check;
* ``scope`` research; ``category`` LOINC 59284-0 (consent document) and the HL7 ``research`` code;
* ``patient``: an identifier only, never a name. Which identifier is pluggable
  (``settings.CONSENT_FHIR_PATIENT_IDENTIFIER``, a dotted path to ``f(participant) -> (system,
  value)``): the participant code today, the dam pseudonym once the dam link provides one;
* ``dateTime``: when the participant signed the consent now in force;
* ``policy``: the version (form code, label, language, SHA-256 of its approved text);
* ``provision``: ``permit`` as a whole with one nested ``permit``/``deny`` per item, each coded with
  the item code and its GA4GH DUO terms. Items a newer active version asks but the participant has
  not yet answered are ``deny`` (they count as "no" until re-consent).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from enrollment.models import Participant
from portal.programme import programme_name

from ..ledger import format_time
from ..models import ConsentItem, ConsentState, ConsentVersion

__all__ = [
    "DUO_SYSTEM",
    "ITEM_SYSTEM",
    "consent_resource",
    "fhir_consent_problems",
    "participant_code_identifier",
]

PORTAL_URN = "urn:dam-portal"
ITEM_SYSTEM = f"{PORTAL_URN}:consent-item"
PARTICIPANT_SYSTEM = f"{PORTAL_URN}:participant-code"
EVENT_SYSTEM = f"{PORTAL_URN}:consent-event-hash"
WITHDRAWAL_SYSTEM = f"{PORTAL_URN}:withdrawal-level"
DUO_SYSTEM = "http://purl.obolibrary.org/obo/duo.owl"
SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentcategorycodes"
LOINC = "http://loinc.org"

# Items that only concern contacting the participant: denied by any level of withdrawal.
CONTACT_ITEMS = frozenset({"recontact", "return_of_results"})

Identifier = Callable[[Participant], tuple[str, str]]


def participant_code_identifier(participant: Participant) -> tuple[str, str]:
    return PARTICIPANT_SYSTEM, participant.code


@functools.cache
def _configured_identifier(path: str) -> Identifier:
    identifier: Identifier = import_string(path)
    return identifier


def patient_identifier(participant: Participant) -> tuple[str, str]:
    path = getattr(settings, "CONSENT_FHIR_PATIENT_IDENTIFIER", "")
    identify = _configured_identifier(path) if path else participant_code_identifier
    return identify(participant)


def _status(state: ConsentState) -> str:
    if state.status == ConsentState.Status.VOIDED:
        return "entered-in-error"
    if state.status == ConsentState.Status.WITHDRAWN and state.withdrawal_level in (
        "no_further_use",
        "",
    ):
        return "inactive"
    return "active"


def _item_codes(item_code: str, duo_codes: list[str]) -> list[dict[str, Any]]:
    codings = [{"system": ITEM_SYSTEM, "code": item_code}]
    codings += [{"system": DUO_SYSTEM, "code": duo} for duo in duo_codes]
    return [{"coding": codings}]


def _policy(version: ConsentVersion) -> dict[str, str]:
    return {
        "authority": f"{PORTAL_URN}:consent-form:{version.form.code}",
        "uri": (
            f"{PORTAL_URN}:consent-version:{version.form.code}:{version.label}:"
            f"{version.language}:sha256:{version.text_sha256}"
        ),
    }


def consent_resource(
    state: ConsentState,
    *,
    active_items: list[ConsentItem] | None = None,
    identifier: Identifier | None = None,
) -> dict[str, Any]:
    """The FHIR R4 Consent (as JSON-ready dict) of one participant's current consent.

    ``state`` should come with ``participant``, ``version__form`` and ``last_event`` selected and
    the version's ``items`` prefetched. ``active_items`` are the items of the active version of the
    same form and language, needed when the participant is due to re-consent.
    """
    participant = state.participant
    system, value = (identifier or patient_identifier)(participant)
    version = state.version
    items: dict[str, list[str]] = {}
    if version is not None:
        items = {item.code: list(item.duo_codes or []) for item in version.items.all()}
    for code in state.choices:
        items.setdefault(code, [])
    for item in active_items or []:
        items.setdefault(item.code, list(item.duo_codes or []))
    withdrawn = state.status == ConsentState.Status.WITHDRAWN
    provisions = []
    for code, duo_codes in items.items():
        permitted = bool(state.choices.get(code, False))
        if withdrawn and (state.withdrawal_level == "no_further_use" or code in CONTACT_ITEMS):
            permitted = False
        provisions.append(
            {"type": "permit" if permitted else "deny", "code": _item_codes(code, duo_codes)}
        )
    if withdrawn and state.withdrawal_level:
        provisions.append(
            {
                "type": "deny",
                "code": [
                    {"coding": [{"system": WITHDRAWAL_SYSTEM, "code": state.withdrawal_level}]}
                ],
            }
        )
    resource: dict[str, Any] = {
        "resourceType": "Consent",
        "id": f"consent-{participant.pk}",
        "status": _status(state),
        "scope": {"coding": [{"system": SCOPE_SYSTEM, "code": "research", "display": "Research"}]},
        "category": [
            {"coding": [{"system": LOINC, "code": "59284-0", "display": "Consent Document"}]},
            {"coding": [{"system": CATEGORY_SYSTEM, "code": "research"}]},
        ],
        "patient": {"identifier": {"system": system, "value": value}},
        "provision": {
            "type": "deny" if _status(state) != "active" else "permit",
            "provision": provisions,
        },
    }
    if state.signed_at is not None:
        resource["dateTime"] = format_time(state.signed_at)
        resource["provision"]["period"] = {"start": format_time(state.signed_at)}
    if state.last_event is not None:
        resource["identifier"] = [{"system": EVENT_SYSTEM, "value": state.last_event.hash}]
        resource["meta"] = {"lastUpdated": format_time(state.last_event.recorded_at)}
    if version is not None:
        resource["policy"] = [_policy(version)]
    else:
        # FHIR asks for a policy or a policy rule; without a version, say the programme's rule.
        resource["policyRule"] = {"text": f"{programme_name('en')} consent"}
    return resource


def active_items_for(state: ConsentState) -> list[ConsentItem]:
    """Items of the active version of the participant's form and language (one query)."""
    if state.version is None or state.status != ConsentState.Status.RECONSENT_DUE:
        return []
    return list(
        ConsentItem.objects.filter(
            version__form_id=state.version.form_id,
            version__language=state.version.language,
            version__status=ConsentVersion.Status.ACTIVE,
        )
    )


def consent_resource_for(participant: Participant) -> dict[str, Any] | None:
    """The resource of ``participant``, or ``None`` without any consent on record."""
    state = (
        ConsentState.objects.select_related("participant", "version__form", "last_event")
        .prefetch_related("version__items")
        .filter(participant=participant)
        .first()
    )
    if state is None:
        return None
    return consent_resource(state, active_items=active_items_for(state))


# The FHIR R4 ConsentState value set (http://hl7.org/fhir/consent-state-codes).
CONSENT_STATES = frozenset(
    {"draft", "proposed", "active", "rejected", "inactive", "entered-in-error"}
)
PROVISION_TYPES = frozenset({"deny", "permit"})


def fhir_consent_problems(resource: Mapping[str, Any]) -> list[str]:
    """What breaks the FHIR R4 invariants that matter to the dam, in plain words ([] when none).

    The R4B model of fhir.resources accepts a made-up status or a Consent without a patient; the
    dam cannot. Checked: the resource type; ``status`` from the ConsentState value set; a patient
    given by reference or identifier (system and value); a ``policy`` (with ``uri`` or
    ``authority``) or a ``policyRule`` (FHIR invariant ppc-1); a scope and a category; and every
    provision typed ``permit``/``deny`` with codes that each carry a system and a code.
    """
    problems: list[str] = []
    if resource.get("resourceType") != "Consent":
        problems.append("resourceType is not Consent")
    if resource.get("status") not in CONSENT_STATES:
        problems.append(f"status {resource.get('status')!r} is not a FHIR consent state")
    patient = resource.get("patient")
    identifier = patient.get("identifier") if isinstance(patient, Mapping) else None
    has_reference = isinstance(patient, Mapping) and bool(patient.get("reference"))
    has_identifier = isinstance(identifier, Mapping) and bool(
        identifier.get("system") and identifier.get("value")
    )
    if not (has_reference or has_identifier):
        problems.append("patient is missing (a reference, or an identifier with system and value)")
    policies = resource.get("policy") or []
    has_policy = any(
        isinstance(p, Mapping) and (p.get("uri") or p.get("authority")) for p in policies
    )
    rule = resource.get("policyRule")
    if not has_policy and not (isinstance(rule, Mapping) and rule):
        problems.append("neither policy nor policyRule (FHIR invariant ppc-1)")
    if not resource.get("scope"):
        problems.append("scope is missing")
    if not resource.get("category"):
        problems.append("category is missing")
    provision = resource.get("provision")
    if not isinstance(provision, Mapping):
        problems.append("provision is missing")
        return problems
    stack: list[tuple[str, Mapping[str, Any]]] = [("provision", provision)]
    while stack:
        path, node = stack.pop()
        if node.get("type") not in PROVISION_TYPES:
            problems.append(f"{path}.type {node.get('type')!r} is not permit or deny")
        for concept in node.get("code") or []:
            codings = concept.get("coding") if isinstance(concept, Mapping) else None
            if not codings or not all(
                isinstance(c, Mapping) and c.get("system") and c.get("code") for c in codings
            ):
                problems.append(f"{path}.code has a coding without system and code")
        for index, child in enumerate(node.get("provision") or []):
            if isinstance(child, Mapping):
                stack.append((f"{path}.provision[{index}]", child))
            else:
                problems.append(f"{path}.provision[{index}] is not a provision")
    return problems
