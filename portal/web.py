"""Helpers every app's views share: the signed-in user, the posted data, and a service's refusal
shown on the form that asked for it.

Services raise ``ValidationError``; a view turns it into form errors with ``form_errors_add``
instead of each app writing its own loop.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, QueryDict

from .models import User


def current_user(request: HttpRequest) -> User:
    """The signed-in user of a view that requires one (``login_required`` or ``role_required``)."""
    user = request.user
    if not isinstance(user, User):
        raise TypeError("this view needs a signed-in user")
    return user


def posted(request: HttpRequest) -> QueryDict | None:
    """The form data of a POST (even an empty one: a screen with no questions), else None."""
    return request.POST if request.method == "POST" else None


def form_errors_add(form: forms.BaseForm, exc: ValidationError) -> None:
    """Show a service's refusal on ``form``.

    Errors keyed by field (``ValidationError({"day": ...})``) go on those fields; an error whose
    ``code`` names a field of the form goes on that field; everything else goes on the form as a
    whole (fields the form does not have included).
    """
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
        return
    code = getattr(exc, "code", None)
    form.add_error(code if code and code in form.fields else None, exc.messages)
