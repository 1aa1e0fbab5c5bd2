"""Custody of samples: notes, shipments (manifests), fates after withdrawal, re-identification
requests and reconciliation with the dam."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from enrollment.models import Site

__all__ = [
    "Manifest",
    "ManifestLine",
    "ReconciliationFinding",
    "ReconciliationRun",
    "ReidentificationRequest",
    "SampleFate",
    "SampleNote",
]


class SampleNote(models.Model):
    """A processing or storage note on one tube. Append-only (database triggers): a correction is
    a new note."""

    class Kind(models.TextChoices):
        PROCESSING = "processing", _("Processing")
        STORAGE = "storage", _("Storage")

    scope_site_path = "sample__site_id"

    sample = models.ForeignKey(
        "dam.Sample", on_delete=models.DO_NOTHING, related_name="notes", verbose_name=_("sample")
    )
    kind = models.CharField(_("kind of note"), max_length=16, choices=Kind.choices)
    text = models.CharField(_("note"), max_length=1000)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    at = models.DateTimeField(_("written at"), db_default=Now())

    class Meta:
        verbose_name = _("sample note")
        verbose_name_plural = _("sample notes")
        ordering = ["sample", "at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["processing", "storage"]), name="samplenote_kind_known"
            )
        ]

    def __str__(self) -> str:
        return f"{self.sample_id} {self.kind}"


class Manifest(models.Model):
    """A shipment of one site's tubes to the dam. Built as a draft, then submitted once.

    On submission each line is checked against consent; lines that may not be sent are held back
    (with the reason) and the rest go into one ``manifest.submitted`` outbox message.
    """

    class State(models.TextChoices):
        DRAFT = "draft", _("Being prepared")
        SUBMITTED = "submitted", _("Submitted")

    scope_site_path = "site_id"

    code = models.CharField(_("manifest id"), max_length=40, unique=True)
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="manifests", verbose_name=_("site")
    )
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.DRAFT, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), db_default=Now())
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    outbox_message = models.ForeignKey(
        "dam.OutboxMessage",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # What the dam last reported (GET /ingest/v1/manifests/{id}), and when.
    dam_checked_at = models.DateTimeField(_("last checked with the dam"), null=True, blank=True)

    class Meta:
        verbose_name = _("manifest")
        verbose_name_plural = _("manifests")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["site", "state", "created_at"], name="manifest_site_state")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state="draft") | models.Q(shipped_at__isnull=False),
                name="manifest_submitted_has_shipped_at",
            )
        ]

    def __str__(self) -> str:
        return self.code


class ManifestLine(models.Model):
    """One tube on a manifest. A tube is sent in at most one manifest (database constraint)."""

    class State(models.TextChoices):
        PLANNED = "planned", _("To be sent")
        SENT = "sent", _("Sent")
        HELD_BACK = "held_back", _("Held back")

    class DamStatus(models.TextChoices):
        UNKNOWN = "", _("Not reported yet")
        RECEIVED = "received", _("Received by the dam")
        MISSING = "missing", _("Missing at the dam")

    scope_site_path = "manifest__site_id"

    manifest = models.ForeignKey(Manifest, on_delete=models.CASCADE, related_name="lines")
    sample = models.ForeignKey("dam.Sample", on_delete=models.PROTECT, related_name="lines")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PLANNED)
    hold_code = models.CharField(max_length=32, blank=True)
    hold_reason = models.CharField(max_length=255, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    added_at = models.DateTimeField(db_default=Now())
    dam_status = models.CharField(
        max_length=16, choices=DamStatus.choices, default=DamStatus.UNKNOWN, blank=True
    )
    dam_received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("manifest line")
        verbose_name_plural = _("manifest lines")
        ordering = ["manifest", "id"]
        constraints = [
            models.UniqueConstraint(fields=["manifest", "sample"], name="manifestline_once"),
            models.UniqueConstraint(
                fields=["sample"],
                condition=models.Q(state="sent"),
                name="manifestline_sample_sent_once",
            ),
        ]
        indexes = [models.Index(fields=["sample", "state"], name="manifestline_sample_state")]

    def __str__(self) -> str:
        return f"{self.manifest_id}:{self.sample_id}"


class SampleFate(models.Model):
    """What was done with a tube after its participant withdrew (no further use). Append-only:
    a correction is a new row that names the one it corrects; the latest row counts."""

    class Fate(models.TextChoices):
        DESTROYED = "destroyed", _("Destroyed")
        NOT_RECALLABLE = "not_recallable", _("Already distributed; cannot be recalled")
        KEPT_ANONYMIZED = "kept_anonymized", _("Kept anonymized, as the participant chose")

    scope_site_path = "sample__site_id"
    scope_owner_path = "sample__participant__user_id"

    sample = models.ForeignKey("dam.Sample", on_delete=models.DO_NOTHING, related_name="fates")
    fate = models.CharField(_("fate"), max_length=24, choices=Fate.choices)
    done_at = models.DateTimeField(_("done at"))
    note = models.CharField(_("note"), max_length=255, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), db_default=Now())
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+"
    )

    class Meta:
        verbose_name = _("sample fate")
        verbose_name_plural = _("sample fates")
        ordering = ["sample", "recorded_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(fate__in=["destroyed", "not_recallable", "kept_anonymized"]),
                name="samplefate_fate_known",
            )
        ]

    def __str__(self) -> str:
        return f"{self.sample_id}: {self.fate}"


class ReidentificationRequest(models.Model):
    """Pseudonym -> participant, asked by one data steward and decided by another.

    The participant is not stored here: it is resolved at the moment of the reveal, shown once to
    the requester, and never listed. Every step is also written to the audit log.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for a second data steward")
        APPROVED = "approved", _("Approved; not yet revealed")
        REFUSED = "refused", _("Refused")
        REVEALED = "revealed", _("Revealed")

    pseudonym = models.CharField(_("pseudonym"), max_length=32)
    domain = models.CharField(_("pseudonym domain"), max_length=32)
    reason = models.TextField(_("reason"))
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PENDING, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), db_default=Now())
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.CharField(_("decision note"), max_length=255, blank=True)
    revealed_at = models.DateTimeField(_("revealed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("re-identification request")
        verbose_name_plural = _("re-identification requests")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decided_by__isnull=True)
                | ~models.Q(decided_by=models.F("requested_by")),
                name="reidentification_second_person",
            )
        ]

    def __str__(self) -> str:
        return f"re-identification #{self.pk}"


