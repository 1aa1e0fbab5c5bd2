"""Sample figures read from the dam's custody records, shared by the biobank figures and the
consent report.

A tube is *shipped* when its manifest line was sent (``ManifestLine.State.SENT``; held-back lines
never left) and counts in the month its manifest was shipped. A tube's *fate* after withdrawal is
its latest recorded ``SampleFate`` (the records are append-only; a correction is a later row), and
counts in the month it was done. Every figure is one grouped query.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext as _

from consent.models import ConsentEvent, EventKind, WithdrawalLevel
from dam.models import ManifestLine, Sample, SampleFate, SampleType

__all__ = ["current_fates", "fates_by_month", "fates_of_withdrawals", "shipped_by_month"]

SEOUL = ZoneInfo("Asia/Seoul")


def _type_label(value: str) -> str:
    return str(dict(SampleType.choices).get(value, value))


def _fate_label(value: str | None) -> str:
    if not value:
        return _("no fate recorded yet")
    return str(dict(SampleFate.Fate.choices).get(value, value))


def current_fates() -> QuerySet[SampleFate]:
    """Each tube's latest fate record (no later record, by recording time then id)."""
    later = SampleFate.objects.filter(sample_id=OuterRef("sample_id")).filter(
        Q(recorded_at__gt=OuterRef("recorded_at"))
        | Q(recorded_at=OuterRef("recorded_at"), id__gt=OuterRef("id"))
    )
    return SampleFate.objects.filter(~Exists(later))


def shipped_by_month(*, start: dt.datetime, end: dt.datetime) -> list[tuple[str, str, int]]:
    """(month, sample type, tubes sent) for manifests shipped in [start, end)."""
    rows = (
        ManifestLine.objects.filter(
            state=ManifestLine.State.SENT,
            manifest__shipped_at__gte=start,
            manifest__shipped_at__lt=end,
        )
        .annotate(month=TruncMonth("manifest__shipped_at", tzinfo=SEOUL))
        .values("month", "sample__sample_type")
        .annotate(n=Count("pk"))
        .order_by("month", "sample__sample_type")
    )
    return [
        (r["month"].strftime("%Y-%m"), _type_label(r["sample__sample_type"]), r["n"]) for r in rows
    ]


def fates_by_month(*, start: dt.datetime, end: dt.datetime) -> list[tuple[str, str, str, int]]:
    """(month, sample type, fate, tubes) for the current fates done in [start, end)."""
    rows = (
        current_fates()
        .filter(done_at__gte=start, done_at__lt=end)
        .annotate(month=TruncMonth("done_at", tzinfo=SEOUL))
        .values("month", "sample__sample_type", "fate")
        .annotate(n=Count("pk"))
        .order_by("month", "sample__sample_type", "fate")
    )
    return [
        (
            r["month"].strftime("%Y-%m"),
            _type_label(r["sample__sample_type"]),
            _fate_label(r["fate"]),
            r["n"],
        )
        for r in rows
    ]


def fates_of_withdrawals(
    withdrawals: QuerySet[ConsentEvent],
) -> list[tuple[str, str, int]]:
    """What happened to the tubes of the participants who withdrew in ``withdrawals`` (consent
    events, already limited to a period and sites): (level of their last withdrawal among them,
    recorded fate or none yet, tubes)."""
    last_level = (
        withdrawals.filter(kind=EventKind.WITHDRAW, participant_id=OuterRef("participant_id"))
        .order_by("-sequence")
        .values("withdrawal_level")[:1]
    )
    fate = current_fates().filter(sample_id=OuterRef("pk")).values("fate")[:1]
    withdrawn = withdrawals.filter(kind=EventKind.WITHDRAW).values("participant_id")
    rows = (
        Sample.objects.filter(participant_id__in=withdrawn)
        .annotate(level=Subquery(last_level), fate=Subquery(fate))
        .values("level", "fate")
        .annotate(n=Count("pk"))
        .order_by("level", "fate")
    )
    levels = dict(WithdrawalLevel.choices)
    return [(str(levels.get(r["level"], r["level"])), _fate_label(r["fate"]), r["n"]) for r in rows]
