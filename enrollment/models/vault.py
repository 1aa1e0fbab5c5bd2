"""The personal-data vault: encrypted identifying fields and blind indexes.

Read and write through ``enrollment.vault`` only: it encrypts, decrypts, keeps the blind indexes in
step and audits staff reads. Nothing else should touch the encrypted columns.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from .core import Participant

__all__ = ["DuplicateFlag", "DuplicateMatch", "PersonalData"]

# The encrypted columns; each holds "<key id>:<base64(nonce + AES-GCM ciphertext)>" or "".
ENCRYPTED_FIELDS = (
    "name",
    "latin_name",
    "birth_date",
    "phone",
    "email",
    "address",
    "guardian_name",
    "guardian_phone",
    "guardian_relationship",
)


class PersonalData(models.Model):
    """Identifying data of one participant, encrypted field by field.

    The associated data of each value is ``enrollment_personaldata|<participant id>|<field>``, so
    a value is bound to its row and column. ``key_id`` names the key every value of the row was
    sealed with (they are always written together), which lets key rotation find old rows fast.
    """

    participant = models.OneToOneField(
        Participant, primary_key=True, on_delete=models.CASCADE, related_name="personal_data"
    )
    name = models.TextField()
    latin_name = models.TextField(blank=True, default="")
    birth_date = models.TextField()
    phone = models.TextField(blank=True, default="")
    email = models.TextField(blank=True, default="")
    address = models.TextField(blank=True, default="")
    guardian_name = models.TextField(blank=True, default="")
    guardian_phone = models.TextField(blank=True, default="")
    guardian_relationship = models.TextField(blank=True, default="")
    key_id = models.CharField(max_length=16)
    email_index = models.CharField(max_length=64, blank=True)
    phone_index = models.CharField(max_length=64, blank=True)
    name_birth_index = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name = _("personal data")
        verbose_name_plural = _("personal data")
        # Plain b-tree indexes for exact lookups only (db_index on a CharField would add a second,
        # pattern-matching index on PostgreSQL that nothing uses and every insert pays for).
        indexes = [
            models.Index(fields=["email_index"], name="personaldata_email_bidx"),
            models.Index(fields=["phone_index"], name="personaldata_phone_bidx"),
            models.Index(fields=["name_birth_index"], name="personaldata_namebirth_bidx"),
            models.Index(fields=["key_id"], name="personaldata_key_id"),
        ]

    def __str__(self) -> str:
        return f"personal data of participant #{self.participant_id}"


class DuplicateMatch(models.TextChoices):
    EMAIL = "email", _("same e-mail address")
    PHONE = "phone", _("same mobile phone number")
    NAME_BIRTH = "name_birth", _("same name and birth date")


class DuplicateFlag(models.Model):
    """A possible duplicate registration, for a coordinator to look at. Nothing is merged."""

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="duplicate_flags"
    )
    matches = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="+")
    matched_on = models.CharField(max_length=16, choices=DuplicateMatch.choices)
    flagged_at = models.DateTimeField(db_default=Now())
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    scope_site_path = "participant__site_id"
    scope_owner_path = "participant__user_id"
    # Set for a reader who cannot see the matching participant's site (never stored).
    elsewhere = False

    class Meta:
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "matches", "matched_on"], name="duplicateflag_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["participant"],
                condition=models.Q(resolved_at__isnull=True),
                name="duplicateflag_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} ~ {self.matches_id} ({self.matched_on})"
