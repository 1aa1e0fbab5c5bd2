"""May participant P's data be used for purpose X, now or as of time T?

One rule, two shapes:

* ``consent_allows(participant, purpose, at=None)`` for one participant;
* ``consent_allows_bulk(codes=..., purpose=..., at=None)`` for up to ``BULK_LIMIT`` participants in a
  constant number of queries: the decision is computed inside PostgreSQL/SQLite by one set-based
  statement over ``ConsentState`` (now) or over the ledger (as of T), never a query per participant.

The rule, in order:

1. no consent on record -> no;
2. withdrawn at a level that blocks the purpose's activity -> no ("withdrawn");
3. the consent was voided (failed quality check) -> no;
4. every item the purpose needs must be "yes" in the participant's choices. An item the participant
   was never asked counts as "no": when a newer version asks it, the reason is "re-consent due for
   item X"; until they re-consent, their earlier choices stand.

Historical answers use the *signed-at* time of ledger events (paper and tablet consents are
recorded late; what counts is when the participant signed). Voided events are left out: a consent
that failed its quality check never counted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from enrollment.models import Participant

from ..models import ConsentEvent, ConsentState, ConsentVersion, Purpose

__all__ = [
    "BULK_LIMIT",
    "Decision",
    "consent_allows",
    "consent_allows_bulk",
]

BULK_LIMIT = 10_000

# Machine-readable outcomes computed in SQL; ``Decision.reason`` is the plain-words form.
ALLOWED = "allowed"
UNKNOWN_PARTICIPANT = "unknown_participant"
NO_CONSENT = "no_consent"
WITHDRAWN = "withdrawn"
VOIDED = "voided"
DECLINED = "declined"
RECONSENT_DUE = "reconsent_due"
NOT_ASKED = "not_asked"
PURPOSE_INACTIVE = "purpose_inactive"

_SAFE_ITEM = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer, with the reason in plain words and as a code (``item`` names the item)."""

    allowed: bool
    code: str
    item: str = ""

    @property
    def reason(self) -> str:
        if self.code == ALLOWED:
            return "allowed"
        if self.code == UNKNOWN_PARTICIPANT:
            return "unknown participant"
        if self.code == NO_CONSENT:
            return "no consent on record"
        if self.code == WITHDRAWN:
            return "withdrawn"
        if self.code == VOIDED:
            return "consent voided"
        if self.code == DECLINED:
            return f"item {self.item} declined"
        if self.code == RECONSENT_DUE:
            return f"re-consent due for item {self.item}"
        if self.code == NOT_ASKED:
            return f"item {self.item} not part of the signed consent"
        if self.code == PURPOSE_INACTIVE:
            return "purpose not in use"
        return self.code

    def as_dict(self) -> dict[str, Any]:
        return {"allowed": self.allowed, "reason": self.reason, "code": self.code}


_DECISIONS: dict[str, Decision] = {}


def _decision_from(outcome: str) -> Decision:
    """Turn the SQL outcome ("declined:genomic_analysis") into a shared, immutable Decision."""
    cached = _DECISIONS.get(outcome)
    if cached is None:
        code, _sep, item = outcome.partition(":")
        cached = Decision(allowed=code == ALLOWED, code=code, item=item)
        if len(_DECISIONS) < 10_000:
            _DECISIONS[outcome] = cached
    return cached


def consent_allows(
    participant: Participant, purpose: Purpose | str, at: datetime | None = None
) -> Decision:
    """Does ``participant``'s consent allow ``purpose`` now (or as of ``at``, by signed-at time)?"""
    return consent_allows_bulk(codes=[participant.code], purpose=purpose, at=at)[participant.code]


