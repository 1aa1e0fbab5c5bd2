"""Extension points of the consent app, which apps above it register from their ``AppConfig.ready``.

Consent imports no app above it (dependencies point reports -> dam -> consent -> enrollment), so
an app that wants to take part in a consent page or API registers a plain function here:

* ``identifier_resolver_register(resolver)``: the bulk consent check accepts identifiers other than
  participant codes (the dam registers its subject pseudonyms). A resolver receives the
  identifiers that are not participant codes and answers, for those it recognises, either the
  participant code behind it (or ``None``: nobody has it) or an ``IdentifierRefused`` with a
  plain-words reason (a mistyped pseudonym, caught by its check character). Identifiers no
  resolver claims are looked up as participant codes (and answer "unknown participant").
* ``my_consent_link_register(provider)``: links shown on the participant's own consent page, e.g.
  the dam's certificate of what was done with their samples after a withdrawal.
* ``sample_counter_register(counter)``: how many samples the given participants have, per site
  (the dam registers it, so a version's impact preview can say how many samples it holds back).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from enrollment.models import Participant

__all__ = [
    "IdentifierRefused",
    "identifier_resolver_register",
    "identifiers_resolve",
    "my_consent_link_register",
    "my_consent_links",
    "sample_counter_register",
    "samples_by_site",
]


@dataclass(frozen=True, slots=True)
class IdentifierRefused:
    """An identifier recognised as malformed; ``code`` is machine-readable, ``reason`` plain."""

    code: str
    reason: str


Resolution = str | None | IdentifierRefused
IdentifierResolver = Callable[[Sequence[str]], Mapping[str, Resolution]]
LinkProvider = Callable[[Participant], Sequence[Mapping[str, str]]]

# Participant ids (a subquery) -> samples per site id (``None``: no site).
SampleCounter = Callable[["QuerySet[Any, Any]"], Mapping[int | None, int]]

_resolvers: list[IdentifierResolver] = []
_link_providers: list[LinkProvider] = []
_sample_counters: list[SampleCounter] = []


def identifier_resolver_register(resolver: IdentifierResolver) -> None:
    if resolver not in _resolvers:
        _resolvers.append(resolver)


def identifiers_resolve(identifiers: Sequence[str]) -> dict[str, str | IdentifierRefused]:
    """Map each identifier to the participant code to check (or a refusal), in a few queries.

    Participant codes map to themselves; the others are offered to the registered resolvers; an
    identifier nobody recognises is kept as given (it answers "unknown participant")."""
    unique = list(dict.fromkeys(identifiers))
    known = set(Participant.objects.filter(code__in=unique).values_list("code", flat=True))
    resolved: dict[str, str | IdentifierRefused] = {code: code for code in known}
    rest = [identifier for identifier in unique if identifier not in known]
    for resolver in _resolvers:
        if not rest:
            break
        answers = resolver(rest)
        for identifier, answer in answers.items():
            # Nobody behind a recognised identifier: keep it, it answers "unknown participant".
            resolved[identifier] = identifier if answer is None else answer
        rest = [identifier for identifier in rest if identifier not in answers]
    for identifier in rest:
        resolved[identifier] = identifier
    return resolved


def my_consent_link_register(provider: LinkProvider) -> None:
    if provider not in _link_providers:
        _link_providers.append(provider)


def my_consent_links(participant: Participant) -> list[Mapping[str, str]]:
    """Links (``{"label": …, "url": …}``) other apps offer on the participant's consent page."""
    links: list[Mapping[str, str]] = []
    for provider in _link_providers:
        links.extend(provider(participant))
    return links


def sample_counter_register(counter: SampleCounter) -> None:
    if counter not in _sample_counters:
        _sample_counters.append(counter)


def samples_by_site(participant_ids: QuerySet[Any, Any]) -> dict[int | None, int] | None:
    """Samples of the given participants per site, or ``None`` when no app keeps samples."""
    if not _sample_counters:
        return None
    counts: dict[int | None, int] = {}
    for counter in _sample_counters:
        for site_id, n in counter(participant_ids).items():
            counts[site_id] = counts.get(site_id, 0) + n
    return counts
