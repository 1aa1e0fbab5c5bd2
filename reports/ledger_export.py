"""The consent ledger as CSV, for ethics boards: every event of their sites, streamed.

Read in pages by event id (``portal.csv_stream.queryset_pages``), so memory stays flat however
many events there are. No personal data: participants appear by their code, and the digests of
signers' names and signatures stay in the database.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from django.utils.translation import gettext as _

from consent.models import ConsentEvent
from portal.audit import Action, audit_record
from portal.csv_stream import queryset_pages
from portal.models import User

__all__ = ["LEDGER_FIELDS", "ledger_csv"]

LEDGER_FIELDS = (
    "id",
    "participant__code",
    "sequence",
    "kind",
    "version__label",
    "version__language",
    "signed_at",
    "recorded_at",
    "signer_kind",
    "channel",
    "method",
    "withdrawal_level",
    "samples_fate",
    "voids_id",
    "hash",
)


def ledger_csv(
    *, by: User, site_ids: frozenset[int] | None, reason: str, page_size: int = 5_000
) -> tuple[Sequence[str], Iterator[Sequence[object]]]:
    """Header and rows of every consent event at ``site_ids`` (all when ``None``); audited."""
    if not reason.strip():
        raise ValueError("a reason is required")
    events = ConsentEvent.objects.all()
    if site_ids is not None:
        events = events.filter(participant__site_id__in=site_ids)
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
        _("hash"),
    ]
    return header, queryset_pages(events, LEDGER_FIELDS, page_size=page_size)