def consent_allows_bulk(
    *,
    codes: Sequence[str],
    purpose: Purpose | str,
    at: datetime | None = None,
    site_ids: frozenset[int] | None = None,
) -> dict[str, Decision]:
    """Decisions for many participants (by participant code), in a constant number of queries.

    Unknown codes, and codes of participants outside ``site_ids`` (when given; ``None`` means every
    site), get ``unknown participant``, so that a scoped caller learns nothing about other sites. Raises ``ValueError`` beyond ``BULK_LIMIT`` codes
    through the API; callers inside the portal (the benchmark, reports) may pass more.
    """
    purpose = _purpose(purpose)
    unique_codes = list(dict.fromkeys(codes))
    if not purpose.is_active:
        return {code: _decision_from(PURPOSE_INACTIVE) for code in unique_codes}
    if not unique_codes:
        return {}
    if at is None:
        sql, params = _current_sql(purpose, unique_codes, site_ids)
        later_items: dict[int, set[str]] = {}
    else:
        sql, params = _historical_sql(purpose, unique_codes, at, site_ids)
        later_items = _items_asked_later(purpose.required_items, at)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    decisions: dict[str, Decision] = {}
    for code, outcome, version_id in rows:
        if outcome.startswith(NOT_ASKED + ":") and at is not None:
            item = outcome.partition(":")[2]
            if item in later_items.get(version_id, ()):
                outcome = f"{RECONSENT_DUE}:{item}"
        decisions[code] = _decision_from(outcome)
    return decisions


def _purpose(purpose: Purpose | str) -> Purpose:
    if isinstance(purpose, Purpose):
        return purpose
    return Purpose.objects.get(code=purpose)


# --- SQL -----------------------------------------------------------------------------------------
#
# Both statements take the codes as one array parameter (PostgreSQL) or a VALUES list (SQLite), join
# participants and either the projection or the latest valid ledger event, and compute the outcome
# with one CASE per row. Items are checked in the purpose's order so the reason names the first one
# that fails.


def _codes_relation(codes: Sequence[str]) -> tuple[str, list[Any]]:
    if connection.vendor == "postgresql":
        return "(SELECT unnest(%s::text[]) AS code)", [list(codes)]
    # SQLite: a VALUES list, chunked into a UNION ALL so very long lists stay within limits.
    parts = []
    params: list[Any] = []
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        parts.append("SELECT * FROM (VALUES " + ",".join(["(%s)"] * len(chunk)) + ")")  # noqa: S608
        params.extend(chunk)
    return "(SELECT column1 AS code FROM (" + " UNION ALL ".join(parts) + "))", params  # noqa: S608


def _json_item(column: str, item: str) -> tuple[str, str]:
    """SQL for "item present" and "item is yes" on a JSON object column, per vendor.

    Item codes are checked against ``_SAFE_ITEM`` first, so they can be written into the statement
    as literals (which keeps the statement cacheable and the planner's job trivial)."""
    if not _SAFE_ITEM.match(item):
        raise ValueError(f"not a consent item code: {item!r}")
    if connection.vendor == "postgresql":
        return f"({column} ? '{item}')", f"(({column} -> '{item}') = 'true'::jsonb)"
    path = f'$."{item}"'
    return (
        f"(json_type({column}, '{path}') IS NOT NULL)",
        f"(json_type({column}, '{path}') = 'true')",
    )


def _item_cases(column: str, items: Iterable[str], missing_outcome: str) -> str:
    """``WHEN`` branches: the first required item that is missing or not "yes" decides."""
    sql: list[str] = []
    for item in items:
        present, is_true = _json_item(column, item)
        sql.append(f"WHEN NOT {present} THEN {missing_outcome} || ':{item}'")
        sql.append(f"WHEN NOT {is_true} THEN '{DECLINED}:{item}'")
    return " ".join(sql)


def _in_list(column: str, values: Sequence[str]) -> str:
    """``column IN ('a','b')`` for our own constants (withdrawal levels), never for user input."""
    if not values:
        return "1 = 0"
    return f"{column} IN ({','.join(repr(str(v)) for v in values)})"


def _site_condition(site_ids: frozenset[int] | None) -> str:
    if site_ids is None:
        return ""
    return f" AND p.site_id IN ({','.join(str(int(i)) for i in sorted(site_ids)) or 'NULL'})"


