"""Report pages: the consent report (ethics reviewers), programme reports (programme managers),
report jobs and ledger certificates."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from enrollment.models import Participant
from portal.korean import particle_format
from portal.models import User
from portal.roles import Role, deny, role_required, site_ids_for

from .audit_trail import audit_trail_find, audit_trail_open
from .certificates import certificate_check, certificate_find, certificate_issue
from .consent_report import ReportScope
from .forms import (
    AuditTrailForm,
    BiobankReportForm,
    ConsentReportForm,
    LedgerExportForm,
    RecruitmentReportForm,
)
from .jobs import report_job_download, report_job_request, report_jobs_visible
from .ledger_export import ledger_csv
from .models import LedgerCertificate, ReportJob

OVERSIGHT_ROLES = (Role.ETHICS_REVIEWER, Role.PROGRAMME_MANAGER, Role.ADMIN)


@role_required(*OVERSIGHT_ROLES)
@require_http_methods(["GET", "POST"])
def certificates(request: HttpRequest) -> HttpResponse:
    """Issue a certificate, or check one by its id or digest."""
    assert isinstance(request.user, User)
    if request.method == "POST":
        certificate = certificate_issue(by=request.user)
        messages.success(
            request,
            particle_format(
                _("Certificate %(id)s issued. Keep its digest: %(digest)s"),
                {"id": certificate.pk, "digest": certificate.digest},
            ),
        )
        return redirect("reports:certificates")
    context: dict[str, object] = {"recent": LedgerCertificate.objects.defer("heads")[:10]}
    reference = (request.GET.get("certificate") or "").strip()[:80]
    if reference:
        context["reference"] = reference
        found = certificate_find(reference=reference)
        if found is None:
            context["not_found"] = True
        else:
            check = certificate_check(certificate=found, by=request.user)
            allowed = site_ids_for(request.user)
            codes = [d.participant_code for d in check.differences]
            if allowed is not None:
                visible = set(
                    Participant.objects.filter(code__in=codes, site_id__in=allowed).values_list(
                        "code", flat=True
                    )
                )
            else:
                visible = set(codes)
            context["check"] = check
            context["shown"] = [d for d in check.differences if d.participant_code in visible]
            context["hidden"] = len(check.differences) - len(context["shown"])  # type: ignore[arg-type]
    return render(request, "reports/certificates.html", context)


@role_required(Role.ETHICS_REVIEWER, Role.ADMIN)
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponseBase:
    """The consent report: choose period, sites and form, give a reason, download."""
    assert isinstance(request.user, User)
    allowed = site_ids_for(request.user)
    form = ConsentReportForm(request.POST or None, site_ids=allowed)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        scope = ReportScope(
            form_id=data["form"].pk,
            first_day=data["first_day"],
            last_day=data["last_day"],
            site_ids=_chosen_sites(allowed, frozenset(s.pk for s in data["sites"])),
        )
        job = report_job_request(
            by=request.user,
            kind=ReportJob.Kind.CONSENT_CSV if data["fmt"] == "csv" else ReportJob.Kind.CONSENT_PDF,
            scope=scope,
            reason=data["reason"],
            language=translation.get_language() or "ko",
        )
        return redirect("reports:job", token=job.token)
    ledger_form = LedgerExportForm(site_ids=allowed, prefix="ledger")
    jobs = report_jobs_visible(request.user)[:10]
    return render(
        request,
        "reports/index.html",
        {"form": form, "ledger_form": ledger_form, "jobs": jobs},
    )


def _chosen_sites(allowed: frozenset[int] | None, chosen: frozenset[int]) -> frozenset[int] | None:
    """The sites asked for, or all the user may see when none were chosen."""
    return chosen or allowed


@role_required(Role.ETHICS_REVIEWER, Role.ADMIN)
@require_http_methods(["POST"])
def ledger_export(request: HttpRequest) -> HttpResponseBase:
    """Every consent event of the chosen sites as CSV, streamed; audited with its reason."""
    assert isinstance(request.user, User)
    allowed = site_ids_for(request.user)
    form = ConsentReportForm(site_ids=allowed)
    ledger_form = LedgerExportForm(request.POST, site_ids=allowed, prefix="ledger")
    if not ledger_form.is_valid():
        return render(
            request, "reports/index.html", {"form": form, "ledger_form": ledger_form}, status=400
        )
    sites = _chosen_sites(allowed, frozenset(s.pk for s in ledger_form.cleaned_data["sites"]))
    chunks = ledger_csv(by=request.user, site_ids=sites, reason=ledger_form.cleaned_data["reason"])
    response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
    day = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="consent-ledger-{day}.csv"'
    response["Cache-Control"] = "no-store"
    return response


def _job_or_404(request: HttpRequest, token: str) -> ReportJob:
    assert isinstance(request.user, User)
    job: ReportJob | None = report_jobs_visible(request.user).filter(token=token).first()
    if job is None:
        raise deny(request.user, object_type="reports.reportjob", object_id=token[:8])
    return job


JOB_ROLES = (Role.ETHICS_REVIEWER, Role.PROGRAMME_MANAGER, Role.ADMIN)


@role_required(*JOB_ROLES)
def job(request: HttpRequest, token: str) -> HttpResponse:
    """A report being generated: a progress bar that refreshes itself until the file is ready."""
    return render(request, "reports/job.html", {"job": _job_or_404(request, token)})


@role_required(*JOB_ROLES)
def job_download(request: HttpRequest, token: str) -> HttpResponse:
    assert isinstance(request.user, User)
    found = _job_or_404(request, token)
    try:
        name, data = report_job_download(job=found, by=request.user)
    except FileNotFoundError:
        messages.error(request, _("This report is no longer available. Ask for it again."))
        return redirect("reports:programme" if found.is_programme else "reports:index")
    content_type = "application/pdf" if name.endswith(".pdf") else "text/csv; charset=utf-8"
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@role_required(Role.ETHICS_REVIEWER, Role.ADMIN)
@require_http_methods(["GET", "POST"])
def audit_trail(request: HttpRequest) -> HttpResponse:
    """A participant's consent history and every staff access, after a stated reason."""
    assert isinstance(request.user, User)
    form = AuditTrailForm(request.POST or None)
    trail = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            participant = audit_trail_find(
                by=request.user, find_by=data["find_by"], value=data["code"]
            )
        except ValidationError as exc:
            form.add_error("code", exc)
        else:
            trail = audit_trail_open(
                participant=participant,
                by=request.user,
                reason=data["reason"],
                found_by=data["find_by"],
            )
    return render(request, "reports/audit_trail.html", {"form": form, "trail": trail})


