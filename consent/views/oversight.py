"""Oversight page: the ledger verification runs, for ethics reviewers, managers and admins."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from portal.models import User
from portal.roles import Role, role_required, scope_queryset

from ..ledger import ledger_verify
from ..models import ConsentEvent, LedgerVerification
from ..services.verification import ledger_verification_request

OVERSIGHT_ROLES = (Role.ETHICS_REVIEWER, Role.PROGRAMME_MANAGER, Role.ADMIN)


@role_required(*OVERSIGHT_ROLES)
@require_http_methods(["GET", "POST"])
def ledger_verifications(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        assert isinstance(request.user, User)
        running = LedgerVerification.objects.filter(finished_at__isnull=True).exists()
        if running:
            messages.info(
                request, _("A verification is already running; its result will appear here.")
            )
        else:
            ledger_verification_request(by=request.user)
            messages.success(
                request,
                _("Verification started. It recomputes every chain; the result appears below."),
            )
        return redirect("consent:ledger_verifications")
    runs = LedgerVerification.objects.all()[:20]
    return render(
        request,
        "consent/oversight/verifications.html",
        {"runs": runs, **_receipt_check(request)},
    )


def _receipt_check(request: HttpRequest) -> dict[str, object]:
    """Look a receipt up by its verification code and recompute that participant's chain.

    The code is the start of the event hash; the page shows the full hash to compare with the one
    printed on the receipt. Only events the user may see are found.
    """
    code = (request.GET.get("code") or "").strip().upper()
    if not code:
        return {}
    events = scope_queryset(
        request.user, ConsentEvent.objects.select_related("participant", "version")
    ).filter(verification_code=code)[:5]
    checked = [(event, ledger_verify(participant_id=event.participant_id).ok) for event in events]
    return {"code": code, "checked": checked}
