"""The volunteer's own pages: register, screen, book a visit, see their status, claim an invitation."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from portal.roles import deny, is_staff_member
from portal.web import current_user, form_errors_add, posted

from .. import calendar, selectors, vault
from ..forms import BookingForm, ClaimForm, ProfileEditForm, ScreeningForm, VolunteerForm
from ..models import Participant, ParticipantStatus, Site, VisitStatus, label_order
from ..selectors.journey import participant_journey
from ..services import (
    InvitationClaimRefused,
    VisitRefused,
    bookable_days,
    invitation_claim,
    participant_profile_update,
    participant_register_volunteer,
    participant_screen,
    screening_questions_for,
    visit_book,
    visit_cancel,
    visit_reschedule,
)
from ..services.doors import Door, door_refusal


@login_required
def me(request: HttpRequest) -> HttpResponse:
    """The participant's page: where they are, their visit, what to do next."""
    participant = selectors.participant_of_user(current_user(request))
    if participant is None:
        return render(request, "enrollment/me/start.html")
    visit = selectors.visit_current(participant)
    profile = vault.profile_for_participant(participant)
    return render(
        request,
        "enrollment/me/home.html",
        {
            "participant": participant,
            "profile": profile,
            "visit": visit,
            "headline": selectors.participant_headline(participant, visit),
            "steps": participant_journey(
                participant,
                visit,
                collection_open=door_refusal(door=Door.COLLECTION, participant=participant) is None,
            ),
            "can_screen": participant.status
            in (ParticipantStatus.REGISTERED, ParticipantStatus.INELIGIBLE),
            "can_book": participant.status
            in (ParticipantStatus.ELIGIBLE, ParticipantStatus.CONSENTED),
            "screening": selectors.screening_latest(participant),
        },
    )