@role_required(Role.PROGRAMME_MANAGER, Role.ADMIN)
@require_http_methods(["GET", "POST"])
def programme(request: HttpRequest) -> HttpResponseBase:
    """Recruitment per phase and the biobank's yearly figures, as PDF or CSV."""
    assert isinstance(request.user, User)
    which = request.POST.get("report", "")
    data = request.POST if request.method == "POST" else None
    recruitment = RecruitmentReportForm(data if which == "recruitment" else None, prefix="r")
    biobank = BiobankReportForm(
        data if which == "biobank" else None,
        prefix="b",
        initial={"year": timezone.localdate().year - 1},
    )
    language = translation.get_language() or "ko"
    if which == "recruitment" and recruitment.is_valid():
        r = recruitment.cleaned_data
        report = report_job_request(
            by=request.user,
            kind=ReportJob.Kind.RECRUITMENT_PDF
            if r["fmt"] == "pdf"
            else ReportJob.Kind.RECRUITMENT_CSV,
            phase_id=r["phase"].pk,
            reason=r["reason"],
            language=language,
        )
        return redirect("reports:job", token=report.token)
    if which == "biobank" and biobank.is_valid():
        b = biobank.cleaned_data
        report = report_job_request(
            by=request.user,
            kind=ReportJob.Kind.BIOBANK_PDF if b["fmt"] == "pdf" else ReportJob.Kind.BIOBANK_CSV,
            year=b["year"],
            reason=b["reason"],
            language=language,
        )
        return redirect("reports:job", token=report.token)
    jobs = report_jobs_visible(request.user)[:10]
    context = {"recruitment": recruitment, "biobank": biobank, "jobs": jobs}
    return render(request, "reports/programme.html", context)
