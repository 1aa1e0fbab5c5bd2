"""Data steward pages of the dam link: delivery status and lag, dead letters and their retry."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.models import User
from portal.roles import Role, deny, role_required

from .models import OutboxMessage, OutboxState
from .selectors import dead_letters, outbox_failing, outbox_status
from .services.outbox import outbox_retry

STEWARDS = (Role.DATA_STEWARD, Role.ADMIN)


@role_required(*STEWARDS)
def delivery_status(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "dam/delivery_status.html",
        {"status": outbox_status(), "failing": outbox_failing()},
    )


@role_required(*STEWARDS)
def dead_letter_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(dead_letters(), 50).get_page(request.GET.get("page"))
    return render(request, "dam/dead_letters.html", {"page": page})


@require_POST
@role_required(*STEWARDS)
def dead_letter_retry(request: HttpRequest, message_id: uuid.UUID) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    message = OutboxMessage.objects.filter(pk=message_id, state=OutboxState.DEAD).first()
    if message is None:
        raise deny(user, object_type="dam.outboxmessage", object_id=message_id, reason="not dead")
    try:
        outbox_retry(message=message, by=user, reason=request.POST.get("reason", "")[:255])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The message will be sent again."))
    return redirect("dam:dead_letters")
