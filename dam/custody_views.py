"""Custody pages: one tube with its notes and fate, the fates worklist, and the participant's
certificate of what was done with their samples."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from enrollment.models import Participant
from portal.roles import Role, get_scoped_or_404, role_required, scope_queryset
from portal.web import current_user, form_errors_add

from .custody_forms import FateForm, NoteForm
from .models import Sample
from .services import (
    fate_certificate_render,
    sample_fate_record,
    sample_note_add,
    samples_awaiting_fate,
)

CUSTODIANS = (Role.COORDINATOR, Role.DATA_STEWARD, Role.ADMIN)
SHIPPERS = (Role.COORDINATOR, Role.ADMIN)


def form_errors(form: Form, exc: ValidationError | PermissionDenied) -> None:
    """Put a service's refusal on the form, per field where it names one."""
    if isinstance(exc, PermissionDenied):
        form.add_error(None, str(exc))
    else:
        form_errors_add(form, exc)


# --- one tube: notes and fate -------------------------------------------------------------------


@role_required(*CUSTODIANS)
def sample_detail(request: HttpRequest, barcode: str) -> HttpResponse:
    user = current_user(request)
    sample = get_scoped_or_404(
        user, Sample.objects.select_related("participant", "site"), barcode=barcode.upper()
    )
    note_form = NoteForm(prefix="note")
    fate_form = FateForm(prefix="fate")
    if request.method == "POST":
        try:
            if "note-kind" in request.POST:
                note_form = NoteForm(request.POST, prefix="note")
                if note_form.is_valid():
                    sample_note_add(sample=sample, by=user, **note_form.cleaned_data)
                    messages.success(request, _("The note was added."))
                    return redirect("dam:sample", barcode=sample.barcode)
            else:
                fate_form = FateForm(request.POST, prefix="fate")
                if fate_form.is_valid():
                    sample_fate_record(sample=sample, by=user, **fate_form.cleaned_data)
                    messages.success(request, _("The sample's fate was recorded."))
                    return redirect("dam:sample", barcode=sample.barcode)
        except (ValidationError, PermissionDenied) as exc:
            form_errors(note_form if "note-kind" in request.POST else fate_form, exc)
    fates = list(sample.fates.order_by("recorded_at", "id"))
    return render(
        request,
        "dam/sample.html",
        {
            "sample": sample,
            "notes": sample.notes.order_by("at", "id"),
            "fates": fates,
            "needs_fate": samples_awaiting_fate(Sample.objects.filter(pk=sample.pk)).exists()
            or bool(fates),
            "note_form": note_form,
            "fate_form": fate_form,
            "lines": sample.lines.select_related("manifest").order_by("id"),
        },
    )


@role_required(*CUSTODIANS)
def fates_worklist(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    queryset = samples_awaiting_fate(scope_queryset(user, Sample.objects.all()))
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    return render(request, "dam/fates.html", {"worklist": page})


# --- the participant's certificate --------------------------------------------------------------


@login_required
def fate_certificate(request: HttpRequest) -> HttpResponse:
    participant = Participant.objects.filter(user_id=request.user.pk or 0).first()
    if participant is None:
        raise Http404
    pdf = fate_certificate_render(participant)
    if pdf is None:
        raise Http404
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="samples-certificate-{participant.code}.pdf"'
    )
    return response
