"""Consent forms, versions, items and comprehension questions.

A ``ConsentForm`` (main consent, minor assent, return of genomic results, ...) has one
``ConsentVersion`` per label and language. A version is written as a draft, approved by the IRB
(its rendered text is then hashed and frozen), activated, and later superseded or retired.

Once a version leaves ``draft`` its content (body, items, questions, IRB fields, hash) cannot
change: the services never try, and database triggers refuse it as well (see the consent
migrations), because receipts and ledger events point at that exact text.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = [
    "ComprehensionQuestion",
    "ConsentForm",
    "ConsentFormKind",
    "ConsentItem",
    "ConsentLanguage",
    "ConsentVersion",
    "ItemCode",
    "VersionStatus",
]


class ConsentFormKind(models.TextChoices):
    MAIN = "main", _("Main consent")
    MINOR_ASSENT = "minor_assent", _("Assent of a minor")
    GENOMIC_RESULTS = "genomic_results", _("Return of genomic results")
    OTHER = "other", _("Other")


class ConsentLanguage(models.TextChoices):
    KO = "ko", _("Korean")
    EN = "en", _("English")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    APPROVED = "approved", _("Approved")
    ACTIVE = "active", _("Active")
    SUPERSEDED = "superseded", _("Superseded")
    RETIRED = "retired", _("Retired")


class ItemCode(models.TextChoices):
    """Item codes are stable across versions: checks and purposes refer to them.

    The last three cover what the Bioethics and Safety Act asks a consent for human-derived
    material to state (retention period; what happens on withdrawal; provision to third parties).
    Forms may use other codes too (``ConsentItem.code`` is free text), but these are the known ones.
    """

    DATA_SHARING = "data_sharing", _("Sharing of data for research")
    SAMPLE_STORAGE = "sample_storage", _("Storage of samples in the biobank")
    GENOMIC_ANALYSIS = "genomic_analysis", _("Genomic analysis")
    EHR_LINKAGE = "ehr_linkage", _("Linkage with medical records")
    RECONTACT = "recontact", _("Being contacted again")
    COMMERCIAL_USE = "commercial_use", _("Commercial research use")
    OVERSEAS_TRANSFER = "overseas_transfer", _("Transfer abroad")
    RETURN_OF_RESULTS = "return_of_results", _("Return of individual results")
    RETENTION_PERIOD = "retention_period", _("Retention period of samples")
    WITHDRAWAL_HANDLING = "withdrawal_handling", _("Samples and data on withdrawal")
    THIRD_PARTY_PROVISION = "third_party_provision", _("Provision to third parties")


class ConsentForm(models.Model):
    code = models.SlugField(_("code"), max_length=48, unique=True)
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=24, choices=ConsentFormKind.choices)

    class Meta:
        verbose_name = _("consent form")
        verbose_name_plural = _("consent forms")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.title


class ConsentVersion(models.Model):
    """One approved text of a form in one language.

    ``body_html`` is the sanitized rendering of ``body_markdown`` (made by the service, never by
    hand); the screen and the PDF receipt both show exactly this HTML. ``text_sha256`` is set on
    approval and covers the rendered body, the items and the questions.
    """

    Status = VersionStatus

    form = models.ForeignKey(ConsentForm, on_delete=models.PROTECT, related_name="versions")
    label = models.CharField(_("version label"), max_length=32)
    language = models.CharField(_("language"), max_length=8, choices=ConsentLanguage.choices)
    title = models.CharField(_("title"), max_length=200)
    body_markdown = models.TextField(_("body (Markdown)"))
    body_html = models.TextField(_("body (rendered)"), blank=True, editable=False)
    text_sha256 = models.CharField(_("text SHA-256"), max_length=64, blank=True, editable=False)
    irb_approval_number = models.CharField(_("IRB approval number"), max_length=64, blank=True)
    irb_approved_on = models.DateField(_("IRB approval date"), null=True, blank=True)
    effective_from = models.DateTimeField(_("effective from"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=VersionStatus.choices,
        default=VersionStatus.DRAFT,
        db_index=True,
    )
    created_at = models.DateTimeField(_("created at"), db_default=Now())
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The lifecycle after approval: set by activation and by superseding/retiring.
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("superseded or retired at"), null=True, blank=True)

    class Meta:
        verbose_name = _("consent version")
        verbose_name_plural = _("consent versions")
        ordering = ["form", "language", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["form", "label", "language"], name="consentversion_unique_label"
            ),
            # At most one active version per form and language.
            models.UniqueConstraint(
                fields=["form", "language"],
                condition=models.Q(status="active"),
                name="consentversion_one_active",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft") | ~models.Q(text_sha256=""),
                name="consentversion_hashed_unless_draft",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.form.code} {self.label} ({self.language})"

    @property
    def is_draft(self) -> bool:
        return self.status == VersionStatus.DRAFT

    def is_active(self, at: datetime | None = None) -> bool:
        """Was this version the one in force at ``at`` (default: now)?"""
        at = at or timezone.now()
        if self.status == VersionStatus.ACTIVE:
            start = self.effective_from or self.activated_at
            return start is None or start <= at
        if self.status in (VersionStatus.SUPERSEDED, VersionStatus.RETIRED):
            start = self.effective_from or self.activated_at
            return (
                start is not None and start <= at and (self.ended_at is None or at < self.ended_at)
            )
        return False


class ConsentItem(models.Model):
    """One choice the participant makes ("yes" or "no") under a stable code."""

    version = models.ForeignKey(ConsentVersion, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(
        _("code"),
        max_length=48,
        validators=[RegexValidator(r"^[a-z][a-z0-9_]*$")],
        help_text=_("Stable across versions, e.g. genomic_analysis."),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    title = models.CharField(_("short title"), max_length=200)
    text = models.TextField(_("text"))
    required = models.BooleanField(
        _("required to take part"),
        default=False,
        help_text=_("Participants must answer yes to this item to take part."),
    )
    duo_codes = models.JSONField(_("GA4GH DUO terms"), default=list, blank=True)

    class Meta:
        verbose_name = _("consent item")
        verbose_name_plural = _("consent items")
        ordering = ["version", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="consentitem_unique_code"),
        ]

    def __str__(self) -> str:
        return self.code


class ComprehensionQuestion(models.Model):
    """A short question the participant must answer correctly before signing."""

    version = models.ForeignKey(ConsentVersion, on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    text = models.TextField(_("question"))
    choices = models.JSONField(_("choices"), default=list)
    correct_choice = models.PositiveSmallIntegerField(_("correct choice (0-based)"))
    explanation = models.TextField(_("explanation shown after a wrong answer"), blank=True)

    class Meta:
        verbose_name = _("comprehension question")
        verbose_name_plural = _("comprehension questions")
        ordering = ["version", "order", "id"]

    def __str__(self) -> str:
        return f"Q{self.order}"
