"""Coordinator pages: in-person consent (tablet, legal representative, scanned paper), withdrawal on a
participant's behalf, the quality check by a second staff member, and the worklist.

Every participant is looked up within the coordinator's sites (``get_scoped_or_404``): another
site's participant answers 404 and the attempt is audited.
"""

from __future__ import annotations

import io
from typing import cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from enrollment.models import Participant
from portal.audit import audit_record
from portal.handover import handover_active
from portal.roles import (
    Data,
    Role,
    deny,
    get_scoped_or_404,
    require_access,
    role_required,
    scope_queryset,
)
from portal.web import current_user, form_errors_add

from ..audit import Action
from ..forms import InPersonForm, InPersonMode, QualityCheckForm, StaffWithdrawForm
from ..models import (
    NOTE_KINDS,
    Channel,
    ConsentArtifact,
    ConsentEvent,
    SignerKind,
    StateStatus,
)
from ..selectors import records as selectors
from ..selectors.standing import (
    can_take_part_again,
    choices_in_force,
    stricter_levels,
    withdrawal_status_label,
)
from ..services import (
    InPerson,
    Signature,
    Witness,
    consent_record,
    consent_withdraw,
    quality_check_record,
)
from ..services.artifacts import event_files_read
from ..services.reads import consent_read_record
from ..services.sealed_files import artifact_read
from .handover import HANDED_OVER_MODES

SITE_ROLES = (Role.COORDINATOR, Role.ADMIN)


def _participant(request: HttpRequest, code: str, *, what: str) -> Participant:
    """The participant of the caller's sites (404 otherwise); the staff read is audited."""
    participant = get_scoped_or_404(
        request.user, Participant.objects.select_related("site", "cohort"), code=code.upper()
    )
    consent_read_record(by=current_user(request), participant=participant, what=what)
    return participant


