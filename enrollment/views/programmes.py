"""Programme managers' pages: programmes, phases and their targets, sites, cohorts."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from portal.roles import Role, role_required
from portal.web import current_user, form_errors_add

from ..forms.programmes import CohortForm, PhaseForm, ProgrammeForm, SiteForm, TargetsForm
from ..models import Cohort, Phase, PhaseTarget, Programme, Site
from ..services.programmes import phase_targets_set, programme_object_save

MANAGERS = (Role.PROGRAMME_MANAGER, Role.ADMIN)


@role_required(*MANAGERS)
def index(request: HttpRequest) -> HttpResponse:
    targets = PhaseTarget.objects.select_related("site").order_by("cohort_group", "site__code")
    phases = Phase.objects.order_by("number").prefetch_related(Prefetch("targets", targets))
    programmes = Programme.objects.order_by("code").prefetch_related(Prefetch("phases", phases))
    return render(
        request,
        "enrollment/programmes/index.html",
        {
            "programmes": programmes,
            "sites": Site.objects.order_by("code"),
            "cohorts": Cohort.objects.order_by("code"),
        },
    )


def _edit(
    request: HttpRequest,
    form: forms.ModelForm[Any],
    *,
    title: str,
    saved: str,
    prepare: Any = None,
) -> HttpResponse:
    """Validate ``form``, save its object through the service, report errors in the form."""
    if request.method == "POST" and form.is_valid():
        obj = form.save(commit=False)
        if prepare:
            prepare(obj)
        try:
            programme_object_save(obj=obj, by=current_user(request), changed=form.changed_data)
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, saved)
            return redirect("enrollment:programmes")
    return render(request, "enrollment/programmes/edit.html", {"form": form, "title": title})


@role_required(*MANAGERS)
def programme_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    instance = get_object_or_404(Programme, pk=pk) if pk else None
    form = ProgrammeForm(request.POST or None, instance=instance)
    title = _("Edit programme") if instance else _("New programme")
    return _edit(request, form, title=title, saved=_("The programme is saved."))


@role_required(*MANAGERS)
def phase_edit(
    request: HttpRequest, pk: int | None = None, programme_pk: int | None = None
) -> HttpResponse:
    instance = get_object_or_404(Phase, pk=pk) if pk else None
    programme = instance.programme if instance else get_object_or_404(Programme, pk=programme_pk)
    form = PhaseForm(request.POST or None, instance=instance)
    title = (_("Edit phase of %(p)s") if instance else _("New phase of %(p)s")) % {
        "p": programme.label
    }

    def prepare(phase: Phase) -> None:
        phase.programme = programme

    return _edit(request, form, title=title, saved=_("The phase is saved."), prepare=prepare)


@role_required(*MANAGERS)
def site_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    instance = get_object_or_404(Site, pk=pk) if pk else None
    form = SiteForm(request.POST or None, instance=instance)
    title = _("Edit site") if instance else _("New site")
    return _edit(request, form, title=title, saved=_("The site is saved."))


@role_required(*MANAGERS)
def cohort_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    instance = get_object_or_404(Cohort, pk=pk) if pk else None
    form = CohortForm(request.POST or None, instance=instance)
    title = _("Edit cohort") if instance else _("New cohort")
    return _edit(request, form, title=title, saved=_("The cohort is saved."))


@role_required(*MANAGERS)
def phase_targets(request: HttpRequest, pk: int) -> HttpResponse:
    phase = get_object_or_404(Phase.objects.select_related("programme"), pk=pk)
    sites = list(Site.objects.order_by("code"))
    current = {(t.cohort_group, t.site_id): t.target for t in phase.targets.all()}
    initial: dict[str, int] = {}
    for (group, site_id), value in current.items():
        if site_id is not None and not group:
            initial[f"site_{site_id}"] = value
        elif site_id is None:
            initial["overall" if not group else f"group_{group}"] = value
    form = TargetsForm(request.POST or None, initial=initial, sites=sites)
    if request.method == "POST" and form.is_valid():
        try:
            phase_targets_set(phase=phase, targets=form.targets(), by=current_user(request))
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(
                request, _("The targets of %(phase)s are saved.") % {"phase": phase.label}
            )
            return redirect("enrollment:programmes")
    return render(request, "enrollment/programmes/targets.html", {"form": form, "phase": phase})