class ReconciliationRun(models.Model):
    """One comparison of what the portal sent with what the dam reports holding."""

    class Outcome(models.TextChoices):
        RUNNING = "running", _("Running")
        MATCHED = "matched", _("Everything matches")
        DIFFERENCES = "differences", _("Differences found")
        UNREACHABLE = "unreachable", _("The dam could not be reached")

    started_at = models.DateTimeField(db_default=Now())
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.RUNNING)
    subjects_checked = models.PositiveIntegerField(default=0)
    manifests_checked = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = _("reconciliation run")
        verbose_name_plural = _("reconciliation runs")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"reconciliation #{self.pk} {self.outcome}"


class ReconciliationFinding(models.Model):
    """One difference found by a reconciliation run."""

    class Kind(models.TextChoices):
        SUBJECT_UNKNOWN = "subject_unknown", _("Subject not registered at the dam")
        SEQUENCE = "sequence", _("Message sequence differs")
        STATUS = "status", _("Status differs")
        SAMPLE_NOT_RECEIVED = "sample_not_received", _("Sample not received in time")

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="findings")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    subject = models.CharField(max_length=32, blank=True)
    manifest = models.ForeignKey(
        Manifest, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    barcode = models.CharField(max_length=32, blank=True)
    expected = models.CharField(max_length=64, blank=True)
    reported = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("reconciliation finding")
        verbose_name_plural = _("reconciliation findings")
        ordering = ["run", "kind", "id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject or self.barcode}"
