"""The public information pages, and their editor for programme managers."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from portal.roles import Role, role_required
from portal.web import current_user, form_errors_add

from ..forms.pages import InformationPageForm
from ..models import InformationTopic
from ..selectors.pages import (
    information_page_current,
    information_page_history,
    opening_days_label,
    sites_for_visitors,
)
from ..services.pages import information_page_revise

EDITORS = (Role.PROGRAMME_MANAGER, Role.ADMIN)


def _topic(slug: str) -> InformationTopic:
    if slug not in InformationTopic.values:
        raise Http404
    return InformationTopic(slug)


def information_page(request: HttpRequest, topic: str) -> HttpResponse:
    """One information page, public; the list of sites comes from the sites themselves."""
    chosen = _topic(topic)
    context: dict[str, Any] = {
        "topic": chosen,
        "topics": list(InformationTopic),
        "revision": information_page_current(chosen),
    }
    if chosen == InformationTopic.SITES:
        context["sites"] = list(sites_for_visitors())
        context["opening_days"] = opening_days_label()
    return render(request, "enrollment/information/page.html", context)


@role_required(*EDITORS)
def information_manage(request: HttpRequest) -> HttpResponse:
    pages = [(topic, information_page_current(topic)) for topic in InformationTopic]
    return render(request, "enrollment/information/manage.html", {"pages": pages})


@role_required(*EDITORS)
def information_edit(request: HttpRequest, topic: str) -> HttpResponse:
    chosen = _topic(topic)
    current = information_page_current(chosen)
    initial = (
        {
            "title_ko": current.title_ko,
            "body_markdown_ko": current.body_markdown_ko,
            "title_en": current.title_en,
            "body_markdown_en": current.body_markdown_en,
        }
        if current
        else {}
    )
    form = InformationPageForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            information_page_revise(
                topic=chosen,
                title_ko=data["title_ko"],
                body_ko=data["body_markdown_ko"],
                title_en=data["title_en"],
                body_en=data["body_markdown_en"],
                note=data["note"],
                by=current_user(request),
            )
        except ValidationError as exc:
            form_errors_add(form, exc)
        else:
            messages.success(request, _("The page is published."))
            return redirect("enrollment:information_manage")
    return render(
        request,
        "enrollment/information/edit.html",
        {"topic": chosen, "form": form, "history": information_page_history(chosen)},
    )
