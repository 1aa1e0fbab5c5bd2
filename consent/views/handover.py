"""Handing the site tablet to the patient: the coordinator first checks the patient's name, then
the session is locked to the consent form until the coordinator takes the tablet back
(``portal.handover``)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from enrollment.models import Participant
from enrollment.vault import personal_data_read
from portal.handover import handover_start
from portal.roles import Role, get_scoped_or_404, role_required
from portal.web import current_user

from ..forms import InPersonMode

# Modes in which someone other than staff holds the tablet.
HANDED_OVER_MODES = frozenset({InPersonMode.TABLET, InPersonMode.REPRESENTATIVE})


@role_required(Role.COORDINATOR, Role.ADMIN)
@require_http_methods(["GET", "POST"])
def handover_check(request: HttpRequest, code: str, mode: str) -> HttpResponse:
    """Show the patient's registered name to check aloud; confirming hands the tablet over."""
    if mode not in HANDED_OVER_MODES:
        raise Http404()
    user = current_user(request)
    participant = get_scoped_or_404(
        user, Participant.objects.select_related("site"), code=code.upper()
    )
    record_url = reverse("consent:site_record", args=[participant.code, mode])
    if request.method == "POST":
        handover_start(
            request,
            allowed=[record_url],
            return_to=reverse("consent:site_participant", args=[participant.code]),
        )
        language = request.POST.get("lang", "")
        return redirect(record_url + (f"?lang={language}" if language in ("ko", "en") else ""))
    profile = personal_data_read(participant=participant, by=user, reason="tablet hand-over check")
    return render(
        request,
        "consent/site/handover_check.html",
        {
            "participant": participant,
            "profile": profile,
            "mode": mode,
            "lang": request.GET.get("lang", ""),
        },
    )
