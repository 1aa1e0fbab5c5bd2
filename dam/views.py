"""Coordinator pages of the dam app: record samples, see who is waiting for one."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from enrollment.models import Participant
from portal.korean import particle_format
from portal.roles import Role, deny, role_required, scope_queryset
from portal.web import current_user, form_errors_add

from .forms import SampleForm
from .selectors import sample_worklist, samples_recent
from .services import sample_record


@role_required(Role.COORDINATOR, Role.ADMIN)
def samples(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    if request.method == "POST":
        form = SampleForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            participant = (
                scope_queryset(user, Participant.objects.all())
                .filter(code=data["participant_code"])
                .first()
            )
            if participant is None:
                deny(user, object_type="enrollment.participant", object_id=data["participant_code"])
                form.add_error(
                    "participant_code", _("No participant with this code at your sites.")
                )
            else:
                try:
                    sample = sample_record(
                        participant=participant,
                        barcode=data["barcode"],
                        sample_type=data["sample_type"],
                        collected_at=data["collected_at"],
                        volume_ml=data["volume_ml"],
                        by=user,
                    )
                except (ValidationError, PermissionDenied) as exc:
                    _add_errors(form, exc)
                else:
                    messages.success(
                        request,
                        particle_format(
                            _("Sample %(barcode)s recorded for %(code)s."),
                            {"barcode": sample.barcode, "code": participant.code},
                        ),
                    )
                    # Several tubes are taken at one visit: the form stays on this participant,
                    # ready for the next barcode.
                    # No fragment: a fragment would stop the browser from focusing the barcode.
                    query = urlencode({"participant": participant.code, "tube": "next"})
                    return redirect(reverse("dam:samples") + "?" + query)
    else:
        form = SampleForm(initial={"participant_code": request.GET.get("participant", "")[:16]})
    chosen = form["participant_code"].value() if request.method == "GET" else None
    if chosen:
        # The participant is known: the scanner's next input is the tube's barcode.
        form.fields["barcode"].widget.attrs["autofocus"] = True
    next_for = chosen if request.GET.get("tube") == "next" else None
    page = Paginator(sample_worklist(user=user), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "dam/samples.html",
        {
            "form": form,
            "worklist": page,
            "recent": samples_recent(user=user),
            "next_for": next_for or "",
        },
    )


def _add_errors(form: SampleForm, exc: ValidationError | PermissionDenied) -> None:
    if isinstance(exc, PermissionDenied):
        form.add_error(None, str(exc))
    else:
        form_errors_add(form, exc)
