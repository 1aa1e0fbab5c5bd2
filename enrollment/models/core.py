"""Programme structure (programmes, phases, targets, sites, cohorts) and participants.

Identifying data (name, birth date, phone, e-mail, address, guardian) does not live on these
tables: it sits encrypted in the personal-data vault. ``Participant`` keeps only what dashboards and
the dam may see: birth year, sex, site, cohort and status.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce, Lower, Now, NullIf
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

__all__ = [
    "BilingualName",
    "Cohort",
    "CohortGroup",
    "Participant",
    "ParticipantKind",
    "ParticipantStatus",
    "Phase",
    "PhaseTarget",
    "Programme",
    "Sex",
    "Site",
    "SiteMembership",
    "StatusTransition",
    "label_order",
]


def _english() -> bool:
    return (get_language() or "").startswith("en")


def label_order(field: str = "name") -> Combinable:
    """What to ``order_by`` so that a list reads in order in the active language: ``field`` in
    Korean; in English ``field_en`` where it is filled in (``field`` where not), ignoring case."""
    if not _english():
        return models.F(field)
    return Lower(Coalesce(NullIf(models.F(f"{field}_en"), models.Value("")), models.F(field)))


class BilingualName(models.Model):
    """A name in Korean (``name``, always given) and in English (``name_en``, may be blank).

    ``label`` is the name to show in the active language: English pages show the English name
    where there is one, and the Korean name otherwise.
    """

    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)

    class Meta:
        abstract = True

    @property
    def label(self) -> str:
        name: str = getattr(self, "name", "")
        if _english() and self.name_en:
            return self.name_en
        return name

    @property
    def choice_label(self) -> str:
        """How a list of choices (a form's select) shows this, in the active language."""
        return self.label


class CohortGroup(models.TextChoices):
    """Targets are set per cohort group; cohorts are configured freely within a group."""

    RARE_DISEASE = "rare_disease", _("Rare disease patients")
    SEVERE_DISEASE = "severe_disease", _("Severe disease patients")
    GENERAL = "general", _("General participants")


class Programme(BilingualName):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    total_target = models.PositiveIntegerField(_("overall target"))

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")

    def __str__(self) -> str:
        return self.name


class Phase(BilingualName):
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="phases")
    number = models.PositiveSmallIntegerField(_("number"))
    name = models.CharField(_("name"), max_length=200)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))

    class Meta:
        verbose_name = _("phase")
        verbose_name_plural = _("phases")
        ordering = ["programme", "number"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "number"], name="phase_unique_number"),
            models.CheckConstraint(
                condition=models.Q(ends_on__gt=models.F("starts_on")), name="phase_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme.code} {self.name}"

    @property
    def choice_label(self) -> str:
        return f"{self.programme.label} · {self.label}"


class Site(BilingualName):
    """A hospital or collection site. ``daily_capacity`` bounds visits that can be booked per day.

    The address and opening hours are what visitors read on the public list of sites.
    """

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    region = models.CharField(_("region"), max_length=100)
    region_en = models.CharField(_("region (English)"), max_length=100, blank=True)
    # Shown with every offered visit day, in the confirmation and in its calendar file, so that a
    # volunteer knows where to go and when (Asia/Seoul wall-clock times).
    address = models.CharField(_("address"), max_length=300, blank=True)
    address_en = models.CharField(_("address (English)"), max_length=300, blank=True)
    opens_at = models.TimeField(_("opens at"), default=dt.time(9, 0))
    closes_at = models.TimeField(_("closes at"), default=dt.time(17, 0))
    daily_capacity = models.PositiveIntegerField(_("daily visit capacity"), default=40)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(opens_at__lt=models.F("closes_at")),
                name="site_opens_before_closing",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def choice_label(self) -> str:
        return f"{self.code} {self.label}"

    @property
    def region_label(self) -> str:
        if _english() and self.region_en:
            return self.region_en
        return self.region

    @property
    def address_label(self) -> str:
        if _english() and self.address_en:
            return self.address_en
        return self.address

    @property
    def opening_hours(self) -> str:
        return f"{self.opens_at:%H:%M}\u2013{self.closes_at:%H:%M}"  # en dash


class Cohort(BilingualName):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    group = models.CharField(_("cohort group"), max_length=32, choices=CohortGroup.choices)
    min_age = models.PositiveSmallIntegerField(_("minimum age"), default=19)
    # Volunteers may register online for open cohorts; patient cohorts are enrolled by sites.
    open_for_volunteers = models.BooleanField(_("open for online registration"), default=False)

    class Meta:
        verbose_name = _("cohort")
        verbose_name_plural = _("cohorts")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class PhaseTarget(models.Model):
    """A recruitment target of a phase: overall (no group, no site), per cohort group, or per site."""

    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="targets")
    cohort_group = models.CharField(max_length=32, choices=CohortGroup.choices, blank=True)
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.CASCADE)
    target = models.PositiveIntegerField(_("target"))

    class Meta:
        verbose_name = _("phase target")
        verbose_name_plural = _("phase targets")
        constraints = [
            models.UniqueConstraint(
                fields=["phase", "cohort_group", "site"],
                name="phasetarget_unique",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.phase} {self.cohort_group or '*'} {self.site_id or '*'}: {self.target}"


class SiteMembership(models.Model):
    """Which sites a coordinator (or a local ethics reviewer) works for; the portal reads it through
    ``enrollment.scoping.EnrollmentSites``."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="site_memberships"
    )
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="memberships")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "site"], name="sitemembership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.site_id}"


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class ParticipantKind(models.TextChoices):
    VOLUNTEER = "volunteer", _("Volunteer (registered online)")
    PATIENT = "patient", _("Patient (enrolled at a site)")


class ParticipantStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    ELIGIBLE = "eligible", _("Screened: eligible")
    INELIGIBLE = "ineligible", _("Screened: ineligible")
    CONSENTED = "consented", _("Consented")
    SAMPLE_COLLECTED = "sample_collected", _("Sample collected")
    IN_DAM = "in_dam", _("In the data dam")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Participant(models.Model):
    """A person taking part. Changes of ``status`` go through the funnel service only."""

    Status = ParticipantStatus
    Kind = ParticipantKind

    scope_site_path = "site_id"
    scope_owner_path = "user_id"

    code = models.CharField(_("participant code"), max_length=16, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=ParticipantKind.choices)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="participant",
    )
    site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.PROTECT, related_name="participants"
    )
    cohort = models.ForeignKey(Cohort, on_delete=models.PROTECT, related_name="participants")
    status = models.CharField(
        _("status"),
        max_length=24,
        choices=ParticipantStatus.choices,
        default=ParticipantStatus.REGISTERED,
        db_index=True,
    )
    birth_year = models.PositiveSmallIntegerField(_("birth year"))
    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices, default=Sex.UNKNOWN)
    external_ref = models.CharField(_("site reference"), max_length=64, blank=True)
    # The site whose reference ``external_ref`` is (where the patient was referred or enrolled).
    # It stays when the participant moves site, so a referral re-imported there is recognised:
    # duplicates are (source site, reference), whatever the current site.
    source_site = models.ForeignKey(
        Site, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Enrolled through a guardian (the guardian is in the vault); asked to consent for themselves
    # once they come of age.
    is_minor = models.BooleanField(_("minor"), default=False)
    # An adult who cannot consent for themselves: a legal representative (in the vault) signs.
    has_legal_representative = models.BooleanField(
        _("consents through a legal representative"), default=False
    )
    referring_clinician = models.CharField(_("referring clinician"), max_length=200, blank=True)
    registered_at = models.DateTimeField(_("registered at"), db_default=Now())
    status_changed_at = models.DateTimeField(_("status changed at"), db_default=Now())

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [
            models.UniqueConstraint(
                fields=["source_site", "external_ref"],
                condition=~models.Q(external_ref=""),
                name="participant_unique_source_reference",
            ),
        ]
        indexes = [models.Index(fields=["site", "status"])]

    def __str__(self) -> str:
        return self.code


class StatusTransition(models.Model):
    """One step of a participant through the funnel. Append-only (database triggers).

    Site and cohort are copied at the time of the step so that aggregates can be rebuilt from this
    log alone.
    """

    participant = models.ForeignKey(
        Participant, on_delete=models.DO_NOTHING, db_constraint=True, related_name="transitions"
    )
    from_status = models.CharField(max_length=24, choices=ParticipantStatus.choices, blank=True)
    to_status = models.CharField(max_length=24, choices=ParticipantStatus.choices)
    at = models.DateTimeField(db_default=Now(), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    site_id_at = models.BigIntegerField(null=True)
    cohort_id_at = models.BigIntegerField()
    reason = models.CharField(max_length=255, blank=True)

    scope_site_path = "participant__site_id"
    scope_owner_path = "participant__user_id"

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.participant_id}: {self.from_status or '-'} -> {self.to_status}"
