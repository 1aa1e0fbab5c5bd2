"""Coordinator pages: worklists, find, enroll, participant page, invitations, visits, import.

Every participant is fetched through ``get_scoped_or_404``: another site's participant answers
404 and the attempt is audited. Every page that shows personal data reads it through
``vault.personal_data_read`` (audited).
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.korean import particle_format
from portal.roles import Role, deny, get_scoped_or_404, has_role, role_required
from portal.web import current_user, form_errors_add, posted

from .. import selectors, vault
from ..forms import FindForm, ImportForm, PatientForm, ScreeningForm
from ..hooks import participant_next_steps
from ..models import DuplicateFlag, Participant, ParticipantStatus, Visit
from ..services import (
    DuplicateRegistration,
    VisitRefused,
    invitation_issue,
    participant_enroll_patient,
    participant_screen,
    referrals_import,
    screening_questions_for,
    visit_outcome_record,
)
from ..services.imports import COLUMNS, REQUIRED, ImportRefused

STAFF = (Role.COORDINATOR, Role.ADMIN)


def _participant(request: HttpRequest, code: str) -> Participant:
    return get_scoped_or_404(
        current_user(request), Participant.objects.select_related("site", "cohort"), code=code
    )


WORKLIST_DAYS = 7
WORKLIST_MAX_DAYS = 31


def _visit_range(request: HttpRequest) -> tuple[dt.date, dt.date, str | None]:
    """The days asked for (``from``, ``to``), by default this week from today; a bad range says
    why and falls back to the default."""
    today = timezone.localdate()
    default = (today, today + dt.timedelta(days=WORKLIST_DAYS - 1))
    raw_first, raw_last = request.GET.get("from", ""), request.GET.get("to", "")
    if not raw_first and not raw_last:
        return (*default, None)
    try:
        first = dt.date.fromisoformat(raw_first) if raw_first else default[0]
        last = dt.date.fromisoformat(raw_last) if raw_last else first + (default[1] - default[0])
    except ValueError:
        return (*default, _("Enter the days as year-month-day, e.g. 2026-12-01."))
    if last < first:
        return (*default, _("The last day cannot be before the first day."))
    if (last - first).days >= WORKLIST_MAX_DAYS:
        return (*default, _("Show at most 31 days at a time."))
    return first, last, None


@role_required(*STAFF)
def worklist(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    first, last, range_error = _visit_range(request)
    visits = list(selectors.visits_between(user=user, first=first, last=last))
    days = [(day, [v for v in visits if v.day == day]) for day in sorted({v.day for v in visits})]
    return render(
        request,
        "enrollment/sites/worklist.html",
        {
            "visit_days": days,
            "first": first,
            "last": last,
            "today": timezone.localdate(),
            "range_error": range_error,
            "truncated": len(visits) >= selectors.WORKLIST_LIMIT,
            "duplicates": selectors.duplicates_open(user=user),
            "invitations": selectors.invitations_unclaimed(user=user),
            "find_form": FindForm(),
        },
    )


@role_required(*STAFF)
def find(request: HttpRequest) -> HttpResponse:
    """Exact lookup by code, phone or e-mail (blind index). There is no partial search."""
    form = FindForm(posted(request))
    not_found = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        found = vault.participant_find(
            by=current_user(request),
            code=data.get("code") or None,
            phone=data.get("phone") or None,
            email=data.get("email") or None,
        )
        if found is not None:
            return redirect("enrollment:site_participant", code=found.code)
        not_found = True
    return render(request, "enrollment/sites/find.html", {"form": form, "not_found": not_found})


@role_required(*STAFF)
def enroll(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    sites = selectors.sites_of(user)
    form = PatientForm(posted(request), sites=sites)
    duplicate = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            participant = participant_enroll_patient(
                by=user,
                site=data["site"],
                cohort=data["cohort"],
                profile=form.profile(),
                sex=data["sex"] or "unknown",
                external_ref=data["external_ref"],
                referring_clinician=data["referring_clinician"],
                has_legal_representative=data["has_legal_representative"],
                confirm_not_duplicate=data["confirm_not_duplicate"],
            )
        except DuplicateRegistration as exc:
            duplicate = True
            form.add_error(None, exc.messages)
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(
                request,
                particle_format(
                    _("Patient enrolled with code %(code)s. Next: the steps below."),
                    {"code": participant.code},
                ),
            )
            return redirect("enrollment:site_participant", code=participant.code)
    return render(request, "enrollment/sites/enroll.html", {"form": form, "duplicate": duplicate})


@role_required(*STAFF)
def participant_detail(request: HttpRequest, code: str) -> HttpResponse:
    participant = _participant(request, code)
    profile = vault.personal_data_read(
        participant=participant, by=current_user(request), reason="coordinator participant page"
    )
    return render(
        request,
        "enrollment/sites/participant.html",
        {
            "participant": participant,
            "profile": profile,
            "visits": selectors.participant_visits(participant)[:20],
            "flags": selectors.duplicate_flags_marked(
                user=current_user(request),
                flags=participant.duplicate_flags.filter(resolved_at__isnull=True).select_related(
                    "matches"
                ),
            ),
            "screening": selectors.screening_latest(participant),
            "next_steps": participant_next_steps(participant),
            "can_screen": participant.status
            in (ParticipantStatus.REGISTERED, ParticipantStatus.INELIGIBLE),
        },
    )


@role_required(*STAFF)
def participant_screening(request: HttpRequest, code: str) -> HttpResponse:
    participant = _participant(request, code)
    form = ScreeningForm(posted(request), questions=screening_questions_for(participant.cohort))
    if request.method == "POST" and form.is_valid():
        try:
            result = participant_screen(
                participant=participant, answers=form.answers(), by=current_user(request)
            )
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            if result.eligible:
                messages.success(request, _("Screened: eligible."))
            else:
                messages.warning(request, _("Screened: not eligible."))
            return redirect("enrollment:site_participant", code=participant.code)
    return render(
        request, "enrollment/sites/screening.html", {"form": form, "participant": participant}
    )


@role_required(*STAFF)
@require_POST
def invitation_new(request: HttpRequest, code: str) -> HttpResponse:
    """Issue a code and show the printable letter. The code is shown this once only."""
    participant = _participant(request, code)
    user = current_user(request)
    try:
        invitation, invitation_code = invitation_issue(participant=participant, by=user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("enrollment:site_participant", code=participant.code)
    profile = vault.personal_data_read(participant=participant, by=user, reason="invitation letter")
    return render(
        request,
        "enrollment/sites/invitation_letter.html",
        {
            "participant": participant,
            "profile": profile,
            "invitation": invitation,
            "invitation_code": invitation_code,
            "portal_url": request.build_absolute_uri("/"),
        },
    )


@role_required(*STAFF)
@require_POST
def visit_outcome(request: HttpRequest, visit_id: int) -> HttpResponse:
    visit = get_scoped_or_404(
        current_user(request), Visit.objects.select_related("participant"), pk=visit_id
    )
    attended = request.POST.get("outcome") == "attended"
    try:
        visit_outcome_record(visit=visit, attended=attended, by=current_user(request))
    except VisitRefused as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("%(code)s: recorded as attended.") % {"code": visit.participant.code}
            if attended
            else _("%(code)s: recorded as not come.") % {"code": visit.participant.code},
        )
    return redirect("enrollment:site_worklist")


@role_required(*STAFF, Role.DATA_STEWARD)
@require_POST
def duplicate_resolve(request: HttpRequest, flag_id: int) -> HttpResponse:
    user = current_user(request)
    flag = get_scoped_or_404(
        user, DuplicateFlag.objects.select_related("participant", "matches"), pk=flag_id
    )
    (marked,) = selectors.duplicate_flags_marked(user=user, flags=[flag])
    if marked.elsewhere:
        # The other participant is at a site this coordinator cannot see: a data steward decides.
        raise deny(
            user, object_type="enrollment.duplicateflag", object_id=flag_id, reason="other site"
        )
    vault.duplicate_flag_resolve(flag=flag, by=user)
    messages.success(
        request,
        _("%(code)s: marked as checked, not a duplicate.") % {"code": flag.participant.code},
    )
    if has_role(user, Role.DATA_STEWARD) and not has_role(user, *STAFF):
        return redirect("enrollment:duplicates_cross_site")
    return redirect("enrollment:site_worklist")


@role_required(Role.DATA_STEWARD, Role.ADMIN)
def duplicates_cross_site(request: HttpRequest) -> HttpResponse:
    """Possible duplicates across two sites: only a data steward sees both codes and decides."""
    return render(
        request,
        "enrollment/sites/duplicates_cross_site.html",
        {"flags": selectors.duplicates_cross_site_open()},
    )


@role_required(*STAFF)
def import_referrals(request: HttpRequest) -> HttpResponse:
    user = current_user(request)
    form = ImportForm(
        posted(request),
        request.FILES if request.method == "POST" else None,
        sites=selectors.sites_of(user),
    )
    result = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = referrals_import(site=form.cleaned_data["site"], by=user, data=upload.read())
        except ImportRefused as exc:
            form.add_error("file", exc.messages)
    columns = sorted({name for name, field in COLUMNS.items() if name == field and name.isascii()})
    return render(
        request,
        "enrollment/sites/import.html",
        {"form": form, "result": result, "columns": columns, "required": REQUIRED},
    )
