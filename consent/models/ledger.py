"""The consent ledger (append-only, hash-chained) and its projection.

Every consent decision is one ``ConsentEvent``. Events of one participant form a chain: event
``n`` stores the hash of event ``n - 1`` (``prev_hash``) and its own SHA-256 over a canonical JSON
of every stored field (see ``consent.ledger``), so changing any byte of any event breaks the chain
from there on. The table is append-only in the database; a correction is a new event (``void``)
that points at the one it corrects.

``ConsentState`` is a projection of the ledger, one row per participant, kept current in the same
transaction as each event and rebuildable from the ledger at any time.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from .forms import ConsentVersion

__all__ = [
    "Channel",
    "ConsentEvent",
    "ConsentState",
    "EventKind",
    "RepresentativeRelation",
    "SamplesFate",
    "SignatureMethod",
    "SignerKind",
    "StateStatus",
    "WithdrawalLevel",
    "WithdrawalReason",
]


class EventKind(models.TextChoices):
    GRANT = "grant", _("Consent given")
    UPDATE = "update", _("Choices changed")
    WITHDRAW = "withdraw", _("Withdrawal")
    RECONSENT = "reconsent", _("Consent renewed")
    VOID = "void", _("Consent voided")
    # A participant enrolled as a minor came of age: from now on they decide for themselves.
    MAJORITY = "majority", _("Came of age")


class SignerKind(models.TextChoices):
    SELF = "self", _("The participant")
    LEGAL_REPRESENTATIVE = "legal_representative", _("A legal representative")


class RepresentativeRelation(models.TextChoices):
    """How a legal representative is related to the participant: a code in the ledger, never
    typed text (anything more, "other: ...", goes to the vault as a note)."""

    PARENT = "parent", _("Parent")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    SIBLING = "sibling", _("Sibling")
    LEGAL_GUARDIAN = "legal_guardian", _("Legal guardian")
    OTHER = "other", _("Other")


class WithdrawalReason(models.TextChoices):
    """How a withdrawal recorded by staff was asked for: a code in the ledger; anything more
    ("other: ...") goes to the vault as a note."""

    IN_PERSON = "in_person", _("Asked in person at the site")
    PHONE = "phone", _("Phone call")
    LETTER = "letter", _("Letter")
    EMAIL = "email", _("E-mail")
    OTHER = "other", _("Other")


class SignatureMethod(models.TextChoices):
    TYPED_NAME = "typed_name", _("Typed full name")
    DRAWN = "drawn", _("Drawn signature")
    PAPER = "paper", _("Signed on paper")


class Channel(models.TextChoices):
    WEB = "web", _("On the web")
    SITE_TABLET = "site_tablet", _("On a site tablet")
    SCANNED_PAPER = "scanned_paper", _("Scanned paper form")


class WithdrawalLevel(models.TextChoices):
    NO_FURTHER_CONTACT = "no_further_contact", _("No further contact")
    NO_FURTHER_COLLECTION = "no_further_collection", _("No further collection")
    NO_FURTHER_USE = "no_further_use", _("No further use")


class SamplesFate(models.TextChoices):
    DESTROY = "destroy", _("Destroy samples and data")
    RETAIN_ANONYMIZED = "retain_anonymized", _("Keep them anonymized")


class ConsentEvent(models.Model):
    """One entry of a participant's consent ledger. Append-only (database triggers).

    ``signed_at`` is when the person signed (authored; a paper form may be entered days later);
    ``recorded_at`` is the database's clock when the event was written. Decisions use
    ``signed_at``. Artifacts (drawn signature, countersignature, scanned form, the impartial
    witness's name and signature, free-text notes) are stored apart, encrypted, and named here by
    their SHA-256, so the hash chain covers them too.

    ``representative_relationship`` and ``reason`` held typed text in events recorded before the
    codes (``representative_relation``, ``withdrawal_reason``); they stay as they were signed.
    New events leave ``representative_relationship`` empty and use ``reason`` only for the
    portal's own words (a void's failed checks, coming of age).
    """

    Kind = EventKind

    participant = models.ForeignKey(
        "enrollment.Participant", on_delete=models.DO_NOTHING, related_name="consent_events"
    )
    sequence = models.PositiveIntegerField()
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    version = models.ForeignKey(
        ConsentVersion,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="events",
    )
    version_sha256 = models.CharField(max_length=64, blank=True)
    choices = models.JSONField(default=dict, blank=True)
    signed_at = models.DateTimeField()
    recorded_at = models.DateTimeField(db_default=Now())
    signer_kind = models.CharField(
        max_length=24, choices=SignerKind.choices, default=SignerKind.SELF
    )
    representative_relationship = models.CharField(max_length=64, blank=True)
    method = models.CharField(max_length=16, choices=SignatureMethod.choices, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    countersigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    withdrawal_level = models.CharField(max_length=24, choices=WithdrawalLevel.choices, blank=True)
    samples_fate = models.CharField(max_length=24, choices=SamplesFate.choices, blank=True)
    voids = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="voided_by"
    )
    reason = models.CharField(max_length=255, blank=True)
    # Keyed digest of the typed name (the name itself stays in the vault), and artifact hashes.
    signer_name_digest = models.CharField(max_length=64, blank=True)
    signature_sha256 = models.CharField(max_length=64, blank=True)
    countersignature_sha256 = models.CharField(max_length=64, blank=True)
    document_sha256 = models.CharField(max_length=64, blank=True)
    # Hashed only by ledger format 2 (see ``consent.ledger.chain``): empty on every older event.
    representative_relation = models.CharField(
        max_length=24, choices=RepresentativeRelation.choices, blank=True, default="", db_default=""
    )
    representative_note_sha256 = models.CharField(
        max_length=64, blank=True, default="", db_default=""
    )
    withdrawal_reason = models.CharField(
        max_length=24, choices=WithdrawalReason.choices, blank=True, default="", db_default=""
    )
    withdrawal_note_sha256 = models.CharField(max_length=64, blank=True, default="", db_default="")
    witness_name_sha256 = models.CharField(max_length=64, blank=True, default="", db_default="")
    witness_signature_sha256 = models.CharField(
        max_length=64, blank=True, default="", db_default=""
    )
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, unique=True)
    verification_code = models.CharField(max_length=16, db_index=True)

    scope_site_path = "participant__site_id"
    scope_owner_path = "participant__user_id"

    class Meta:
        verbose_name = _("consent event")
        verbose_name_plural = _("consent events")
        ordering = ["participant", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "sequence"], name="consentevent_unique_sequence"
            ),
            models.CheckConstraint(condition=models.Q(sequence__gte=1), name="consentevent_seq_1"),
            # Digests are lower-case hex and codes come from fixed lists. The database holds them to
            # that even for a superuser bypassing triggers, which lets ledger verification in SQL
            # quote these columns without escaping (see consent.ledger).
            *[
                models.CheckConstraint(
                    condition=models.Q(**{f"{name}__regex": r"^([0-9a-f]{64})?$"}),
                    name=f"consentevent_{name}_hex",
                )
                for name in (
                    "version_sha256",
                    "signer_name_digest",
                    "signature_sha256",
                    "countersignature_sha256",
                    "document_sha256",
                    "representative_note_sha256",
                    "withdrawal_note_sha256",
                    "witness_name_sha256",
                    "witness_signature_sha256",
                    "prev_hash",
                    "hash",
                )
            ],
            *[
                models.CheckConstraint(
                    condition=models.Q(**{f"{name}__in": values}),
                    name=f"consentevent_{name}_known",
                )
                for name, values in (
                    ("kind", EventKind.values),
                    ("signer_kind", SignerKind.values),
                    ("method", ["", *SignatureMethod.values]),
                    ("channel", Channel.values),
                    ("withdrawal_level", ["", *WithdrawalLevel.values]),
                    ("samples_fate", ["", *SamplesFate.values]),
                    ("representative_relation", ["", *RepresentativeRelation.values]),
                    ("withdrawal_reason", ["", *WithdrawalReason.values]),
                )
            ],
        ]
        indexes = [models.Index(fields=["recorded_at"], name="consentevent_recorded_idx")]

    def __str__(self) -> str:
        return f"{self.participant_id}#{self.sequence} {self.kind}"

    @property
    def is_in_person(self) -> bool:
        return self.channel in (Channel.SITE_TABLET, Channel.SCANNED_PAPER)

    @property
    def relationship_label(self) -> str:
        """The representative's relationship for people: the code's label (the text typed into
        events recorded before the codes)."""
        if self.representative_relation:
            return str(self.get_representative_relation_display())
        return self.representative_relationship

    @property
    def reason_label(self) -> str:
        """Why (or how) the event came about, for people: a withdrawal's code label, else the
        portal's own words (or the text typed into withdrawals recorded before the codes)."""
        if self.withdrawal_reason:
            return str(self.get_withdrawal_reason_display())
        return self.reason

    @property
    def has_witness(self) -> bool:
        return bool(self.witness_name_sha256)


