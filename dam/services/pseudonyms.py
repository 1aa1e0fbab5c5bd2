"""The one way to the pseudonym mapping: a participant's code in a domain, and back.

Nothing outside the dam app reads ``dam.models.Pseudonym``; other apps (and the dam's own pages)
come through these functions. Revealing who is behind a pseudonym to a person is a separate,
approved and audited step (re-identification); ``pseudonym_resolve`` is for the portal's own use
(the bulk consent check, reconciliation) and returns the participant object, never personal data.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext_lazy as _

from enrollment.models import Participant

from ..models import Pseudonym, PseudonymDomain
from ..pseudonyms import ALPHABET, LENGTH, pseudonym_generate, pseudonym_is_well_formed

__all__ = [
    "pseudonym_normalise",
    "pseudonym_of",
    "pseudonym_resolve",
    "pseudonyms_of_bulk",
    "pseudonyms_resolve_bulk",
]

_ATTEMPTS = 8  # a fresh code collides with an existing one with odds of about 1M in 2.6e13


def pseudonym_normalise(code: str) -> str:
    """Upper case, without spaces or dashes (people type codes in groups)."""
    return "".join(str(code).split()).replace("-", "").upper()


def pseudonym_of(
    *, participant: Participant, domain: PseudonymDomain | str = PseudonymDomain.SUBJECT
) -> str:
    """The participant's pseudonym in ``domain``, created (random) on first use.

    Race-safe: the insert does nothing on a conflict, so two transactions asking at once for the
    same participant get the same code (the second waits on the unique index, then reads the
    first one's row). Remembered on the ``participant`` instance, so callers that ask again in the
    same piece of work (consent's outbox rows) do not read it twice.
    """
    domain = PseudonymDomain(domain)
    memo: dict[str, str] = participant.__dict__.setdefault("_dam_pseudonyms", {})
    if domain in memo:
        return memo[domain]
    code = None
    for _attempt in range(_ATTEMPTS):
        code = _code_of_or_insert(participant.pk, domain, pseudonym_generate())
        if code is not None:
            break
    else:
        raise RuntimeError("could not draw an unused pseudonym")
    memo[domain] = code
    return code


def _code_of_or_insert(participant_id: int, domain: str, fresh: str) -> str | None:
    """The participant's code in ``domain``, giving them ``fresh`` if they have none, in one
    statement. ``None`` when ``fresh`` is already someone else's (draw again), or when a
    concurrent transaction gave this participant a code after this statement began (the insert
    waited for it and did nothing; the next try reads it)."""
    if connection.vendor != "postgresql":
        # The embedded database has no INSERT inside WITH: read, then insert.
        return _code_of(participant_id, domain) or _insert(participant_id, domain, fresh)
    table = Pseudonym._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH existing AS (SELECT code FROM {table} "  # noqa: S608
            "WHERE participant_id = %s AND domain = %s ORDER BY id LIMIT 1), "
            f"inserted AS (INSERT INTO {table} (participant_id, domain, code, created_at) "
            "SELECT %s, %s, %s, CURRENT_TIMESTAMP WHERE NOT EXISTS (SELECT 1 FROM existing) "
            "ON CONFLICT DO NOTHING RETURNING code) "
            "SELECT code FROM existing UNION ALL SELECT code FROM inserted",
            [participant_id, domain, participant_id, domain, fresh],
        )
        row = cursor.fetchone()
    return row[0] if row else None


@transaction.atomic
def pseudonyms_of_bulk(
    *, participant_ids: Iterable[int], domain: PseudonymDomain | str = PseudonymDomain.SUBJECT
) -> dict[int, str]:
    """``pseudonym_of`` for many participants in a few queries (bulk jobs and benchmarks)."""
    domain = PseudonymDomain(domain)
    wanted = set(participant_ids)
    found: dict[int, str] = {}
    for _attempt in range(_ATTEMPTS):
        found.update(_codes_of(wanted - found.keys(), domain))
        missing = wanted - found.keys()
        if not missing:
            return found
        Pseudonym.objects.bulk_create(
            [
                Pseudonym(participant_id=pk, domain=domain, code=pseudonym_generate())
                for pk in missing
            ],
            ignore_conflicts=True,
            batch_size=5_000,
        )
    raise RuntimeError("could not draw unused pseudonyms")


def pseudonym_resolve(
    *, code: str, domain: PseudonymDomain | str = PseudonymDomain.SUBJECT
) -> Participant | None:
    """The participant behind ``code`` in ``domain``, or ``None`` when no one has it.

    A code that is not well formed (wrong length, a character outside the alphabet, or a wrong
    check character) raises ``ValidationError`` with a plain message before any lookup.
    """
    normalised = _checked(code)
    pseudonym = (
        Pseudonym.objects.select_related("participant")
        .filter(code=normalised, domain=PseudonymDomain(domain))
        .first()
    )
    return pseudonym.participant if pseudonym is not None else None


def pseudonyms_resolve_bulk(
    *, codes: Iterable[str], domain: PseudonymDomain | str = PseudonymDomain.SUBJECT
) -> dict[str, int | None]:
    """Participant ids of many well-formed codes (as given), in one query; malformed ones raise."""
    normalised = {code: _checked(code) for code in codes}
    rows = dict(
        Pseudonym.objects.filter(
            code__in=set(normalised.values()), domain=PseudonymDomain(domain)
        ).values_list("code", "participant_id")
    )
    return {code: rows.get(value) for code, value in normalised.items()}


def _checked(code: str) -> str:
    normalised = pseudonym_normalise(code)
    if len(normalised) != LENGTH or any(c not in ALPHABET for c in normalised):
        raise ValidationError(
            _(
                "A pseudonym is %(length)d characters: digits 2 to 9 and capital letters "
                "except I, L and O."
            )
            % {"length": LENGTH},
            code="pseudonym_format",
        )
    if not pseudonym_is_well_formed(normalised):
        raise ValidationError(
            _("This pseudonym's check character does not match: it was probably mistyped."),
            code="pseudonym_check",
        )
    return normalised


def _insert(participant_id: int, domain: str, code: str) -> str | None:
    table = Pseudonym._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (participant_id, domain, code, created_at) "  # noqa: S608
            "VALUES (%s, %s, %s, CURRENT_TIMESTAMP) ON CONFLICT DO NOTHING RETURNING code",
            [participant_id, domain, code],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _code_of(participant_id: int, domain: str) -> str | None:
    return (
        Pseudonym.objects.filter(participant_id=participant_id, domain=domain)
        .values_list("code", flat=True)
        .first()
    )


def _codes_of(participant_ids: set[int], domain: str) -> dict[int, str]:
    if not participant_ids:
        return {}
    return dict(
        Pseudonym.objects.filter(participant_id__in=participant_ids, domain=domain).values_list(
            "participant_id", "code"
        )
    )
