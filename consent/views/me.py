"""The participant's consent pages: sign, "my consent", change choices, withdraw, receipts.

Signing asks for the password on the signing form itself (entering it confirms the signature).
Changing and withdrawing need a recent re-authentication (allauth): the page can be read freely,
and when the form is sent without a recent password check, allauth asks for the password and then
replays the sent form.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import cast

from allauth.account.decorators import reauthentication_required
from allauth.account.internal.flows.reauthentication import reauthenticate_by_password
from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from enrollment.models import Participant
from portal.audit import Action, audit_record
from portal.password_proof import password_proof_matches, password_proof_remember
from portal.roles import Data, get_scoped_or_404, require_access
from portal.web import current_user, form_errors_add

from ..forms import ChangeForm, SignForm, WithdrawForm
from ..hooks import my_consent_links
from ..models import ConsentEvent, ConsentReceipt, ConsentState, StateStatus
from ..selectors import records as selectors
from ..selectors.history import history_with_changes
from ..selectors.standing import (
    can_take_part_again,
    choices_in_force,
    stricter_levels,
    withdrawal_status_label,
)
from ..services import (
    Signature,
    consent_record,
    consent_update,
    consent_withdraw,
    participant_lock_of_account,
    receipt_request,
)
from ..services.sealed_files import receipt_read

# Before screening confirms eligibility the form cannot be signed (the funnel goes eligible ->
# consented), so these participants are told what to do first instead of filling in the form.
_NOT_YET_ELIGIBLE = frozenset({Participant.Status.REGISTERED, Participant.Status.INELIGIBLE})


ViewFunc = Callable[..., HttpResponse]


def _reauthenticated(view: ViewFunc) -> ViewFunc:
    """allauth's ``reauthentication_required(allow_get=True)``, typed: the page can be read freely;
    a form sent without a recent password check is replayed after the password is confirmed."""
    return cast(ViewFunc, reauthentication_required(allow_get=True)(view))


def _own_participant(request: HttpRequest, *, with_state: bool = False) -> Participant:
    participants = Participant.objects.filter(user_id=request.user.pk or 0)
    if with_state:
        # The consent state and its version in the same query (read through ``_state_of``).
        participants = participants.select_related("consent_state__version")
    participant = participants.first()
    if participant is None:
        raise Http404(_("There is no participant record for this account."))
    return participant


def _state_of(participant: Participant) -> ConsentState | None:
    """The state loaded by ``_own_participant(with_state=True)`` (``None`` before any consent)."""
    try:
        return participant.consent_state
    except ConsentState.DoesNotExist:
        return None


@login_required
def consent_mine(request: HttpRequest) -> HttpResponse:
    """Current choices in plain language, the full history with receipts, and what can be done."""
    participant = _own_participant(request)
    state = selectors.consent_state_of(participant)
    shown_version = None
    if state is not None and state.version is not None:
        # In the language the participant reads now, where that version exists in it.
        shown_version = selectors.version_for_reading(state.version, language=get_language())
    withdrawn = state is not None and state.status == StateStatus.WITHDRAWN
    take_part_again = can_take_part_again(state)
    can_sign = state is None or state.status in (StateStatus.VOIDED, StateStatus.RECONSENT_DUE)
    not_yet_eligible = participant.status in _NOT_YET_ELIGIBLE
    return render(
        request,
        "consent/mine.html",
        {
            "participant": participant,
            "state": state,
            "shown_version": shown_version,
            "status_label": withdrawal_status_label(state.withdrawal_level)
            if state is not None and withdrawn
            else (state.get_status_display() if state is not None else ""),
            "items": choices_in_force(state, reading=shown_version),
            "history": history_with_changes(participant),
            "can_sign": can_sign
            and not not_yet_eligible
            and participant.status != Participant.Status.WITHDRAWN,
            "take_part_again": take_part_again,
            "not_yet_eligible": not_yet_eligible and state is None,
            "can_change": state is not None
            and state.status in (StateStatus.ACTIVE, StateStatus.RECONSENT_DUE),
            "can_withdraw": state is not None and bool(stricter_levels(state)),
            "withdrawn": withdrawn,
            "other_documents": my_consent_links(participant),
        },
    )


def _password_confirms(request: HttpRequest, form: SignForm) -> bool:
    """The password typed on the signing form is the account's: that confirms the signature.

    The password proved at sign-in is recognised without hashing again (``portal.password_proof``);
    anything else is checked with the hasher, and those tries count against allauth's
    re-authentication limit. A right password counts as a re-authentication (changing choices
    right after signing does not ask for it again)."""
    user = current_user(request)
    password = form.cleaned_data["password"]
    if not password_proof_matches(request, user, password):
        if not ratelimit.consume(request, action="reauthenticate", user=user):
            form.add_error("password", _("Too many tries. Wait a minute, then enter it again."))
            return False
        if not user.check_password(password):
            form.add_error("password", _("That is not your password. Enter it again."))
            return False
        password_proof_remember(request, user, password)
    reauthenticate_by_password(request)
    return True


@login_required
def consent_sign(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _consent_sign(request, _own_participant(request, with_state=True))
    # A sent form is checked and recorded under the participant's lock, taken with the first read;
    # their consent state and the version are read after it, and the signing service reads none
    # of the three again.
    with transaction.atomic():
        participant = participant_lock_of_account(request.user.pk or 0)
        if participant is None:
            raise Http404(_("There is no participant record for this account."))
        return _consent_sign(request, participant, locked=True)


def _consent_sign(
    request: HttpRequest, participant: Participant, *, locked: bool = False
) -> HttpResponse:
    # The language of the text shown travels with the form, so the version signed is the one read.
    language = request.POST.get("lang") or request.GET.get("lang") or get_language()
    version = selectors.active_version_for(language=language)
    if version is None:
        return render(request, "consent/unavailable.html", status=503)
    state = _state_of(participant)
    if (
        state is not None
        and state.status == StateStatus.WITHDRAWN
        and not can_take_part_again(state)
    ):
        messages.info(request, _("You have withdrawn; the consent form can no longer be signed."))
        return redirect("consent:mine")
    if state is None and participant.status in _NOT_YET_ELIGIBLE:
        return redirect("consent:mine")
    if (
        state is not None
        and state.status == StateStatus.ACTIVE
        and state.version is not None
        and state.version.form_id == version.form_id
        and state.version.label == version.label
    ):
        messages.info(request, _("You have already signed the current consent form."))
        return redirect("consent:mine")
    others = selectors.active_versions().exclude(pk=version.pk)
    # Items and questions loaded once, for the form and for the checks of the signing service.
    selectors.version_content_load(version)
    form = SignForm(request.POST or None, version=version)
    if request.method == "POST" and form.is_valid() and _password_confirms(request, form):
        try:
            event = consent_record(
                participant=participant,
                version=version,
                choices=form.choices(),
                answers=form.answers(),
                signature=Signature(
                    typed_name=form.cleaned_data["typed_name"],
                    confirmed=form.cleaned_data["confirm"],
                    drawn_png=form.cleaned_data["drawn_signature"],
                ),
                by=current_user(request),
                already_locked=locked,
            )
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(
                request,
                _("Thank you. Your consent is recorded (code %(code)s); the receipt is on its way.")
                % {"code": event.verification_code},
            )
            return redirect("consent:mine")
    return render(
        request,
        "consent/sign.html",
        {
            "form": form,
            "version": version,
            "other_versions": others,
            "participant": participant,
            "taking_part_again": can_take_part_again(state),
            "withdrawn_label": withdrawal_status_label(state.withdrawal_level)
            if state is not None and state.status == StateStatus.WITHDRAWN
            else "",
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@_reauthenticated
def consent_change(request: HttpRequest) -> HttpResponse:
    participant = _own_participant(request)
    state = selectors.consent_state_of(participant)
    if (
        state is None
        or state.version is None
        or state.status
        not in (
            StateStatus.ACTIVE,
            StateStatus.RECONSENT_DUE,
        )
    ):
        messages.error(request, _("There is no consent in force to change."))
        return redirect("consent:mine")
    form = ChangeForm(request.POST or None, version=state.version, current=state.choices)
    if request.method == "POST" and form.is_valid():
        try:
            event = consent_update(
                participant=participant,
                choices=form.choices(),
                by=current_user(request),
                confirmed=form.cleaned_data["confirm"],
            )
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(
                request,
                _("Your choices are changed (code %(code)s); the receipt is on its way.")
                % {"code": event.verification_code},
            )
            return redirect("consent:mine")
    required = state.version.items.filter(required=True).order_by("order", "id")
    return render(
        request,
        "consent/change.html",
        {"form": form, "state": state, "required_items": required},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@_reauthenticated
def consent_withdraw_view(request: HttpRequest) -> HttpResponse:
    participant = _own_participant(request)
    state = selectors.consent_state_of(participant)
    levels = stricter_levels(state)
    if not levels:
        messages.info(request, _("You have already withdrawn."))
        return redirect("consent:mine")
    form = WithdrawForm(request.POST or None, levels=levels)
    if request.method == "POST" and form.is_valid():
        try:
            consent_withdraw(
                participant=participant,
                level=form.cleaned_data["level"],
                samples_fate=form.cleaned_data.get("samples_fate") or "",
                by=current_user(request),
                confirmed=form.cleaned_data["confirm"],
            )
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, _("Your withdrawal is recorded. The receipt is on its way."))
            return redirect("consent:mine")
    return render(
        request,
        "consent/withdraw.html",
        {
            "form": form,
            "state": state,
            "withdrawn_label": withdrawal_status_label(state.withdrawal_level)
            if state is not None and state.status == StateStatus.WITHDRAWN
            else "",
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_safe
def consent_receipt(request: HttpRequest, event_id: int) -> HttpResponseBase:
    """The stored PDF receipt of one event: the participant's own, or a participant of a staff
    member's sites. A receipt not made yet is asked for again (a task makes and mails it); this
    page only says that it is being prepared, and never renders nor mails anything itself."""
    event = get_scoped_or_404(
        request.user, ConsentEvent.objects.select_related("participant"), pk=event_id
    )
    own = event.participant.user_id == request.user.pk
    if not own:
        # A receipt shows the signer's printed name: only roles that see names may have it
        # (asked first, whether or not the file is made yet).
        require_access(
            request.user, Data.RECEIPT, object_type="consent.consentevent", object_id=event.pk
        )
    receipt = ConsentReceipt.objects.filter(event=event).first()
    if receipt is None or not receipt.file:  # not made yet, or being made by a worker right now
        if not receipt_request(event=event):
            raise Http404(_("This entry has no receipt."))
        response = render(request, "consent/receipt_pending.html", {"event": event}, status=202)
        response["Retry-After"] = "30"
        return response
    if not own:
        # A staff download is a personal-data read.
        audit_record(
            action=Action.PERSONAL_DATA_VIEWED,
            actor=current_user(request),
            obj=event.participant,
            reason="consent receipt",
            details={"event": event.pk},
        )
    return FileResponse(
        io.BytesIO(receipt_read(receipt=receipt)),
        as_attachment=True,
        filename=f"consent-receipt-{event.verification_code}.pdf",
        content_type="application/pdf",
    )
