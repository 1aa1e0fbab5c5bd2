"""What the dam adds to the consent app through its hooks (registered in ``DamConfig.ready``):
subject pseudonyms in the bulk consent check, and the samples certificate on "my consent"; and
to enrollment's participant page, the next step once consent stands (record the samples)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from consent.hooks import IdentifierRefused, Resolution
from enrollment.models import Participant, ParticipantStatus

from .models import Sample
from .pseudonyms import ALPHABET, LENGTH, pseudonym_is_well_formed
from .services.fates import fate_certificate_available
from .services.pseudonyms import pseudonym_normalise, pseudonyms_resolve_bulk


def _looks_like_pseudonym(identifier: str) -> bool:
    normalised = pseudonym_normalise(identifier)
    return len(normalised) == LENGTH and all(c in ALPHABET for c in normalised)


def pseudonyms_to_codes(identifiers: Sequence[str]) -> Mapping[str, Resolution]:
    """Participant codes behind the identifiers shaped like subject pseudonyms (one query).

    A pseudonym whose check character is wrong is refused with a plain reason, before any lookup.
    """
    answers: dict[str, Resolution] = {}
    well_formed: list[str] = []
    for identifier in identifiers:
        if not _looks_like_pseudonym(identifier):
            continue
        if pseudonym_is_well_formed(pseudonym_normalise(identifier)):
            well_formed.append(identifier)
        else:
            answers[identifier] = IdentifierRefused(
                code="invalid_pseudonym",
                reason=_(
                    "This pseudonym's check character does not match: it was probably mistyped."
                ),
            )
    if well_formed:
        ids = pseudonyms_resolve_bulk(codes=well_formed)
        codes = dict(
            Participant.objects.filter(pk__in=[pk for pk in ids.values() if pk]).values_list(
                "pk", "code"
            )
        )
        for identifier, participant_id in ids.items():
            answers[identifier] = codes.get(participant_id) if participant_id else None
    return answers


def certificate_link(participant: Participant) -> list[Mapping[str, str]]:
    if not fate_certificate_available(participant):
        return []
    return [
        {
            "label": _("Certificate of what was done with your samples (PDF)"),
            "url": reverse("dam:fate_certificate"),
        }
    ]


def samples_by_site(participant_ids: QuerySet[Any, Any]) -> dict[int | None, int]:
    """Samples of the given participants per site of the participant (the impact preview)."""
    rows = (
        Sample.objects.filter(participant_id__in=participant_ids)
        .values("participant__site_id")
        .annotate(n=Count("pk"))
    )
    return {row["participant__site_id"]: row["n"] for row in rows}


def record_sample_step(participant: Participant) -> Sequence[Mapping[str, str]]:
    """On the coordinator's participant page: once consent stands, the samples come next."""
    if participant.status != ParticipantStatus.CONSENTED:
        return []
    url = reverse("dam:samples") + "?" + urlencode({"participant": participant.code})
    return [{"label": _("Next: record the samples"), "url": url}]
