"""Screening, visit booking, invitations and bulk import."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .core import Cohort, Participant, Site

__all__ = [
    "Invitation",
    "ReferralImport",
    "Screening",
    "ScreeningQuestion",
    "SiteClosure",
    "SiteDay",
    "Visit",
    "VisitStatus",
]


class ScreeningQuestion(models.Model):
    """One yes/no eligibility question of a cohort; ``eligible_answer`` is the answer that qualifies."""

    cohort = models.ForeignKey(Cohort, on_delete=models.CASCADE, related_name="screening_questions")
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    text = models.CharField(_("question (Korean)"), max_length=300)
    text_en = models.CharField(_("question (English)"), max_length=300, blank=True)
    eligible_answer = models.BooleanField(_("answer that qualifies"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("screening question")
        verbose_name_plural = _("screening questions")
        ordering = ["cohort", "order", "id"]

    def __str__(self) -> str:
        return self.text

    @property
    def localized_text(self) -> str:
        if (get_language() or "ko").startswith("en") and self.text_en:
            return self.text_en
        return self.text


class Screening(models.Model):
    """The answers of one eligibility screen and its outcome (kept for every attempt)."""

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="screenings"
    )
    at = models.DateTimeField(db_default=Now())
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    age = models.PositiveSmallIntegerField()
    # {question id: answer}; the question text is not copied, questions are kept, not deleted.
    answers = models.JSONField(default=dict)
    eligible = models.BooleanField()
    reasons = models.JSONField(default=list)

    scope_site_path = "participant__site_id"
    scope_owner_path = "participant__user_id"

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return (
            f"screening of {self.participant_id}: {'eligible' if self.eligible else 'ineligible'}"
        )


class SiteDay(models.Model):
    """How many visits are booked at a site on a day. Booking locks this row, so two people can
    never take the last place at the same time; the check constraint is the last line of defence."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="days")
    day = models.DateField()
    booked = models.PositiveIntegerField(default=0)
    capacity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "day"], name="siteday_unique"),
            models.CheckConstraint(
                condition=models.Q(booked__lte=models.F("capacity")), name="siteday_not_overbooked"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.site_id} {self.day}: {self.booked}/{self.capacity}"


class SiteClosure(models.Model):
    """Days on which a site takes no visits (besides Sundays and public holidays), e.g. a
    renovation or a staff training day. Booking refuses them; visits already booked stay booked
    and are the coordinators' to move."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="closures")
    first_day = models.DateField(_("first closed day"))
    last_day = models.DateField(_("last closed day"))
    reason = models.CharField(_("reason"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(db_default=Now())

    scope_site_path = "site_id"

    class Meta:
        verbose_name = _("site closure")
        verbose_name_plural = _("site closures")
        ordering = ["site", "first_day"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(last_day__gte=models.F("first_day")),
                name="siteclosure_ends_after_start",
            )
        ]
        indexes = [models.Index(fields=["site", "last_day"], name="siteclosure_site_last")]

    def __str__(self) -> str:
        return f"{self.site_id} closed {self.first_day}..{self.last_day}"


class VisitStatus(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CANCELLED = "cancelled", _("Cancelled")
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("Did not come")


class Visit(models.Model):
    """A booked visit at a collection site on a day. A participant has at most one booked visit."""

    Status = VisitStatus

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="visits")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="visits")
    day = models.DateField(_("day"))
    status = models.CharField(
        _("status"), max_length=16, choices=VisitStatus.choices, default=VisitStatus.BOOKED
    )
    booked_at = models.DateTimeField(db_default=Now())
    changed_at = models.DateTimeField(db_default=Now())
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    scope_site_path = "site_id"
    scope_owner_path = "participant__user_id"

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["day", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["participant"],
                condition=models.Q(status="booked"),
                name="visit_one_booked_per_participant",
            )
        ]
        indexes = [models.Index(fields=["site", "day", "status"], name="visit_site_day")]

    def __str__(self) -> str:
        return f"visit of {self.participant_id} at {self.site_id} on {self.day}"


class Invitation(models.Model):
    """A one-time code with which a site-enrolled patient claims an online account.

    Only a keyed digest of the code is stored: the code itself is shown once, on the printed letter,
    and sent once by e-mail / text.
    """

    participant = models.ForeignKey(
        Participant, on_delete=models.CASCADE, related_name="invitations"
    )
    code_digest = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    issued_at = models.DateTimeField(db_default=Now())
    expires_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    scope_site_path = "participant__site_id"
    scope_owner_path = "participant__user_id"

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        indexes = [
            models.Index(
                fields=["participant"],
                condition=models.Q(claimed_at__isnull=True, revoked_at__isnull=True),
                name="invitation_open",
            )
        ]

    def __str__(self) -> str:
        return f"invitation #{self.pk} for {self.participant_id}"


class ReferralImport(models.Model):
    """One upload of a referrals CSV: who, where, which file (by hash) and what came of it."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="imports")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(db_default=Now())
    file_sha256 = models.CharField(max_length=64)
    rows_total = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    rows_existing = models.PositiveIntegerField(default=0)
    rows_invalid = models.PositiveIntegerField(default=0)

    class Outcome(models.TextChoices):
        IMPORTED = "imported", _("imported")
        REFUSED = "refused", _("refused, nothing imported")

    # Database defaults, so that code of the previous release can still write rows mid-deploy.
    outcome = models.CharField(
        max_length=16, choices=Outcome.choices, db_default=Outcome.IMPORTED.value
    )
    # Why it was refused: a file-level code (too_large, not_csv, encoding, columns, conflict...)
    # or invalid_rows.
    refusal = models.CharField(max_length=32, blank=True, db_default="")

    scope_site_path = "site_id"

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"import #{self.pk} at {self.site_id}"
