"""The public information pages: what taking part involves, who can join, sites, data, privacy.

Each page is a topic fixed in code (the home page links them all); what it says is written by
programme managers, in Korean and English Markdown. Every edit is a new ``InformationRevision``
(append-only: the database refuses changes), so that the privacy notice a visitor read on a given
day can always be shown again. The newest revision of a topic is the page.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

__all__ = ["InformationRevision", "InformationTopic"]


class InformationTopic(models.TextChoices):
    TAKING_PART = "taking-part", _("What taking part involves")
    WHO_CAN_JOIN = "who-can-join", _("Who can join")
    SITES = "sites", _("Participating sites")
    DATA_AND_SAMPLES = "data-and-samples", _("What happens to your data and samples")
    PRIVACY = "privacy", _("Privacy notice")
    FAQ = "faq", _("Frequently asked questions")
    CONTACT = "contact", _("Contact us")


class InformationRevision(models.Model):
    """One version of one information page, in Korean and (optionally) English.

    ``body_html_*`` is the sanitized rendering of ``body_markdown_*``, made by the service.
    """

    topic = models.CharField(_("page"), max_length=32, choices=InformationTopic.choices)
    title_ko = models.CharField(_("title (Korean)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    body_markdown_ko = models.TextField(_("text (Korean, Markdown)"))
    body_markdown_en = models.TextField(_("text (English, Markdown)"), blank=True)
    body_html_ko = models.TextField(editable=False)
    body_html_en = models.TextField(editable=False, blank=True)
    note = models.CharField(_("what changed"), max_length=300, blank=True)
    created_at = models.DateTimeField(db_default=Now())
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("information page revision")
        verbose_name_plural = _("information page revisions")
        indexes = [models.Index(fields=["topic", "-id"], name="information_topic_newest")]

    def __str__(self) -> str:
        return f"{self.topic} #{self.pk}"

    def _english(self) -> bool:
        return (get_language() or "").startswith("en") and bool(self.title_en)

    @property
    def title(self) -> str:
        return self.title_en if self._english() else self.title_ko

    @property
    def body_html(self) -> str:
        return self.body_html_en if self._english() else self.body_html_ko

    @property
    def language(self) -> str:
        """The language the page is shown in (Korean when there is no English text)."""
        return "en" if self._english() else "ko"
