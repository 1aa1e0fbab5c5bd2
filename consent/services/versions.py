"""Writing consent versions and approving them (draft -> approved).

The body is Markdown, rendered to HTML and sanitized with nh3 once, when the draft is saved; the
screen and the PDF receipt both show that stored HTML, so what a participant read and what their
receipt quotes cannot differ.

On approval the version's text is hashed: SHA-256 over a canonical JSON of everything a participant
is shown (title, rendered body, items, comprehension questions) and what identifies it (form, label,
language, IRB number and date). From then on the database refuses any change to that content.
Activation (approved -> active) is ``consent.services.activation.version_activate``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit import audit_record
from portal.korean import particle_format
from portal.markdown_text import markdown_render
from portal.models import User

from ..audit import Action
from ..models import ComprehensionQuestion, ConsentForm, ConsentItem, ConsentVersion

__all__ = [
    "ItemSpec",
    "QuestionSpec",
    "markdown_render",
    "version_approve",
    "version_create",
    "version_text_document",
    "version_text_sha256",
    "version_update_draft",
]


_DUO = re.compile(r"^DUO:\d{7}$")
_ITEM_CODE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")


@dataclass(frozen=True)
class ItemSpec:
    code: str
    title: str
    text: str
    required: bool = False
    duo_codes: Sequence[str] = ()


@dataclass(frozen=True)
class QuestionSpec:
    text: str
    choices: Sequence[str]
    correct_choice: int
    explanation: str = ""


def _check_items(items: Sequence[ItemSpec]) -> None:
    codes = [item.code for item in items]
    if not items:
        raise ValidationError(_("A consent version needs at least one item."))
    if len(set(codes)) != len(codes):
        raise ValidationError(_("Each item code may appear only once in a version."))
    for item in items:
        if not _ITEM_CODE.match(item.code):
            raise ValidationError(
                particle_format(
                    _("“%(code)s” is not a valid item code (lower-case letters, digits, _)."),
                    {"code": item.code},
                )
            )
        if not item.title.strip() or not item.text.strip():
            raise ValidationError(
                _("Item “%(code)s” needs a title and a text.") % {"code": item.code}
            )
        bad = [c for c in item.duo_codes if not _DUO.match(c)]
        if bad:
            raise ValidationError(
                _("Item “%(code)s” has DUO terms that are not of the form DUO:0000000: %(bad)s")
                % {"code": item.code, "bad": ", ".join(bad)}
            )


def _check_questions(questions: Sequence[QuestionSpec]) -> None:
    for number, question in enumerate(questions, start=1):
        if len(question.choices) < 2:
            raise ValidationError(_("Question %(n)d needs at least two choices.") % {"n": number})
        if not 0 <= question.correct_choice < len(question.choices):
            raise ValidationError(
                _("Question %(n)d: the correct choice is not one of its choices.") % {"n": number}
            )


def _write_children(
    version: ConsentVersion, items: Sequence[ItemSpec], questions: Sequence[QuestionSpec]
) -> None:
    ConsentItem.objects.bulk_create(
        ConsentItem(
            version=version,
            code=item.code,
            order=order,
            title=item.title.strip(),
            text=item.text.strip(),
            required=item.required,
            duo_codes=list(item.duo_codes),
        )
        for order, item in enumerate(items, start=1)
    )
    ComprehensionQuestion.objects.bulk_create(
        ComprehensionQuestion(
            version=version,
            order=order,
            text=question.text.strip(),
            choices=[c.strip() for c in question.choices],
            correct_choice=question.correct_choice,
            explanation=question.explanation.strip(),
        )
        for order, question in enumerate(questions, start=1)
    )


@transaction.atomic
def version_create(
    *,
    form: ConsentForm,
    label: str,
    language: str,
    title: str,
    body_markdown: str,
    items: Sequence[ItemSpec],
    questions: Sequence[QuestionSpec] = (),
    irb_approval_number: str = "",
    irb_approved_on: dt.date | None = None,
    effective_from: dt.datetime | None = None,
    by: User | None,
) -> ConsentVersion:
    """A new draft version with its items and questions."""
    _check_items(items)
    _check_questions(questions)
    if ConsentVersion.objects.filter(form=form, label=label, language=language).exists():
        raise ValidationError(
            _("This form already has a version “%(label)s” in that language.") % {"label": label}
        )
    version = ConsentVersion.objects.create(
        form=form,
        label=label.strip(),
        language=language,
        title=title.strip(),
        body_markdown=body_markdown,
        body_html=markdown_render(body_markdown),
        irb_approval_number=irb_approval_number.strip(),
        irb_approved_on=irb_approved_on,
        effective_from=effective_from,
    )
    _write_children(version, items, questions)
    audit_record(action=Action.VERSION_CREATED, actor=by, obj=version)
    return version


@transaction.atomic
def version_update_draft(
    *,
    version: ConsentVersion,
    by: User | None,
    title: str | None = None,
    body_markdown: str | None = None,
    items: Sequence[ItemSpec] | None = None,
    questions: Sequence[QuestionSpec] | None = None,
    irb_approval_number: str | None = None,
    irb_approved_on: dt.date | None = None,
    effective_from: dt.datetime | None = None,
) -> ConsentVersion:
    """Change a draft. Anything else is refused: approved texts never change."""
    version = ConsentVersion.objects.select_for_update().get(pk=version.pk)
    if not version.is_draft:
        raise ValidationError(
            _("Only a draft can be changed; this version is %(status)s. Write a new version.")
            % {"status": version.get_status_display()}
        )
    update_fields: list[str] = []
    if title is not None:
        version.title = title.strip()
        update_fields.append("title")
    if body_markdown is not None:
        version.body_markdown = body_markdown
        version.body_html = markdown_render(body_markdown)
        update_fields += ["body_markdown", "body_html"]
    if irb_approval_number is not None:
        version.irb_approval_number = irb_approval_number.strip()
        update_fields.append("irb_approval_number")
    if irb_approved_on is not None:
        version.irb_approved_on = irb_approved_on
        update_fields.append("irb_approved_on")
    if effective_from is not None:
        version.effective_from = effective_from
        update_fields.append("effective_from")
    if update_fields:
        version.save(update_fields=update_fields)
    if items is not None or questions is not None:
        new_items = items if items is not None else _item_specs(version)
        new_questions = questions if questions is not None else _question_specs(version)
        _check_items(new_items)
        _check_questions(new_questions)
        version.items.all().delete()
        version.questions.all().delete()
        _write_children(version, new_items, new_questions)
    audit_record(action=Action.VERSION_UPDATED, actor=by, obj=version)
    return version


def _item_specs(version: ConsentVersion) -> list[ItemSpec]:
    return [
        ItemSpec(i.code, i.title, i.text, i.required, tuple(i.duo_codes))
        for i in version.items.order_by("order", "id")
    ]


def _question_specs(version: ConsentVersion) -> list[QuestionSpec]:
    return [
        QuestionSpec(q.text, tuple(q.choices), q.correct_choice, q.explanation)
        for q in version.questions.order_by("order", "id")
    ]


def version_text_document(version: ConsentVersion) -> dict[str, Any]:
    """What the text hash covers (see the module docstring)."""
    return {
        "form": version.form.code,
        "label": version.label,
        "language": version.language,
        "title": version.title,
        "body_html": version.body_html,
        "irb_approval_number": version.irb_approval_number,
        "irb_approved_on": version.irb_approved_on.isoformat() if version.irb_approved_on else "",
        "items": [
            {
                "code": i.code,
                "order": i.order,
                "title": i.title,
                "text": i.text,
                "required": i.required,
                "duo_codes": list(i.duo_codes),
            }
            for i in version.items.order_by("order", "id")
        ],
        "questions": [
            {"text": q.text, "choices": list(q.choices), "correct_choice": q.correct_choice}
            for q in version.questions.order_by("order", "id")
        ],
    }


def version_text_sha256(version: ConsentVersion) -> str:
    payload = json.dumps(
        version_text_document(version), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@transaction.atomic
def version_approve(
    *,
    version: ConsentVersion,
    by: User | None,
    irb_approval_number: str | None = None,
    irb_approved_on: dt.date | None = None,
) -> ConsentVersion:
    """Draft -> approved: needs the IRB number and date; hashes and freezes the text."""
    version = ConsentVersion.objects.select_for_update().get(pk=version.pk)
    if not version.is_draft:
        raise ValidationError(
            _("Only a draft can be approved; this version is %(status)s.")
            % {"status": version.get_status_display()}
        )
    if irb_approval_number is not None:
        version.irb_approval_number = irb_approval_number.strip()
    if irb_approved_on is not None:
        version.irb_approved_on = irb_approved_on
    if not version.irb_approval_number or version.irb_approved_on is None:
        raise ValidationError(_("Enter the IRB approval number and date before approving."))
    if version.irb_approved_on > timezone.localdate():
        raise ValidationError(_("The IRB approval date cannot be in the future."))
    _check_items(_item_specs(version))
    _check_questions(_question_specs(version))
    # Render again from the Markdown, so the hash covers exactly what the sanitizer produces today.
    version.body_html = markdown_render(version.body_markdown)
    version.text_sha256 = version_text_sha256(version)
    version.status = ConsentVersion.Status.APPROVED
    version.approved_at = timezone.now()
    version.approved_by = by
    version.save(
        update_fields=[
            "irb_approval_number",
            "irb_approved_on",
            "body_html",
            "text_sha256",
            "status",
            "approved_at",
            "approved_by",
        ]
    )
    audit_record(
        action=Action.VERSION_APPROVED,
        actor=by,
        obj=version,
        details={"text_sha256": version.text_sha256},
    )
    return version
