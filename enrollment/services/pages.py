"""Writing the public information pages (programme managers)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from portal.audit import audit_record
from portal.markdown_text import markdown_render
from portal.models import User

from ..audit import Action
from ..models import InformationRevision, InformationTopic

__all__ = ["information_page_revise"]


@transaction.atomic
def information_page_revise(
    *,
    topic: str,
    title_ko: str,
    body_ko: str,
    title_en: str = "",
    body_en: str = "",
    note: str = "",
    by: User | None,
) -> InformationRevision:
    """Publish a new version of an information page; the earlier ones stay, unchanged.

    The Korean title and text are required. English is optional, but a title without a text (or a
    text without a title) would show half a page, so both or neither. The Markdown is rendered and
    sanitized here, once, with the same cleaner as consent texts.
    """
    if topic not in InformationTopic.values:
        raise ValidationError(_("There is no information page “%(topic)s”.") % {"topic": topic})
    title_ko, body_ko = title_ko.strip(), body_ko.strip()
    title_en, body_en = title_en.strip(), body_en.strip()
    errors: dict[str, str] = {}
    if not title_ko:
        errors["title_ko"] = _("Enter the Korean title.")
    if not body_ko:
        errors["body_markdown_ko"] = _("Enter the Korean text.")
    if title_en and not body_en:
        errors["body_markdown_en"] = _("Enter the English text, or leave the English title empty.")
    if body_en and not title_en:
        errors["title_en"] = _("Enter the English title, or leave the English text empty.")
    if errors:
        raise ValidationError(errors)
    revision = InformationRevision.objects.create(
        topic=topic,
        title_ko=title_ko,
        title_en=title_en,
        body_markdown_ko=body_ko,
        body_markdown_en=body_en,
        body_html_ko=markdown_render(body_ko),
        body_html_en=markdown_render(body_en) if body_en else "",
        note=note.strip(),
        created_by=by,
    )
    audit_record(
        action=Action.INFORMATION_PAGE_REVISED,
        actor=by,
        obj=revision,
        details={"topic": topic, "english": bool(body_en)},
    )
    return revision
