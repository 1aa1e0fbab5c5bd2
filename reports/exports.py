"""Exports of reports: each one audited with its reason, each consent report with a certificate."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit import Action, audit_record
from portal.models import User
from portal.pdf import render_pdf

from .certificates import certificate_issue
from .consent_report import ReportScope, consent_report, consent_report_rows, printable
from .models import LedgerCertificate
from .programme import (
    biobank_figures,
    biobank_rows,
    recruitment_charts,
    recruitment_figures,
    recruitment_rows,
)

__all__ = ["consent_report_csv", "consent_report_pdf"]


def _author(by: User | None) -> str:
    return str(by) if by is not None else _("the portal (monthly schedule)")


def _audit(*, by: User | None, scope: ReportScope, reason: str, fmt: str, certificate: int) -> None:
    audit_record(
        action=Action.EXPORTED,
        actor=by,
        object_type="report.consent",
        object_id=str(scope.form_id),
        reason=reason,
        details={
            "format": fmt,
            "first_day": scope.first_day.isoformat(),
            "last_day": scope.last_day.isoformat(),
            "sites": sorted(scope.site_ids) if scope.site_ids is not None else "all",
            "certificate": certificate,
        },
    )


def consent_report_pdf(
    *,
    by: User | None,
    scope: ReportScope,
    reason: str,
    language: str = "ko",
    progress: Callable[[int], None] | None = None,
) -> bytes:
    """The consent report as PDF, with a ledger certificate issued now.

    ``by`` is ``None`` for scheduled reports; ``progress`` is told how far it is (percent)."""
    if not reason.strip():
        raise ValueError("a reason is required")
    tell = progress or (lambda percent: None)
    certificate = certificate_issue(by=by, purpose=LedgerCertificate.Purpose.REPORT)
    tell(40)
    report = consent_report(scope=scope)
    tell(60)
    generated_at = timezone.localtime()
    pdf = render_pdf(
        "reports/pdf/consent_report.html",
        {
            "report": report,
            "certificate": certificate,
            "reason": reason,
            "generated_by": _author(by),
            # The offset is printed, so the time is unambiguous wherever the file is read.
            "generated_at_text": generated_at.isoformat(timespec="seconds"),
            "language": language,
        },
        language=language,
    )
    _audit(by=by, scope=scope, reason=reason, fmt="pdf", certificate=certificate.pk)
    return pdf


def consent_report_csv(
    *, by: User | None, scope: ReportScope, reason: str
) -> tuple[Sequence[str], Iterator[Sequence[object]]]:
    """The consent report as CSV (header and rows), with a ledger certificate issued now."""
    if not reason.strip():
        raise ValueError("a reason is required")
    certificate = certificate_issue(by=by, purpose=LedgerCertificate.Purpose.REPORT)
    report = consent_report(scope=scope)
    _audit(by=by, scope=scope, reason=reason, fmt="csv", certificate=certificate.pk)

    def rows() -> Iterator[Sequence[object]]:
        yield from consent_report_rows(report)
        yield (
            _("ledger certificate"),
            str(certificate.pk),
            str(certificate.events),
            certificate.digest,
        )
        yield (
            _("generated"),
            timezone.localtime().isoformat(timespec="seconds"),
            _author(by),
            reason,
        )

    header = [_("section"), _("what"), _("detail"), _("value")]
    return header, rows()


def _print(template: str, context: dict[str, object], by: User | None) -> bytes:
    return render_pdf(
        template,
        {
            **context,
            "generated_by": _author(by),
            "generated_at_text": timezone.localtime().isoformat(timespec="seconds"),
        },
    )


def recruitment_export(
    *, by: User | None, phase_id: int, reason: str, fmt: str
) -> tuple[Sequence[str], Iterator[Sequence[object]], bytes | None]:
    """The recruitment report of a phase: CSV (header, rows) or PDF bytes; audited."""
    if not reason.strip():
        raise ValueError("a reason is required")
    figures, table_list = recruitment_figures(phase_id=phase_id)
    audit_record(
        action=Action.EXPORTED,
        actor=by,
        object_type="report.recruitment",
        object_id=str(phase_id),
        reason=reason,
        details={"format": fmt},
    )
    if fmt == "pdf":
        pdf = _print(
            "reports/pdf/recruitment.html",
            {
                "figures": figures,
                "tables": table_list,
                "charts": {k: printable(v) for k, v in recruitment_charts(figures).items()},
                "reason": reason,
            },
            by,
        )
        return [], iter(()), pdf
    return [_("table")], recruitment_rows(table_list), None


def biobank_export(
    *, by: User | None, year: int, reason: str, fmt: str
) -> tuple[Sequence[str], Iterator[Sequence[object]], bytes | None]:
    """The biobank's figures of a year: CSV (header, rows) or PDF bytes; audited."""
    if not reason.strip():
        raise ValueError("a reason is required")
    figures = biobank_figures(year=year)
    audit_record(
        action=Action.EXPORTED,
        actor=by,
        object_type="report.biobank",
        object_id=str(year),
        reason=reason,
        details={"format": fmt},
    )
    if fmt == "pdf":
        pdf = _print("reports/pdf/biobank.html", {"figures": figures, "reason": reason}, by)
        return [], iter(()), pdf
    header = [_("section"), _("month"), _("what"), _("samples and data"), _("count")]
    return header, biobank_rows(figures), None