def _current_sql(
    purpose: Purpose, codes: Sequence[str], site_ids: frozenset[int] | None
) -> tuple[str, list[Any]]:
    participant_table = Participant._meta.db_table
    state_table = ConsentState._meta.db_table
    codes_sql, params = _codes_relation(codes)
    withdrawn_sql = _in_list("s.withdrawal_level", purpose.blocking_withdrawal_levels())
    # For a missing item: due for re-consent if the state says so, otherwise never asked.
    missing = (
        f"CASE WHEN s.status = '{ConsentState.Status.RECONSENT_DUE}' "
        f"THEN '{RECONSENT_DUE}' ELSE '{NOT_ASKED}' END"
    )
    items_sql = _item_cases("s.choices", purpose.required_items, f"({missing})")
    sql = f"""
        SELECT c.code,
               CASE
                 WHEN p.id IS NULL THEN '{UNKNOWN_PARTICIPANT}'
                 WHEN s.participant_id IS NULL THEN '{NO_CONSENT}'
                 WHEN s.status = '{ConsentState.Status.WITHDRAWN}' AND ({withdrawn_sql}
                      OR s.withdrawal_level IS NULL OR s.withdrawal_level = '')
                   THEN '{WITHDRAWN}'
                 WHEN s.status = '{ConsentState.Status.VOIDED}' THEN '{VOIDED}'
                 {items_sql}
                 ELSE '{ALLOWED}'
               END,
               s.version_id
        FROM {codes_sql} c
        LEFT JOIN {participant_table} p ON p.code = c.code{_site_condition(site_ids)}
        LEFT JOIN {state_table} s ON s.participant_id = p.id
    """  # noqa: S608 (our constants and validated item codes only)
    return sql, params


def _historical_sql(
    purpose: Purpose, codes: Sequence[str], at: datetime, site_ids: frozenset[int] | None
) -> tuple[str, list[Any]]:
    participant_table = Participant._meta.db_table
    event_table = ConsentEvent._meta.db_table
    codes_sql, params = _codes_relation(codes)
    withdrawn_sql = _in_list("e.withdrawal_level", purpose.blocking_withdrawal_levels())
    items_sql = _item_cases("e.choices", purpose.required_items, f"'{NOT_ASKED}'")
    kind = ConsentEvent.Kind
    # The latest event signed at or before ``at`` that is not a void and was not voided.
    latest_event = f"""
        SELECT ev.id FROM {event_table} ev
        WHERE ev.participant_id = p.id
          AND ev.signed_at <= %s
          AND ev.kind <> '{kind.VOID}'
          AND NOT EXISTS (
              SELECT 1 FROM {event_table} v WHERE v.voids_id = ev.id AND v.kind = '{kind.VOID}'
          )
        ORDER BY ev.signed_at DESC, ev.sequence DESC
        LIMIT 1
    """  # noqa: S608 (our constants and validated item codes only, here and below)
    sql = f"""
        SELECT c.code,
               CASE
                 WHEN p.id IS NULL THEN '{UNKNOWN_PARTICIPANT}'
                 WHEN e.id IS NULL THEN '{NO_CONSENT}'
                 WHEN e.kind = '{kind.WITHDRAW}' AND ({withdrawn_sql}
                      OR e.withdrawal_level IS NULL OR e.withdrawal_level = '')
                   THEN '{WITHDRAWN}'
                 {items_sql}
                 ELSE '{ALLOWED}'
               END,
               e.version_id
        FROM {codes_sql} c
        LEFT JOIN {participant_table} p ON p.code = c.code{_site_condition(site_ids)}
        LEFT JOIN {event_table} e ON e.id = ({latest_event})
    """  # noqa: S608
    return sql, [*params, at]


def _items_asked_later(items: Sequence[str], at: datetime) -> dict[int, set[str]]:
    """For each version, the purpose's items that a later version of its form, in force at ``at``,
    asks but it does not: a participant on that version was then due to re-consent for them."""
    if not items:
        return {}
    versions = list(
        ConsentVersion.objects.exclude(status=ConsentVersion.Status.DRAFT)
        .exclude(activated_at__isnull=True, effective_from__isnull=True)
        .prefetch_related("items")
        .only("id", "form_id", "language", "status", "effective_from", "activated_at", "ended_at")
    )
    codes_of = {v.id: {item.code for item in v.items.all()} for v in versions}
    result: dict[int, set[str]] = {}
    for version in versions:
        start = version.activated_at or version.effective_from
        for other in versions:
            other_start = other.activated_at or other.effective_from
            if (
                other.form_id == version.form_id
                and other.language == version.language
                and other.id != version.id
                and start is not None
                and other_start is not None
                and start < other_start <= at
            ):
                missing = (set(items) & codes_of[other.id]) - codes_of[version.id]
                if missing:
                    result.setdefault(version.id, set()).update(missing)
    return result
