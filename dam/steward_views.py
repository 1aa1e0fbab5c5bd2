"""Data steward pages of custody: re-identification requests, manifests with the dam's
acknowledgements, and reconciliation."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.roles import Role, role_required
from portal.web import current_user

from .custody_forms import DecisionForm, ReidentificationForm
from .custody_views import form_errors
from .models import Manifest, ManifestLine, ReconciliationRun, ReidentificationRequest
from .services import (
    reidentification_decide,
    reidentification_request,
    reidentification_reveal,
)
from .services.reconciliation import reconciliation_manifest_check
from .transports import TransportError

# --- re-identification --------------------------------------------------------------------------


@role_required(Role.DATA_STEWARD)
def reidentifications(request: HttpRequest) -> HttpResponse:
    """Ask for a re-identification; decide others' requests; reveal one's own approved ones.

    The list shows pseudonyms, reasons and states, never who a pseudonym belongs to."""
    user = current_user(request)
    form = ReidentificationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reidentification_request(by=user, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            form_errors(form, exc)
        else:
            messages.success(
                request, _("Your request was recorded. A second data steward must approve it.")
            )
            return redirect("dam:reidentifications")
    requests = ReidentificationRequest.objects.select_related("requested_by", "decided_by")
    page = Paginator(requests.order_by("-requested_at", "-id"), 30).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "dam/steward/reidentifications.html",
        {"form": form, "requests": page, "decision_form": DecisionForm()},
    )


@require_POST
@role_required(Role.DATA_STEWARD)
def reidentification_decision(request: HttpRequest, request_id: int) -> HttpResponse:
    user = current_user(request)
    reid = get_object_or_404(ReidentificationRequest, pk=request_id)
    form = DecisionForm(request.POST)
    form.is_valid()
    approve = request.POST.get("decision") == "approve"
    try:
        reidentification_decide(
            request=reid, approve=approve, by=user, note=form.cleaned_data.get("note", "")
        )
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(
            request,
            _("Request approved; the requester can now see the answer once.")
            if approve
            else _("Request refused."),
        )
    return redirect("dam:reidentifications")


@require_POST
@role_required(Role.DATA_STEWARD)
def reidentification_reveal_view(request: HttpRequest, request_id: int) -> HttpResponse:
    """The one response that shows the identity; it is not stored, and a reload cannot repeat it."""
    user = current_user(request)
    reid = get_object_or_404(ReidentificationRequest, pk=request_id)
    try:
        participant = reidentification_reveal(request=reid, by=user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("dam:reidentifications")
    response = render(
        request,
        "dam/steward/reidentification_revealed.html",
        {"reid": reid, "participant": participant},
    )
    response["Cache-Control"] = "no-store"
    return response


# --- manifests and the dam's acknowledgements ---------------------------------------------------


@role_required(Role.DATA_STEWARD, Role.ADMIN)
def steward_manifests(request: HttpRequest) -> HttpResponse:
    """Submitted manifests of every site, with what the dam reports received and missing."""
    manifests = (
        Manifest.objects.filter(state=Manifest.State.SUBMITTED)
        .select_related("site", "outbox_message")
        .annotate(
            sent=Count("lines", filter=Q(lines__state=ManifestLine.State.SENT)),
            held=Count("lines", filter=Q(lines__state=ManifestLine.State.HELD_BACK)),
            received=Count(
                "lines",
                filter=Q(
                    lines__state=ManifestLine.State.SENT,
                    lines__dam_status=ManifestLine.DamStatus.RECEIVED,
                ),
            ),
            missing=Count(
                "lines",
                filter=Q(
                    lines__state=ManifestLine.State.SENT,
                    lines__dam_status=ManifestLine.DamStatus.MISSING,
                ),
            ),
        )
        .order_by("-shipped_at", "-id")
    )
    page = Paginator(manifests, 50).get_page(request.GET.get("page"))
    return render(request, "dam/steward/manifests.html", {"manifests": page})


@role_required(Role.DATA_STEWARD, Role.ADMIN)
def steward_manifest(request: HttpRequest, code: str) -> HttpResponse:
    manifest = get_object_or_404(
        Manifest.objects.select_related("site", "outbox_message", "submitted_by"), code=code
    )
    lines = manifest.lines.select_related("sample").order_by("id")
    return render(
        request,
        "dam/steward/manifest.html",
        {
            "manifest": manifest,
            "lines": lines,
            "can_check": manifest.state == Manifest.State.SUBMITTED,
        },
    )


@require_POST
@role_required(Role.DATA_STEWARD, Role.ADMIN)
def steward_manifest_check(request: HttpRequest, code: str) -> HttpResponse:
    """Ask the dam about this manifest now, rather than waiting for the daily reconciliation."""
    manifest = get_object_or_404(Manifest, code=code)
    try:
        check = reconciliation_manifest_check(manifest=manifest, by=current_user(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except TransportError:
        messages.error(
            request, _("The dam could not be asked just now. Nothing was changed; try again later.")
        )
    else:
        if not check.known:
            messages.warning(request, _("The dam does not know this manifest yet."))
        else:
            messages.success(
                request,
                _(
                    "The dam reports %(received)d tube(s) received, %(missing)d missing and "
                    "%(not_listed)d not listed."
                )
                % {
                    "received": check.received,
                    "missing": check.missing,
                    "not_listed": check.not_listed,
                },
            )
    return redirect("dam:steward_manifest", code=manifest.code)


# --- reconciliation -----------------------------------------------------------------------------


@role_required(Role.DATA_STEWARD, Role.ADMIN)
def reconciliation(request: HttpRequest) -> HttpResponse:
    """The latest reconciliation runs, and the differences the latest finished one found."""
    runs = list(ReconciliationRun.objects.order_by("-started_at", "-id")[:10])
    latest = next((run for run in runs if run.finished_at is not None), None)
    findings = (
        Paginator(latest.findings.select_related("manifest").order_by("kind", "id"), 100).get_page(
            request.GET.get("page")
        )
        if latest is not None
        else None
    )
    return render(
        request,
        "dam/steward/reconciliation.html",
        {"runs": runs, "latest": latest, "findings": findings},
    )