@role_required(*SITE_ROLES)
def worklist(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    return render(
        request,
        "consent/site/worklist.html",
        {
            "awaiting": selectors.awaiting_quality_check(user)[:200],
            "ask_again": selectors.to_ask_again(user)[:200],
        },
    )


@role_required(*SITE_ROLES)
def participant_find_view(request: HttpRequest) -> HttpResponse:
    code = (request.GET.get("code") or "").strip()
    if not code:
        return redirect("consent:site_worklist")
    participant = _participant(request, code, what="find")
    return redirect("consent:site_participant", code=participant.code)


@role_required(*SITE_ROLES)
def participant_consent(request: HttpRequest, code: str) -> HttpResponse:
    participant = _participant(request, code, what="consent page")
    state = selectors.consent_state_of(participant)
    return render(
        request,
        "consent/site/participant.html",
        {
            "participant": participant,
            "state": state,
            "history": selectors.consent_history(participant),
            "modes": InPersonMode.ALL,
            "can_withdraw": bool(stricter_levels(state)),
            # The same words the participant reads: a partial withdrawal is named by its level.
            "status_label": withdrawal_status_label(state.withdrawal_level)
            if state is not None and state.status == StateStatus.WITHDRAWN
            else (state.get_status_display() if state is not None else ""),
            "items": choices_in_force(state),
            "take_part_again": can_take_part_again(state),
        },
    )


@role_required(*SITE_ROLES)
def record_in_person(request: HttpRequest, code: str, mode: str) -> HttpResponse:
    participant = _participant(request, code, what="in-person consent")
    if mode not in InPersonMode.ALL:
        raise Http404()
    if mode in HANDED_OVER_MODES and not handover_active(request):
        # The patient holds the tablet for these: the coordinator checks the name first.
        query = f"?lang={request.GET['lang']}" if request.GET.get("lang") in ("ko", "en") else ""
        return redirect(reverse("consent:site_handover", args=[participant.code, mode]) + query)
    language = request.GET.get("lang") or (
        participant.user.preferred_language if participant.user else "ko"
    )
    version = selectors.active_version_for(language=language)
    if version is None:
        return render(request, "consent/unavailable.html", status=503)
    form = InPersonForm(
        request.POST or None,
        request.FILES or None,
        version=version,
        mode=mode,
        site_id=participant.site_id,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        representative = mode == InPersonMode.REPRESENTATIVE or (
            mode == InPersonMode.PAPER and bool(data.get("representative_relation"))
        )
        witness = None
        if mode != InPersonMode.PAPER and data.get("witness_present"):
            witness = Witness(
                name=data.get("witness_name") or "", signature_png=data.get("witness_signature")
            )
        paper = data.get("paper_form")
        try:
            event = consent_record(
                participant=participant,
                version=version,
                choices=form.choices(),
                answers=form.answers(),
                signature=Signature(
                    typed_name=data.get("typed_name") or "",
                    confirmed=data["confirm"],
                    drawn_png=data.get("drawn_signature"),
                    signer_kind=(
                        SignerKind.LEGAL_REPRESENTATIVE if representative else SignerKind.SELF
                    ),
                    representative_relation=data.get("representative_relation") or "",
                    representative_note=data.get("representative_note") or "",
                ),
                by=current_user(request),
                in_person=InPerson(
                    channel=Channel.SCANNED_PAPER
                    if mode == InPersonMode.PAPER
                    else Channel.SITE_TABLET,
                    countersigned_by=data.get("countersigned_by"),
                    countersignature_png=data.get("countersignature"),
                    countersignature_confirmed=bool(data.get("countersign_confirm")),
                    paper_form=paper.read() if paper else None,
                    signed_at=data.get("signed_on"),
                    witness=witness,
                ),
            )
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(
                request,
                _("Consent recorded (code %(code)s). A second staff member must now check it.")
                % {"code": event.verification_code},
            )
            return redirect("consent:site_participant", code=participant.code)
    return render(
        request,
        "consent/site/record.html",
        {
            "participant": participant,
            "form": form,
            "version": version,
            "mode": mode,
            "other_versions": selectors.active_versions().exclude(pk=version.pk),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@role_required(*SITE_ROLES)
def withdraw_on_behalf(request: HttpRequest, code: str) -> HttpResponse:
    participant = _participant(request, code, what="withdrawal on behalf")
    form = StaffWithdrawForm(
        request.POST or None, levels=stricter_levels(selectors.consent_state_of(participant))
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            consent_withdraw(
                participant=participant,
                level=data["level"],
                samples_fate=data.get("samples_fate") or "",
                by=current_user(request),
                staff=current_user(request),
                confirmed=data["confirm"],
                reason=data["reason"],
                reason_note=data.get("reason_note") or "",
                signer_kind=data["signer_kind"],
                representative_relation=data.get("representative_relation") or "",
                representative_note=data.get("representative_note") or "",
            )
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, _("The withdrawal is recorded."))
            return redirect("consent:site_participant", code=participant.code)
    return render(
        request,
        "consent/site/withdraw.html",
        {"participant": participant, "form": form},
        status=400 if form.is_bound and form.errors else 200,
    )


@role_required(*SITE_ROLES)
def quality_check(request: HttpRequest, event_id: int) -> HttpResponse:
    event = get_scoped_or_404(
        request.user,
        ConsentEvent.objects.select_related("participant", "version", "staff", "countersigned_by"),
        pk=event_id,
    )
    user = current_user(request)
    form = QualityCheckForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            check = quality_check_record(event=event, by=user, **form.cleaned_data)
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            if check.passed:
                messages.success(request, _("Check recorded: the consent is in order."))
            else:
                messages.warning(
                    request,
                    _(
                        "Check recorded: the consent is voided and the participant is on the "
                        "worklist to be asked again."
                    ),
                )
            return redirect("consent:site_worklist")
    from enrollment.vault import personal_data_read

    profile = personal_data_read(
        participant=event.participant, by=user, reason="consent quality check"
    )
    age = profile.age_on(timezone.localtime(event.signed_at).date()) if profile else None
    artifacts = list(event.artifacts.all())
    notes = [a for a in artifacts if a.kind in NOTE_KINDS]
    if notes:
        # The witness's name and "other: ..." texts are personal data: opening them is a read.
        audit_record(
            action=Action.ARTIFACT_VIEWED,
            actor=user,
            obj=event,
            details={"notes": sorted(a.kind for a in notes)},
        )
    return render(
        request,
        "consent/site/quality_check.html",
        {
            "event": event,
            "form": form,
            "registered_name": profile.name if profile else "",
            "age_at_signing": age,
            "artifacts": [a for a in artifacts if a.kind not in NOTE_KINDS],
            "notes": event_files_read(event) if notes else None,
            "own_record": user.pk in (event.staff_id, event.countersigned_by_id),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@role_required(*SITE_ROLES)
def artifact_download(request: HttpRequest, artifact_id: int) -> HttpResponse:
    visible_events = scope_queryset(request.user, ConsentEvent.objects.all())
    # Notes (a witness's name, "other: ..." texts) are shown on the pages that need them, not
    # handed out as files.
    artifact = (
        ConsentArtifact.objects.filter(pk=artifact_id, event__in=visible_events)
        .exclude(kind__in=NOTE_KINDS)
        .first()
    )
    if artifact is None:
        raise deny(
            request.user,
            object_type="consent.consentartifact",
            object_id=artifact_id,
            reason="out of scope",
        )
    require_access(
        request.user,
        Data.CONSENT_ARTIFACT,
        object_type="consent.consentartifact",
        object_id=artifact_id,
    )
    audit_record(
        action=Action.ARTIFACT_VIEWED,
        actor=current_user(request),
        obj=artifact.event,
        details={"artifact": artifact.pk, "kind": artifact.kind},
    )
    suffix = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}
    # A streamed file; typed as HttpResponse for role_required's signature.
    return cast(
        HttpResponse,
        FileResponse(
            io.BytesIO(artifact_read(artifact=artifact)),
            content_type=artifact.content_type,
            filename=f"{artifact.kind}-{artifact.event_id}.{suffix.get(artifact.content_type, 'bin')}",
        ),
    )