@login_required
def register(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    if is_staff_member(user):
        raise deny(user, object_type="view", object_id="me_register", reason="staff account")
    if selectors.participant_of_user(user) is not None:
        return redirect("enrollment:me")
    if request.method == "POST":
        form = VolunteerForm(request.POST)
        if form.is_valid():
            try:
                participant_register_volunteer(
                    user=user,
                    profile=form.profile(),
                    sex=form.cleaned_data["sex"],
                    cohort=form.cleaned_data["cohort"],
                    site=form.cleaned_data["site"],
                )
            except ValidationError as exc:
                form_errors_add(form, exc)
            else:
                messages.success(
                    request, _("Thank you for registering. Next: the eligibility questions.")
                )
                return redirect("enrollment:me_screening")
    else:
        form = VolunteerForm(initial={"email": user.email})
    return render(request, "enrollment/me/register.html", {"form": form})


def _own_participant(request: HttpRequest) -> Participant | None:
    return selectors.participant_of_user(current_user(request))


@login_required
def profile_edit(request: HttpRequest) -> HttpResponse:
    participant = _own_participant(request)
    if participant is None:
        return redirect("enrollment:me_register")
    current = vault.profile_for_participant(participant)
    assert current is not None
    if request.method == "POST":
        form = ProfileEditForm(request.POST)
        if form.is_valid():
            try:
                participant_profile_update(participant=participant, profile=form.profile(current))
            except ValidationError as exc:
                form_errors_add(form, exc)
            else:
                messages.success(request, _("Your details have been saved."))
                return redirect("enrollment:me")
    else:
        form = ProfileEditForm(
            initial={
                "name": current.name,
                "latin_name": current.latin_name,
                "birth_date": current.birth_date,
                "phone": current.phone_display,
                "email": current.email,
                "address": current.address,
            }
        )
    return render(request, "enrollment/me/profile.html", {"form": form})


@login_required
def screening(request: HttpRequest) -> HttpResponse:
    participant = _own_participant(request)
    if participant is None:
        return redirect("enrollment:me_register")
    if participant.status not in (ParticipantStatus.REGISTERED, ParticipantStatus.INELIGIBLE):
        return redirect("enrollment:me")
    questions = screening_questions_for(participant.cohort)
    form = ScreeningForm(posted(request), questions=questions)
    if request.method == "POST" and form.is_valid():
        try:
            result = participant_screen(
                participant=participant, answers=form.answers(), by=current_user(request)
            )
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            if result.eligible:
                messages.success(request, _("You can take part. Next: book your visit."))
                return redirect("enrollment:me_visit")
            return render(
                request,
                "enrollment/me/ineligible.html",
                {"screening": result, "legal_age": settings.LEGAL_AGE},
            )
    return render(
        request, "enrollment/me/screening.html", {"form": form, "participant": participant}
    )


@login_required
def visit(request: HttpRequest) -> HttpResponse:
    """Book a visit, or move the booked one to another day."""
    participant = _own_participant(request)
    if participant is None:
        return redirect("enrollment:me_register")
    assert participant.site is not None
    current = selectors.visit_current(participant)
    booked = current if current is not None and current.status == VisitStatus.BOOKED else None
    # A new booking may be at any active collection site; a booked visit moves within its site
    # (to change site, cancel and book again).
    # By name in the reader's language.
    sites = []
    if booked is None:
        sites = list(Site.objects.filter(is_active=True).order_by(label_order(), "code"))
    site = _chosen_site(request, sites) or participant.site
    days = bookable_days(site=site)
    form = BookingForm(posted(request), days=days)
    if request.method == "POST" and form.is_valid():
        day = form.cleaned_data["day"]
        try:
            if booked is None:
                visit_book(participant=participant, site=site, day=day, by=current_user(request))
                messages.success(request, _("Your visit is booked. We sent you a confirmation."))
            else:
                visit_reschedule(visit=booked, day=day, by=current_user(request))
                messages.success(request, _("Your visit has been moved."))
        except VisitRefused as exc:
            form.add_error("day", exc.messages)
        else:
            return redirect("enrollment:me")
    return render(
        request,
        "enrollment/me/visit.html",
        {
            "form": form,
            "participant": participant,
            "booked": booked,
            "days": days,
            "site": site,
            "sites": sites,
        },
    )


def _chosen_site(request: HttpRequest, sites: list[Site]) -> Site | None:
    """The site named by code in the query or the form, among the bookable ones."""
    code = (request.POST.get("site") or request.GET.get("site") or "").strip()
    return next((s for s in sites if s.code == code), None)


@login_required
def visit_calendar_download(request: HttpRequest) -> HttpResponse:
    """The booked visit as a calendar file, to add it to the participant's own calendar."""
    participant = _own_participant(request)
    current = selectors.visit_current(participant) if participant is not None else None
    if current is None or current.status != VisitStatus.BOOKED:
        messages.error(request, _("You have no booked visit to add to a calendar."))
        return redirect("enrollment:me")
    response = HttpResponse(calendar.visit_calendar(current), content_type=calendar.CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="visit.ics"'
    return response


@login_required
def visit_cancel_view(request: HttpRequest) -> HttpResponse:
    """Cancelling asks first: the page names the visit (day, site) and a button confirms it."""
    participant = _own_participant(request)
    current = selectors.visit_current(participant) if participant is not None else None
    if current is None or current.status != VisitStatus.BOOKED:
        messages.error(request, _("You have no booked visit to cancel."))
        return redirect("enrollment:me")
    if request.method != "POST":
        return render(request, "enrollment/me/visit_cancel.html", {"visit": current})
    try:
        visit_cancel(visit=current, by=current_user(request))
    except VisitRefused as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Your visit has been cancelled. You can book another day."))
    return redirect("enrollment:me")


@login_required
def claim(request: HttpRequest) -> HttpResponse:
    """A patient enrolled at a hospital links this account to their record with the code."""
    user = current_user(request)
    if is_staff_member(user):
        raise deny(user, object_type="view", object_id="me_claim", reason="staff account")
    if selectors.participant_of_user(user) is not None:
        messages.info(request, _("Your account is already linked to your participation."))
        return redirect("enrollment:me")
    form = ClaimForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            invitation_claim(
                user=user,
                code=form.cleaned_data["code"],
                birth_date=form.cleaned_data["birth_date"],
            )
        except InvitationClaimRefused as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("Your account is now linked to your participation."))
            return redirect("enrollment:me")
    return render(request, "enrollment/me/claim.html", {"form": form})
