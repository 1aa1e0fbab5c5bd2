"""Re-consent campaigns and their progress.

A campaign asks everyone who is due to re-consent for one version to do so. Its state lives in the
database, not in the task queue: each participant has one ``ReconsentInvitation`` (unique per
campaign and participant), and a worker that dies mid-batch leaves rows that the next run picks up.
Completion is not stored: it is read from ``ConsentState`` (the participant is on the campaign's
version, or has withdrawn), so it can never disagree with the ledger.

``OwnConsentRequest`` records that a participant enrolled as a minor, through a guardian, has come
of age and must now consent for themselves.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from .forms import ConsentVersion

__all__ = [
    "CampaignStatus",
    "InvitationOutcome",
    "OwnConsentRequest",
    "ReconsentCampaign",
    "ReconsentInvitation",
]


class CampaignStatus(models.TextChoices):
    RUNNING = "running", _("Sending")
    PAUSED = "paused", _("Paused")
    SENT = "sent", _("All invitations sent")
    CLOSED = "closed", _("Closed")


class ReconsentCampaign(models.Model):
    Status = CampaignStatus

    version = models.ForeignKey(
        ConsentVersion,
        on_delete=models.PROTECT,
        related_name="campaigns",
        verbose_name=_("version"),
    )
    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(
        _("status"), max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.RUNNING
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(_("started at"), db_default=Now())
    # Copied from settings when the campaign starts, so a running campaign keeps its pace.
    batch_size = models.PositiveIntegerField(_("e-mails per batch"))
    rate_per_minute = models.PositiveIntegerField(_("e-mails per minute"))
    reminder_after_days = models.PositiveSmallIntegerField(_("remind after (days)"))
    max_reminders = models.PositiveSmallIntegerField(_("reminders at most"))
    last_batch_at = models.DateTimeField(_("last batch sent at"), null=True, blank=True)
    # The one live chain of batch tasks: each scheduled batch carries this token and runs only
    # while it is still the campaign's; pausing, closing or restarting the chain replaces it.
    chain_token = models.CharField(max_length=32, blank=True, default="")
    # When the chain's next batch should start; the recovery sweep judges "overdue" by it.
    next_batch_due_at = models.DateTimeField(null=True, blank=True)
    # The same for the chain of reminder batches, which runs beside the first invitations'.
    reminder_chain_token = models.CharField(max_length=32, blank=True, default="")
    next_reminder_due_at = models.DateTimeField(null=True, blank=True)
    invited_count = models.PositiveIntegerField(_("participants invited"), default=0)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("re-consent campaign")
        verbose_name_plural = _("re-consent campaigns")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return self.name


class InvitationOutcome(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("E-mail sent")
    NO_ADDRESS = "no_address", _("No e-mail address: ask at the next site visit")
    NOT_NEEDED = "not_needed", _("Acted before the e-mail went out")


class ReconsentInvitation(models.Model):
    """One participant of a campaign. The invitation is claimed, the e-mail handed to the mail
    server, then ``sent_at`` recorded: a crash in between can at worst send one e-mail twice
    (after the claim expires), never skip one."""

    Outcome = InvitationOutcome

    campaign = models.ForeignKey(
        ReconsentCampaign, on_delete=models.CASCADE, related_name="invitations"
    )
    participant = models.ForeignKey(
        "enrollment.Participant", on_delete=models.PROTECT, related_name="reconsent_invitations"
    )
    # The site at the time of the campaign: completion per site stays stable if someone moves.
    site_id_at = models.BigIntegerField(null=True)
    outcome = models.CharField(
        max_length=16, choices=InvitationOutcome.choices, default=InvitationOutcome.PENDING
    )
    created_at = models.DateTimeField(db_default=Now())
    sent_at = models.DateTimeField(null=True, blank=True)
    reminder_count = models.PositiveSmallIntegerField(default=0)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    # Set when a worker takes the invitation to hand its e-mail to the relay (outside any
    # transaction); another worker leaves it alone until the claim is old enough to be a lost one.
    claimed_at = models.DateTimeField(null=True, blank=True)

    scope_site_path = "participant__site_id"
    scope_owner_path = "participant__user_id"

    class Meta:
        verbose_name = _("re-consent invitation")
        verbose_name_plural = _("re-consent invitations")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "participant"], name="reconsentinvitation_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["campaign", "outcome"], name="reconsentinv_pending_idx"),
            models.Index(fields=["campaign", "site_id_at"], name="reconsentinv_site_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.participant_id}"


class OwnConsentRequest(models.Model):
    """A participant enrolled as a minor who has turned 19 and must consent for themselves."""

    participant = models.OneToOneField(
        "enrollment.Participant", on_delete=models.PROTECT, related_name="own_consent_request"
    )
    came_of_age_on = models.DateField(_("came of age on"))
    flagged_at = models.DateTimeField(_("flagged at"), db_default=Now())
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)

    scope_site_path = "participant__site_id"
    scope_owner_path = "participant__user_id"

    class Meta:
        verbose_name = _("request for own consent")
        verbose_name_plural = _("requests for own consent")

    def __str__(self) -> str:
        return f"{self.participant_id} ({self.came_of_age_on})"
