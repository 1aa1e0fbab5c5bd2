"""Shipments: coordinators prepare a manifest of their site's tubes, see which lines consent holds
back, and submit it to the dam."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from enrollment.models import Site, label_order
from portal.korean import particle_format
from portal.models import User
from portal.roles import Role, get_scoped_or_404, role_required, scope_queryset, site_ids_for
from portal.web import current_user

from .custody_forms import ManifestAddForm, ManifestCreateForm
from .custody_views import form_errors
from .models import Manifest, ManifestLine
from .services.manifests import (
    manifest_create,
    manifest_hold_backs,
    manifest_line_remove,
    manifest_sample_add,
    manifest_submit,
)

SHIPPERS = (Role.COORDINATOR, Role.ADMIN)


# --- shipments ----------------------------------------------------------------------------------


def _sites_of(user: User) -> Any:
    allowed = site_ids_for(user)
    sites = Site.objects.order_by(label_order(), "code")  # by name in the reader's language
    return sites if allowed is None else sites.filter(pk__in=allowed)


@role_required(*SHIPPERS)
def shipments(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    sites = _sites_of(user)
    form = ManifestCreateForm(request.POST or None, sites=sites)
    if request.method == "POST" and form.is_valid():
        try:
            manifest = manifest_create(site=form.cleaned_data["site"], by=user)
        except (ValidationError, PermissionDenied) as exc:
            form_errors(form, exc)
        else:
            return redirect("dam:shipment", code=manifest.code)
    manifests = (
        scope_queryset(user, Manifest.objects.select_related("site"))
        .annotate(
            planned=Count("lines", filter=Q(lines__state=ManifestLine.State.PLANNED)),
            sent=Count("lines", filter=Q(lines__state=ManifestLine.State.SENT)),
            held=Count("lines", filter=Q(lines__state=ManifestLine.State.HELD_BACK)),
        )
        .order_by("-created_at", "-id")
    )
    page = Paginator(manifests, 30).get_page(request.GET.get("page"))
    return render(request, "dam/shipments.html", {"form": form, "manifests": page})


@role_required(*SHIPPERS)
def shipment(request: HttpRequest, code: str) -> HttpResponse:
    user = current_user(request)
    manifest = get_scoped_or_404(user, Manifest.objects.select_related("site"), code=code)
    form = ManifestAddForm()
    if request.method == "POST":
        form = ManifestAddForm(request.POST)
        if form.is_valid():
            try:
                line = manifest_sample_add(
                    manifest=manifest, barcode=form.cleaned_data["barcode"], by=user
                )
            except (ValidationError, PermissionDenied) as exc:
                form_errors(form, exc)
            else:
                messages.success(
                    request,
                    particle_format(
                        _("Sample %(barcode)s added."), {"barcode": line.sample.barcode}
                    ),
                )
                return redirect("dam:shipment", code=manifest.code)
    lines = list(manifest.lines.select_related("sample__participant").order_by("id"))
    preview = manifest_hold_backs(lines) if manifest.state == Manifest.State.DRAFT else {}
    rows = [{"line": line, "hold": preview.get(line.pk)} for line in lines]
    held = len(preview) + sum(1 for line in lines if line.state == ManifestLine.State.HELD_BACK)
    return render(
        request,
        "dam/shipment.html",
        {
            "manifest": manifest,
            "form": form,
            "rows": rows,
            "held_count": held,
            "sendable_count": len(lines) - held,
        },
    )


@require_POST
@role_required(*SHIPPERS)
def shipment_line_remove(request: HttpRequest, code: str, line_id: int) -> HttpResponse:
    user = current_user(request)
    manifest = get_scoped_or_404(user, Manifest.objects.all(), code=code)
    line = ManifestLine.objects.filter(manifest=manifest, pk=line_id).first()
    if line is None:
        raise Http404
    try:
        manifest_line_remove(line=line, by=user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    return redirect("dam:shipment", code=manifest.code)


@require_POST
@role_required(*SHIPPERS)
def shipment_submit(request: HttpRequest, code: str) -> HttpResponse:
    user = current_user(request)
    manifest = get_scoped_or_404(user, Manifest.objects.all(), code=code)
    try:
        manifest = manifest_submit(manifest=manifest, by=user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        sent = manifest.lines.filter(state=ManifestLine.State.SENT).count()
        held = manifest.lines.filter(state=ManifestLine.State.HELD_BACK).count()
        messages.success(
            request,
            _("Manifest submitted: %(sent)d sent, %(held)d held back.")
            % {"sent": sent, "held": held},
        )
    return redirect("dam:shipment", code=manifest.code)
