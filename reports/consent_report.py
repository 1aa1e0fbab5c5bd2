"""The consent report for ethics boards: one period, some sites (or all), one consent form.

Every figure is counted in PostgreSQL with grouped queries (a handful per section, whatever the
number of participants); nothing is read row by row into Python.

"In the period" means *signed* in the period (``signed_at``, in Korean time, from the first day to
the last day inclusive): paper consents recorded late count when they were signed. A participant
belongs to the sites they belong to now.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Count, F, Q, QuerySet
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from consent.models import (
    Channel,
    ConsentEvent,
    ConsentForm,
    ConsentQualityCheck,
    ConsentVersion,
    EventKind,
    OwnConsentRequest,
    ReconsentCampaign,
    RepresentativeRelation,
    SamplesFate,
    SignerKind,
    WithdrawalLevel,
    WithdrawalReason,
)
from consent.selectors.campaigns import campaign_progress
from enrollment.models import Site
from enrollment.views import charts

from .samples import fates_of_withdrawals

__all__ = ["ConsentReport", "ReportScope", "consent_report", "consent_report_rows"]

SEOUL = ZoneInfo("Asia/Seoul")
SIGNINGS = (EventKind.GRANT, EventKind.RECONSENT)
ANSWERS = (EventKind.GRANT, EventKind.UPDATE, EventKind.RECONSENT)


@dataclass(frozen=True)
class ReportScope:
    form_id: int
    first_day: dt.date
    last_day: dt.date
    site_ids: frozenset[int] | None  # None: every site

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.first_day, dt.time.min, tzinfo=SEOUL)

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.combine(self.last_day + dt.timedelta(days=1), dt.time.min, tzinfo=SEOUL)


@dataclass
class ItemFigures:
    code: str
    yes: int = 0
    no: int = 0
    by_month: dict[str, tuple[int, int]] = field(default_factory=dict)  # month -> (yes, no)


@dataclass
class ConsentReport:
    scope: ReportScope
    form: ConsentForm
    sites: list[Site]
    by_version: list[tuple[str, str, int]]  # label, language, participants
    items: list[ItemFigures]
    months: list[str]
    withdrawals: list[tuple[str, str, int]]  # level label, samples fate label, events
    sample_fates: list[tuple[str, str, int]]  # level label, recorded fate label, tubes
    signer: dict[str, int]  # guardian, witnessed, impartial_witness, in_person, web, signings
    # Codes only, by their labels: the typed text of events recorded before the codes is personal
    # data and stays out of reports (counted as "not coded").
    relations: list[tuple[str, int]]  # representative's relationship label, signings
    withdrawal_requests: list[tuple[str, int]]  # how a staff-recorded withdrawal was asked for
    quality: tuple[int, int]  # checks, failures
    quality_failures: list[tuple[str, int]]  # which check failed, how often
    campaigns: list[tuple[str, str, int, int, float]]  # campaign, site, invited, done, percent
    coming_of_age: tuple[int, int]  # due, done
    versions: list[ConsentVersion]
    charts: dict[str, str] = field(default_factory=dict)


def _events(scope: ReportScope) -> QuerySet[ConsentEvent]:
    events = ConsentEvent.objects.filter(signed_at__gte=scope.start, signed_at__lt=scope.end)
    if scope.site_ids is not None:
        events = events.filter(participant__site_id__in=scope.site_ids)
    return events


def _form_events(scope: ReportScope) -> QuerySet[ConsentEvent]:
    return _events(scope).filter(version__form_id=scope.form_id)


def _item_figures(scope: ReportScope) -> tuple[list[ItemFigures], list[str]]:
    """Per item: yes and no answers given in the period, in total and per month (one query)."""
    where = ["e.signed_at >= %s", "e.signed_at < %s", "e.kind = ANY(%s)"]
    params: list[Any] = [scope.start, scope.end, [str(k) for k in ANSWERS]]
    versions = list(
        ConsentVersion.objects.filter(form_id=scope.form_id).values_list("pk", flat=True)
    )
    where.append("e.version_id = ANY(%s)")
    params.append(versions)
    join = ""
    if scope.site_ids is not None:
        join = "JOIN enrollment_participant p ON p.id = e.participant_id"
        where.append("p.site_id = ANY(%s)")
        params.append(sorted(scope.site_ids))
    # Events are first counted per month and set of choices (a few hundred distinct sets at
    # most), and only those sets are opened item by item: far cheaper than opening every event.
    sql = f"""
        WITH answered AS (
            SELECT date_trunc('month', e.signed_at AT TIME ZONE 'Asia/Seoul') AS month,
                   e.choices, count(*) AS n
            FROM consent_consentevent e {join}
            WHERE {" AND ".join(where)}
            GROUP BY 1, 2
        )
        SELECT to_char(a.month, 'YYYY-MM'), c.key,
               COALESCE(sum(a.n) FILTER (WHERE c.value = 'true'::jsonb), 0)::bigint,
               COALESCE(sum(a.n) FILTER (WHERE c.value = 'false'::jsonb), 0)::bigint
        FROM answered a CROSS JOIN LATERAL jsonb_each(a.choices) AS c
        GROUP BY 1, 2 ORDER BY 1, 2
    """  # noqa: S608  (conditions are constants; values are parameters)
    items: dict[str, ItemFigures] = {}
    months: set[str] = set()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for month, code, yes, no in cursor.fetchall():
            figures = items.setdefault(code, ItemFigures(code))
            figures.yes += yes
            figures.no += no
            figures.by_month[month] = (yes, no)
            months.add(month)
    return [items[c] for c in sorted(items)], sorted(months)


def _label(choices: type, value: str) -> str:
    return str(dict(choices.choices).get(value, value or "—"))  # type: ignore[attr-defined]


def consent_report(*, scope: ReportScope) -> ConsentReport:
    form = ConsentForm.objects.get(pk=scope.form_id)
    sites = list(Site.objects.order_by("code"))
    if scope.site_ids is not None:
        sites = [s for s in sites if s.pk in scope.site_ids]
    form_events = _form_events(scope)

    by_version = [
        (r["version__label"], r["version__language"], r["n"])
        for r in form_events.filter(kind__in=SIGNINGS)
        .values("version__label", "version__language")
        .annotate(n=Count("participant_id", distinct=True))
        .order_by("version__label", "version__language")
    ]
    items, months = _item_figures(scope)

    # Withdrawals carry no version: every withdrawal of the sites in the period counts.
    withdrawals = [
        (
            _label(WithdrawalLevel, r["withdrawal_level"]),
            _label(SamplesFate, r["samples_fate"]),
            r["n"],
        )
        for r in _events(scope)
        .filter(kind=EventKind.WITHDRAW)
        .values("withdrawal_level", "samples_fate")
        .annotate(n=Count("pk"))
        .order_by("withdrawal_level", "samples_fate")
    ]
    signer = form_events.filter(kind__in=SIGNINGS).aggregate(
        signings=Count("pk"),
        guardian=Count("pk", filter=Q(signer_kind=SignerKind.LEGAL_REPRESENTATIVE)),
        witnessed=Count("pk", filter=Q(countersigned_by__isnull=False)),
        impartial_witness=Count("pk", filter=~Q(witness_name_sha256="")),
        in_person=Count("pk", filter=Q(channel__in=[Channel.SITE_TABLET, Channel.SCANNED_PAPER])),
        web=Count("pk", filter=Q(channel=Channel.WEB)),
    )

    not_coded = _("not coded (recorded before the list)")
    relations = [
        (
            _label(RepresentativeRelation, r["representative_relation"])
            if r["representative_relation"]
            else not_coded,
            r["n"],
        )
        for r in form_events.filter(kind__in=SIGNINGS, signer_kind=SignerKind.LEGAL_REPRESENTATIVE)
        .values("representative_relation")
        .annotate(n=Count("pk"))
        .order_by("representative_relation")
    ]
    withdrawal_requests = [
        (
            _label(WithdrawalReason, r["withdrawal_reason"])
            if r["withdrawal_reason"]
            else not_coded,
            r["n"],
        )
        for r in _events(scope)
        .filter(kind=EventKind.WITHDRAW, staff__isnull=False)
        .values("withdrawal_reason")
        .annotate(n=Count("pk"))
        .order_by("withdrawal_reason")
    ]

    checks = ConsentQualityCheck.objects.filter(event__in=form_events)
    quality_totals = checks.aggregate(n=Count("pk"), failed=Count("pk", filter=Q(passed=False)))
    failed = checks.filter(passed=False).aggregate(
        signature=Count("pk", filter=Q(signature_present=False)),
        date=Count("pk", filter=Q(date_present=False)),
        name=Count("pk", filter=Q(printed_name_present=False)),
        version=Count("pk", filter=Q(right_version=False)),
    )
    failure_labels = {
        "signature": _("signature missing"),
        "date": _("date of signing missing or implausible"),
        "name": _("printed name missing"),
        "version": _("wrong version for language or age"),
    }
    quality_failures = [(str(failure_labels[k]), v) for k, v in failed.items() if v]

    campaigns = _campaigns(scope)
    coming_of_age = _coming_of_age(scope)
    versions = list(
        ConsentVersion.objects.filter(form_id=scope.form_id, activated_at__isnull=False)
        .filter(Q(activated_at__lt=scope.end))
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=scope.start))
        .order_by("activated_at", "label", "language")
    )
    report = ConsentReport(
        scope=scope,
        form=form,
        sites=sites,
        by_version=by_version,
        items=items,
        months=months,
        withdrawals=withdrawals,
        sample_fates=fates_of_withdrawals(_events(scope)),
        signer={k: v or 0 for k, v in signer.items()},
        relations=relations,
        withdrawal_requests=withdrawal_requests,
        quality=(quality_totals["n"], quality_totals["failed"]),
        quality_failures=quality_failures,
        campaigns=campaigns,
        coming_of_age=coming_of_age,
        versions=versions,
    )
    report.charts = _charts(report)
    return report


def _campaigns(scope: ReportScope) -> list[tuple[str, str, int, int, float]]:
    """Re-consent campaigns running in the period: invited and completed per site (the
    campaigns' own progress reads, ``consent.campaign_selectors``)."""
    campaigns = ReconsentCampaign.objects.filter(version__form_id=scope.form_id).filter(
        Q(started_at__lt=scope.end) & (Q(closed_at__isnull=True) | Q(closed_at__gte=scope.start))
    )
    rows: list[tuple[str, str, int, int, float]] = []
    for campaign in campaigns.order_by("started_at", "pk"):
        progress = campaign_progress(campaign, site_ids=scope.site_ids)
        for site in progress.per_site:
            rows.append(
                (
                    campaign.name,
                    site.site_code or "—",
                    site.invited,
                    site.completed,
                    site.completion_percent,
                )
            )
    return rows


def _coming_of_age(scope: ReportScope) -> tuple[int, int]:
    """Minors who came of age in the period, and how many of them have signed for themselves."""
    due = OwnConsentRequest.objects.filter(
        came_of_age_on__gte=scope.first_day, came_of_age_on__lte=scope.last_day
    )
    if scope.site_ids is not None:
        due = due.filter(participant__site_id__in=scope.site_ids)
    done = due.filter(
        participant__consent_events__kind__in=SIGNINGS,
        participant__consent_events__signer_kind=SignerKind.SELF,
        participant__consent_events__signed_at__date__gte=F("came_of_age_on"),
    ).distinct()
    return due.count(), done.count()


# The dashboards' SVG charts style themselves through the page's stylesheet (the CSP forbids
# inline styles there). WeasyPrint applies only styles inside an SVG to it, and a PDF has no CSP,
# so printed charts get this sheet inside them.
CHART_STYLE = (
    "<style>"
    "text{font-family:NanumGothic,sans-serif;font-size:11px;fill:#222}"
    ".bar,.series-0{fill:#2b6cb0}.bar-target{fill:#d8e3f0}.target-line{stroke:#333;stroke-width:1}"
    ".series-1{fill:#c05621}.series-2{fill:#2f855a}.series-3{fill:#6b46c1}"
    ".series-4{fill:#b7791f}.series-5{fill:#4a5568}.axis,.grid{stroke:#999;stroke-width:0.5}"
    "</style>"
)


def printable(svg: str) -> str:
    """A dashboard chart ready for print: its style inside it."""
    head, sep, rest = svg.partition(">")
    return mark_safe(head + sep + CHART_STYLE + rest)  # noqa: S308 - constant style, escaped chart


def _charts(report: ConsentReport) -> dict[str, str]:
    result: dict[str, str] = {}
    if report.items and report.months:
        result["items_over_time"] = charts.grouped_columns(
            title=_("Yes answers per item and month"),
            desc=_("Grouped columns: for each month, how many answers said yes to each item."),
            groups=report.months,
            series=[
                (
                    item.code,
                    f"series-{i % 6}",
                    [item.by_month.get(m, (0, 0))[0] for m in report.months],
                )
                for i, item in enumerate(report.items)
            ],
        )
        result["items_total"] = charts.horizontal_bars(
            title=_("Yes answers per item in the period"),
            desc=_("Horizontal bars: yes answers per item, drawn over all answers to the item."),
            bars=[charts.Bar(item.code, item.yes, item.yes + item.no) for item in report.items],
        )
    if report.withdrawals:
        result["withdrawals"] = charts.horizontal_bars(
            title=_("Withdrawals by level"),
            desc=_("Horizontal bars: withdrawals in the period per level and fate of samples."),
            bars=[charts.Bar(f"{lvl} / {fate}", n) for lvl, fate, n in report.withdrawals],
        )
    return {name: printable(svg) for name, svg in result.items()}


def consent_report_rows(report: ConsentReport) -> Iterator[Sequence[object]]:
    """The report as CSV rows: section, what, detail, value (one figure per row)."""
    yield (_("period"), str(report.scope.first_day), str(report.scope.last_day), "")
    yield (_("form"), report.form.code, report.form.title, "")
    yield (_("sites"), ", ".join(s.code for s in report.sites) or "—", "", len(report.sites))
    for label, language, n in report.by_version:
        yield (_("participants by version"), label, language, n)
    for item in report.items:
        yield (_("answers per item"), item.code, _("yes"), item.yes)
        yield (_("answers per item"), item.code, _("no"), item.no)
        for month, (yes, no) in sorted(item.by_month.items()):
            yield (_("answers per item and month"), item.code, f"{month} {_('yes')}", yes)
            yield (_("answers per item and month"), item.code, f"{month} {_('no')}", no)
    for level, fate, n in report.withdrawals:
        yield (_("withdrawals"), level, fate, n)
    for level, fate, n in report.sample_fates:
        yield (_("samples of withdrawn participants"), level, fate, n)
    for key, n in report.signer.items():
        yield (_("signings"), key, "", n)
    for label, n in report.relations:
        yield (_("signings by a legal representative"), label, "", n)
    for label, n in report.withdrawal_requests:
        yield (_("withdrawals recorded by staff"), label, "", n)
    yield (_("quality checks"), _("checked"), "", report.quality[0])
    yield (_("quality checks"), _("failed"), "", report.quality[1])
    for what, n in report.quality_failures:
        yield (_("quality check failures"), what, "", n)
    for name, site, invited, done, pct in report.campaigns:
        yield (_("re-consent campaigns"), name, site, f"{done}/{invited} ({pct}%)")
    yield (_("coming of age"), _("due"), "", report.coming_of_age[0])
    yield (_("coming of age"), _("done"), "", report.coming_of_age[1])
    for v in report.versions:
        yield (
            _("versions in force"),
            f"{v.label} ({v.language})",
            f"{v.irb_approval_number} {v.irb_approved_on or ''}",
            v.text_sha256,
        )
