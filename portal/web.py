"""Helpers every app's views share: the signed-in user, the posted data, and a service's refusal
shown on the form that asked for it.

Services raise ``ValidationError``; a view turns it into form errors with ``form_errors_add``
instead of each app writing its own loop.
"""

from __future__ import annotations

from typing import Any, cast

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


class ErrorSummaryMixin:
    """A form that can list its errors at the top of the page and marks each field in error.

    After validation, every field with an error gets ``aria-invalid`` and ``aria-describedby``
    pointing at its message (``<name>-error`` in the template), and ``error_links`` lists each
    error with the id of the input it is about, for a summary whose links move to that input.
    """

    fields: dict[str, forms.Field]

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)  # type: ignore[misc]
        # Errors from validation and those a view adds afterwards (a refused password) alike.
        for name in cast(forms.BaseForm, self).errors:
            attrs = self.fields[name].widget.attrs if name in self.fields else None
            if attrs is None or attrs.get("aria-invalid"):
                continue
            described = [attrs.get("aria-describedby", ""), f"{name}-error"]
            attrs["aria-invalid"] = "true"
            attrs["aria-describedby"] = " ".join(d for d in described if d)

    def error_links(self) -> list[tuple[str, str, str]]:
        """``(input id, field label, message)`` per field error, in the order of the form;
        errors of the whole form come first with no link."""
        form = cast(forms.BaseForm, self)
        links: list[tuple[str, str, str]] = [("", "", str(e)) for e in form.non_field_errors()]
        for bound in form:
            for message in bound.errors:
                target = bound.id_for_label
                if isinstance(bound.field.widget, forms.RadioSelect):
                    target = f"{bound.auto_id}_0"  # the first choice: the link lands on the group
                links.append((target, str(bound.label), str(message)))
        return links
