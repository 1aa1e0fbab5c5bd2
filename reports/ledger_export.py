"""The consent ledger as CSV, for ethics boards: every event of their sites, streamed.

Written by PostgreSQL (COPY) one range of participant ids at a time
(``portal.csv_stream.copy_csv_chunks``), so memory stays flat however many events there are, and
Python only passes the bytes on. No personal data: participants appear by their code, and the digests of
signers' names and signatures stay in the database.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db import models
from django.utils.translation import gettext as _

from consent.models import RepresentativeRelation, WithdrawalReason
from portal.audit import Action, audit_record
from portal.csv_stream import copy_csv_chunks, sql_csv_safe
from portal.models import User

__all__ = ["ledger_csv"]


def _label_sql(column: str, choices: type[models.TextChoices]) -> str:
    """The label of a code column in the current language, as an SQL ``CASE``. The labels are
    the portal's own catalogue (quotes doubled, ``%`` doubled for the driver); events recorded
    before the codes have none, and their typed text stays out of the export."""

    def literal(text: str) -> str:
        return "'" + text.replace("'", "''").replace("%", "%%") + "'"

    whens = " ".join(
        f"WHEN {literal(value)} THEN {literal(str(label))}" for value, label in choices.choices
    )
    return f"CASE {column} {whens} ELSE '' END"


def _select(site_filter: bool) -> str:
    # Kinds, channels and digests come from fixed lists or are hex; only the participant code and
    # the version label (typed by staff) could begin like a formula, so only they are neutralised.
    # Times are written by PostgreSQL as they are stored, in UTC with their offset.
    return (
        "SELECT e.id, "
        + sql_csv_safe("p.code")
        + ", e.sequence, e.kind, "
        + sql_csv_safe("v.label")
        + ", v.language, e.signed_at, e.recorded_at, e.signer_kind, e.channel, e.method, "
        "e.withdrawal_level, e.samples_fate, e.voids_id, "
        + _label_sql("e.representative_relation", RepresentativeRelation)
        + ", "
        + _label_sql("e.withdrawal_reason", WithdrawalReason)
        + ", e.witness_name_sha256 <> '', e.hash "
        "FROM consent_consentevent e "
        "JOIN enrollment_participant p ON p.id = e.participant_id "
        "LEFT JOIN consent_consentversion v ON v.id = e.version_id "
        "WHERE "
        + ("p.site_id = ANY(%s) AND " if site_filter else "")
        + "{page} ORDER BY e.participant_id, e.sequence"
    )


def ledger_csv(
    *, by: User, site_ids: frozenset[int] | None, reason: str, page_ids: int = 100_000
) -> Iterator[bytes]:
    """Every consent event at ``site_ids`` (all when ``None``) as CSV chunks, chain by chain
    (participant, then entry), read a range of participant ids at a time; audited."""
    if not reason.strip():
        raise ValueError("a reason is required")
    audit_record(
        action=Action.EXPORTED,
        actor=by,
        object_type="report.consent_ledger",
        reason=reason,
        details={
            "format": "csv",
            "sites": sorted(site_ids) if site_ids is not None else "all",
        },
    )
    header = [
        _("event"),
        _("participant"),
        _("entry"),
        _("kind"),
        _("version"),
        _("language"),
        _("signed at"),
        _("recorded at"),
        _("signed by"),
        _("channel"),
        _("method"),
        _("withdrawal level"),
        _("samples and data"),
        _("voids event"),
        _("relationship of the legal representative"),
        _("how the withdrawal was asked for"),
        _("impartial witness"),
        _("hash"),
    ]
    params: list[object] = [sorted(site_ids)] if site_ids is not None else []
    return copy_csv_chunks(
        header=header,
        select=_select(site_ids is not None),
        params=params,
        id_columns=["e.participant_id", "p.id"],
        table="enrollment_participant",
        page_ids=page_ids,
    )
