"""Staff pages for putting a version into force and running re-consent campaigns.

* Activation: the programme manager and the ethics reviewer see the impact of an approved version
  (who must re-consent, per site; which purposes and how many samples are held back) before the
  programme manager (or an admin) confirms the activation.
* Campaigns: the programme manager starts one for the active version, watches its progress per
  site, pauses, resumes or closes it. Coordinators and local ethics reviewers see the completion of
  their own sites.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.models import User
from portal.roles import Role, has_role, role_required, site_ids_for

from ..models import CampaignStatus, ConsentState, ConsentVersion, ReconsentCampaign
from ..selectors.campaigns import campaign_progress, campaigns_visible
from ..selectors.impact import version_impact
from ..services import campaigns as campaign_services
from ..services.activation import version_activate

VIEW_ACTIVATION = (Role.PROGRAMME_MANAGER, Role.ETHICS_REVIEWER, Role.ADMIN)
MAY_ACTIVATE = (Role.PROGRAMME_MANAGER, Role.ADMIN)
VIEW_CAMPAIGNS = (Role.PROGRAMME_MANAGER, Role.ADMIN, Role.COORDINATOR, Role.ETHICS_REVIEWER)
RUN_CAMPAIGNS = (Role.PROGRAMME_MANAGER, Role.ADMIN)


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _errors(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@role_required(*VIEW_ACTIVATION)
def activation_list(request: HttpRequest) -> HttpResponse:
    versions = (
        ConsentVersion.objects.filter(
            status__in=[ConsentVersion.Status.APPROVED, ConsentVersion.Status.ACTIVE]
        )
        .select_related("form")
        .order_by("form__code", "language", "status", "-created_at")
    )
    return render(
        request,
        "consent/staff/activation_list.html",
        {"versions": versions, "may_activate": has_role(request.user, *MAY_ACTIVATE)},
    )


@role_required(*VIEW_ACTIVATION)
def activation_preview(request: HttpRequest, version_id: int) -> HttpResponse:
    version = get_object_or_404(ConsentVersion.objects.select_related("form"), pk=version_id)
    may_activate = has_role(request.user, *MAY_ACTIVATE)
    if request.method == "POST":
        if not may_activate:
            return render(request, "errors/403.html", {"status": 403}, status=403)
        if request.POST.get("confirm") != "yes":
            messages.error(request, _("Tick the box to confirm that you have read the impact."))
        else:
            try:
                result = version_activate(version=version, by=_user(request))
            except ValidationError as exc:
                messages.error(request, _errors(exc))
            else:
                messages.success(
                    request,
                    _("%(version)s is now active; %(n)s participants must re-consent.")
                    % {"version": str(result.version), "n": result.reconsent_due},
                )
                return redirect("consent:activation_list")
    impact = version_impact(version=version, site_ids=site_ids_for(request.user))
    return render(
        request,
        "consent/staff/activation_preview.html",
        {
            "version": version,
            "impact": impact,
            "may_activate": may_activate and version.status == ConsentVersion.Status.APPROVED,
        },
    )


@role_required(*VIEW_CAMPAIGNS)
def campaign_list(request: HttpRequest) -> HttpResponse:
    may_run = has_role(request.user, *RUN_CAMPAIGNS)
    if request.method == "POST":
        if not may_run:
            return render(request, "errors/403.html", {"status": 403}, status=403)
        version = ConsentVersion.objects.filter(
            pk=request.POST.get("version") or 0, status=ConsentVersion.Status.ACTIVE
        ).first()
        if version is None:
            messages.error(request, _("Choose an active version."))
        else:
            try:
                campaign = campaign_services.campaign_start(
                    version=version, by=_user(request), name=request.POST.get("name", "")[:200]
                )
            except ValidationError as exc:
                messages.error(request, _errors(exc))
            else:
                messages.success(
                    request,
                    _("Campaign started: %(n)s participants will be e-mailed.")
                    % {"n": campaign.invited_count},
                )
                return redirect("consent:campaign_detail", campaign_id=campaign.pk)
    active_versions = ConsentVersion.objects.filter(
        status=ConsentVersion.Status.ACTIVE
    ).select_related("form")
    due = {
        (row["version__form_id"], row["version__language"]): row["n"]
        for row in ConsentState.objects.filter(status=ConsentState.Status.RECONSENT_DUE)
        .values("version__form_id", "version__language")
        .annotate(n=Count("pk"))
    }
    choices = [(v, due.get((v.form_id, v.language), 0)) for v in active_versions]
    return render(
        request,
        "consent/staff/campaigns.html",
        {
            "campaigns": campaigns_visible()[:100],
            "version_choices": choices,
            "may_run": may_run,
        },
    )


@role_required(*VIEW_CAMPAIGNS)
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_object_or_404(campaigns_visible(), pk=campaign_id)
    progress = campaign_progress(campaign, site_ids=site_ids_for(request.user))
    return render(
        request,
        "consent/staff/campaign_detail.html",
        {
            "campaign": campaign,
            "progress": progress,
            "may_run": has_role(request.user, *RUN_CAMPAIGNS),
            "Status": CampaignStatus,
        },
    )


@require_POST
@role_required(*RUN_CAMPAIGNS)
def campaign_steer(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_object_or_404(ReconsentCampaign, pk=campaign_id)
    action = request.POST.get("action")
    steps = {
        "pause": campaign_services.campaign_pause,
        "resume": campaign_services.campaign_resume,
        "close": campaign_services.campaign_close,
    }
    step = steps.get(action or "")
    if step is None:
        messages.error(request, _("Unknown action."))
    else:
        try:
            step(campaign=campaign, by=_user(request))
        except ValidationError as exc:
            messages.error(request, _errors(exc))
        else:
            messages.success(request, _("Campaign updated."))
    return redirect("consent:campaign_detail", campaign_id=campaign.pk)
