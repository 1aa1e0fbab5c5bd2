"""Ledger certificates and report jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _


class LedgerCertificate(models.Model):
    """What the consent ledger held at one moment, in a form that can be checked later.

    ``digest`` is SHA-256 over the boundary, the event count and every participant's chain head
    (participant, sequence, hash) as of ``last_event_id``; it is printed on reports and e-mailed
    to the boards, so the anchor lives outside the database. ``heads`` keeps, compressed, each
    chain's head sequence and the first 8 bytes of its hash, only to *name* the chains that differ
    when a later check finds a different digest (see ``reports.certificates``). Append-only.
    """

    class Purpose(models.TextChoices):
        ON_DEMAND = "on_demand", _("On demand")
        NIGHTLY = "nightly", _("Nightly")
        REPORT = "report", _("For a report")

    issued_at = models.DateTimeField(_("issued at"), db_default=Now())
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    last_event_id = models.BigIntegerField(_("last event id"))
    events = models.BigIntegerField(_("events"))
    chains = models.BigIntegerField(_("chains"))
    ledger_ok = models.BooleanField(_("every chain verified"))
    broken_chains = models.IntegerField(_("broken chains"), default=0)
    # Not unique: two certificates of an unchanged ledger have the same digest.
    digest = models.CharField(_("digest"), max_length=64, db_index=True)
    heads = models.BinaryField()
    seconds = models.FloatField(default=0)
    # Verification incremental from an earlier certificate: its digest was recomputed and found
    # unchanged (so every event up to its boundary is as it was when it was verified), and only
    # the events after its boundary were verified. Empty: every chain was verified in full.
    verified_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("verification continued from"),
    )

    class Meta:
        verbose_name = _("ledger certificate")
        verbose_name_plural = _("ledger certificates")
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return f"certificate {self.pk} {self.digest[:12]}"


class ReportJob(models.Model):
    """A report generated in the background: who asked, for what, how far it is, and the file.

    Parameters hold ids and dates only (never personal data). The file is encrypted with the
    vault's keys (``enrollment.vault.bytes_seal``) and removed when it expires.
    """

    class Kind(models.TextChoices):
        CONSENT_PDF = "consent_pdf", _("Consent report (PDF)")
        CONSENT_CSV = "consent_csv", _("Consent report (CSV)")
        RECRUITMENT_PDF = "recruitment_pdf", _("Recruitment report (PDF)")
        RECRUITMENT_CSV = "recruitment_csv", _("Recruitment report (CSV)")
        BIOBANK_PDF = "biobank_pdf", _("Biobank figures (PDF)")
        BIOBANK_CSV = "biobank_csv", _("Biobank figures (CSV)")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting")
        RUNNING = "running", _("Being generated")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    token = models.CharField(max_length=32, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    parameters = models.JSONField(default=dict)
    reason = models.CharField(max_length=255)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    # Scheduled board reports: the reviewers who may download it (user ids).
    recipients = models.JSONField(default=list, blank=True)
    language = models.CharField(max_length=8, default="ko")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(db_default=Now())
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    file_name = models.CharField(max_length=200, blank=True)
    stored_as = models.CharField(max_length=200, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    error = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"report job {self.pk} {self.kind} {self.status}"

    @property
    def is_programme(self) -> bool:
        """A programme manager's report (recruitment, biobank), not an ethics board's."""
        return not self.kind.startswith("consent_")

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.EXPIRED)
