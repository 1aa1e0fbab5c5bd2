"""The outbox: every fact the data dam must learn, written in the transaction of the change.

A row is one message of the dam's ingest interface. Its ``id`` is the idempotency key (a resent
message keeps it). ``sequence`` counts the messages about one subject from 1 without gaps; it is
assigned under the participant's row lock (``dam.services.outbox.outbox_add``). Delivery
(``dam.services.delivery``) sends a subject's messages strictly in that order.

States:

* ``pending``: not yet accepted by the dam; due at ``next_attempt_at`` (sooner when a task asks);
* ``delivered``: the dam answered ``accepted`` or ``duplicate`` (``dam_status`` says which);
* ``dead``: the dam refused it for good (``invalid`` or ``withdrawn``); ``error_code`` and
  ``last_error`` say why. A steward may send it again (``outbox_retry``) once the cause is fixed.
  A dead row holds back the later messages of its subject, which would only be refused after it.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from enrollment.models import Participant

__all__ = ["MessageType", "OutboxMessage", "OutboxState"]


class MessageType(models.TextChoices):
    SUBJECT_REGISTERED = "subject.registered", _("Subject registered")
    CONSENT_UPDATED = "consent.updated", _("Consent updated")
    SUBJECT_WITHDRAWN = "subject.withdrawn", _("Subject withdrawn")
    MANIFEST_SUBMITTED = "manifest.submitted", _("Manifest submitted")


class OutboxState(models.TextChoices):
    PENDING = "pending", _("Waiting to be delivered")
    DELIVERED = "delivered", _("Delivered")
    DEAD = "dead", _("Dead letter")


class OutboxMessage(models.Model):
    State = OutboxState
    Type = MessageType

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(_("type"), max_length=32, choices=MessageType.choices)
    participant = models.ForeignKey(
        Participant,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("participant"),
    )
    # The subject's dam pseudonym, copied so that delivery never reads the mapping.
    subject = models.CharField(_("subject"), max_length=16, blank=True)
    sequence = models.PositiveIntegerField(_("sequence"), null=True, blank=True)
    # For manifests: the manifest id, so acknowledgements can be found without reading payloads.
    reference = models.CharField(_("reference"), max_length=64, blank=True, db_index=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    payload = models.JSONField(_("payload"))
    state = models.CharField(
        _("state"), max_length=16, choices=OutboxState.choices, default=OutboxState.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), db_default=Now())
    created_at = models.DateTimeField(_("created at"), db_default=Now())
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    # The dam's answer: accepted | duplicate | rejected; its error code (or ours: timeout, http_503…).
    dam_status = models.CharField(_("dam's answer"), max_length=16, blank=True)
    error_code = models.CharField(_("error"), max_length=32, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    batch_id = models.UUIDField(_("last batch"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "sequence"], name="outbox_unique_subject_sequence"
            ),
            models.CheckConstraint(
                condition=models.Q(type__in=MessageType.values), name="outbox_type_known"
            ),
            models.CheckConstraint(
                condition=models.Q(state__in=OutboxState.values), name="outbox_state_known"
            ),
            # A subject message names its subject and its place in the subject's sequence; a
            # manifest has neither.
            models.CheckConstraint(
                condition=(
                    models.Q(
                        type=MessageType.MANIFEST_SUBMITTED,
                        participant__isnull=True,
                        sequence__isnull=True,
                        subject="",
                    )
                    | (
                        ~models.Q(type=MessageType.MANIFEST_SUBMITTED)
                        & models.Q(participant__isnull=False, sequence__gte=1)
                        & ~models.Q(subject="")
                    )
                ),
                name="outbox_subject_or_manifest",
            ),
            models.CheckConstraint(
                condition=models.Q(state=OutboxState.DELIVERED, delivered_at__isnull=False)
                | ~models.Q(state=OutboxState.DELIVERED),
                name="outbox_delivered_has_time",
            ),
        ]
        indexes = [
            # Delivery's claim: due pending rows in order, a subject's messages side by side.
            models.Index(
                fields=["next_attempt_at", "created_at", "participant", "sequence"],
                name="outbox_due_order",
                condition=models.Q(state=OutboxState.PENDING),
            ),
            # Delivery's ordering check: the undelivered messages of a subject, by sequence.
            models.Index(
                fields=["participant", "sequence"],
                name="outbox_undelivered",
                include=["state", "next_attempt_at"],
                condition=~models.Q(state=OutboxState.DELIVERED),
            ),
            models.Index(
                fields=["created_at"],
                name="outbox_dead",
                condition=models.Q(state=OutboxState.DEAD),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.subject or self.reference} #{self.sequence or '-'}"
