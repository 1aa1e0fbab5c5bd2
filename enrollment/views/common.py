from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, QueryDict


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's refusal on the form, on the field it names when there is one."""
    field = getattr(exc, "code", None)
    messages = exc.messages
    if field and field in form.fields:
        form.add_error(field, messages)
    else:
        form.add_error(None, messages)


def posted(request: HttpRequest) -> QueryDict | None:
    """The form data of a POST (even an empty one: a screen with no questions), else None."""
    return request.POST if request.method == "POST" else None