class StateStatus(models.TextChoices):
    ACTIVE = "active", _("Consent in force")
    RECONSENT_DUE = "reconsent_due", _("Re-consent due")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    VOIDED = "voided", _("Consent voided; to be signed again")


class ConsentState(models.Model):
    """The current consent of one participant: a projection of the ledger (never edited by hand).

    ``first_granted_at`` maps each item code to the first time it was answered "yes" (ISO UTC), so
    that re-consent and changes never erase when a permission began.
    """

    Status = StateStatus

    participant = models.OneToOneField(
        "enrollment.Participant",
        primary_key=True,
        on_delete=models.DO_NOTHING,
        related_name="consent_state",
    )
    version = models.ForeignKey(
        ConsentVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=16, choices=StateStatus.choices, db_index=True)
    choices = models.JSONField(default=dict, blank=True)
    first_granted_at = models.JSONField(default=dict, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    withdrawal_level = models.CharField(max_length=24, choices=WithdrawalLevel.choices, blank=True)
    samples_fate = models.CharField(max_length=24, choices=SamplesFate.choices, blank=True)
    # Came of age while a legal representative's consent was in force: their own is due.
    majority_since = models.DateTimeField(null=True, blank=True)
    last_event = models.ForeignKey(
        ConsentEvent, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    event_count = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(db_default=Now())

    scope_site_path = "participant__site_id"
    scope_owner_path = "participant__user_id"

    class Meta:
        verbose_name = _("consent state")
        verbose_name_plural = _("consent states")
        indexes = [models.Index(fields=["version", "status"], name="consentstate_version_idx")]

    def __str__(self) -> str:
        return f"{self.participant_id}: {self.status}"
