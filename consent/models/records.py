"""What goes with a ledger event: stored artifacts, quality checks and PDF receipts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from .ledger import ConsentEvent

__all__ = [
    "NOTE_KINDS",
    "ArtifactKind",
    "ConsentArtifact",
    "ConsentQualityCheck",
    "ConsentReceipt",
    "LedgerVerification",
]


class ArtifactKind(models.TextChoices):
    SIGNATURE = "signature", _("Drawn signature")
    COUNTERSIGNATURE = "countersignature", _("Investigator countersignature")
    PAPER_FORM = "paper_form", _("Scanned paper form")
    WITNESS_SIGNATURE = "witness_signature", _("Impartial witness's signature")
    # Text notes (JSON with a random salt, so the hash in the ledger cannot be guessed back).
    WITNESS_NAME = "witness_name", _("Impartial witness's name")
    RELATIONSHIP_NOTE = "relationship_note", _("Relationship, in the signer's words")
    WITHDRAWAL_NOTE = "withdrawal_note", _("Withdrawal request, in the staff member's words")


# Artifacts that hold text rather than an image or a scan.
NOTE_KINDS = frozenset(
    {ArtifactKind.WITNESS_NAME, ArtifactKind.RELATIONSHIP_NOTE, ArtifactKind.WITHDRAWAL_NOTE}
)


def artifact_path(instance: ConsentArtifact, filename: str) -> str:
    # Named by hash only: no participant data in file names.
    return f"consent/artifacts/{instance.sha256[:2]}/{instance.sha256}{_suffix(filename)}"


def receipt_path(instance: ConsentReceipt, filename: str) -> str:
    return f"consent/receipts/{instance.event_id}-{instance.sha256[:16]}.pdf"


def _suffix(filename: str) -> str:
    dot = filename.rfind(".")
    return filename[dot:].lower() if dot >= 0 else ""


class ConsentArtifact(models.Model):
    """A file that belongs to an event (signature image, scanned form). Append-only.

    The event stores the same SHA-256, so the hash chain vouches for the file's content.
    """

    event = models.ForeignKey(ConsentEvent, on_delete=models.DO_NOTHING, related_name="artifacts")
    kind = models.CharField(max_length=24, choices=ArtifactKind.choices)
    file = models.FileField(upload_to=artifact_path, max_length=200)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "kind"], name="consentartifact_unique_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of event {self.event_id}"


class ConsentQualityCheck(models.Model):
    """A second staff member's check of an in-person consent. Append-only; one per event."""

    event = models.OneToOneField(
        ConsentEvent, on_delete=models.DO_NOTHING, related_name="quality_check"
    )
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    checked_at = models.DateTimeField(db_default=Now())
    signature_present = models.BooleanField(_("signature present"))
    date_present = models.BooleanField(_("date of signing present and plausible"))
    printed_name_present = models.BooleanField(_("printed name present"))
    right_version = models.BooleanField(_("right version for language and age"))
    passed = models.BooleanField()
    note = models.CharField(_("note"), max_length=500, blank=True)

    scope_site_path = "event__participant__site_id"

    class Meta:
        verbose_name = _("consent quality check")
        verbose_name_plural = _("consent quality checks")

    def __str__(self) -> str:
        return f"QC of event {self.event_id}: {'passed' if self.passed else 'failed'}"


class ConsentReceipt(models.Model):
    """The PDF receipt of one signed event, made after the commit by a Celery task.

    The row is claimed first (an empty ``file``), then the PDF made under its lock, so a worker and
    a web download never both render or store it."""

    event = models.OneToOneField(ConsentEvent, on_delete=models.DO_NOTHING, related_name="receipt")
    file = models.FileField(upload_to=receipt_path, max_length=200)
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(db_default=Now())
    emailed_at = models.DateTimeField(null=True, blank=True)
    # Set by whoever takes the mailing; a claim older than a few minutes was lost with its worker.
    mail_claimed_at = models.DateTimeField(null=True, blank=True)

    scope_site_path = "event__participant__site_id"
    scope_owner_path = "event__participant__user_id"

    def __str__(self) -> str:
        return f"receipt of event {self.event_id}"


class LedgerVerification(models.Model):
    """One run of the ledger verification (nightly, or asked for by an ethics reviewer)."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    started_at = models.DateTimeField(db_default=Now())
    finished_at = models.DateTimeField(null=True, blank=True)
    events = models.PositiveBigIntegerField(default=0)
    chains = models.PositiveBigIntegerField(default=0)
    broken_chains = models.PositiveIntegerField(default=0)
    # The first broken events (at most 100): event id, participant code, entry, problem.
    findings = models.JSONField(default=list, blank=True)
    seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("ledger verification")
        verbose_name_plural = _("ledger verifications")

    def __str__(self) -> str:
        return f"verification {self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None

    @property
    def ok(self) -> bool:
        # Findings name broken chains and events whose stored file differs from its hash.
        return self.is_finished and self.broken_chains == 0 and not self.findings
