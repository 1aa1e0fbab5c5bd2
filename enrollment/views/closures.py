"""Site closures: coordinators for their own sites, programme managers for every site."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.roles import Role, get_scoped_or_404, role_required, scope_queryset
from portal.web import current_user, form_errors_add, posted

from .. import selectors
from ..forms import SiteClosureForm
from ..models import SiteClosure
from ..services import site_closure_add, site_closure_remove, visits_booked_in_closure

KEEPERS = (Role.COORDINATOR, Role.PROGRAMME_MANAGER, Role.ADMIN)
LIST_LIMIT = 200


@role_required(*KEEPERS)
def closures(request: HttpRequest) -> HttpResponse:
    """The closures that still lie ahead, and a form to add one."""
    user = current_user(request)
    form = SiteClosureForm(posted(request), sites=selectors.sites_of(user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            closure = site_closure_add(
                site=data["site"],
                first_day=data["first_day"],
                last_day=data["last_day"],
                reason=data["reason"],
                by=user,
            )
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, _("The closure is saved; those days are no longer offered."))
            still_booked = visits_booked_in_closure(closure)
            if still_booked:
                messages.warning(
                    request,
                    _("%(n)d visits are still booked on those days: move them from the worklist.")
                    % {"n": still_booked},
                )
            return redirect("enrollment:site_closures")
    upcoming = (
        scope_queryset(user, SiteClosure.objects.all())
        .filter(last_day__gte=timezone.localdate())
        .select_related("site")
        .order_by("first_day", "site__code")[:LIST_LIMIT]
    )
    return render(request, "enrollment/sites/closures.html", {"form": form, "closures": upcoming})


@role_required(*KEEPERS)
@require_POST
def closure_remove(request: HttpRequest, closure_id: int) -> HttpResponse:
    user = current_user(request)
    closure = get_scoped_or_404(user, SiteClosure.objects.select_related("site"), pk=closure_id)
    site_closure_remove(closure=closure, by=user)
    messages.success(request, _("The closure is removed; those days can be booked again."))
    return redirect("enrollment:site_closures")
