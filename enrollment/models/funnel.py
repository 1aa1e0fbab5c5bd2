"""Funnel aggregates kept current by the funnel service (``enrollment.services.funnel``).

Dashboards read these small tables only, never the participants table. They are changed in the
same transaction as every status transition, with ``INSERT ... ON CONFLICT DO UPDATE SET n = n +
excluded.n`` so that concurrent transitions never lose a count. ``manage.py
rebuild_funnel_aggregates`` recomputes them from the append-only transition log.

``site_id`` is 0 for participants not (yet) attached to a site: a plain integer rather than NULL
keeps the conflict target portable between PostgreSQL and SQLite.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .core import ParticipantStatus, Sex

__all__ = ["NO_SITE", "AgeBand", "FunnelCurrent", "FunnelDaily", "FunnelMonthly"]

NO_SITE = 0


class AgeBand(models.TextChoices):
    """Age at registration (registration year minus birth year), so a participant's band is stable."""

    UNDER_19 = "0-18", _("Under 19")
    AGE_19_29 = "19-29", _("19 to 29")
    AGE_30_39 = "30-39", _("30 to 39")
    AGE_40_49 = "40-49", _("40 to 49")
    AGE_50_59 = "50-59", _("50 to 59")
    AGE_60_69 = "60-69", _("60 to 69")
    AGE_70_PLUS = "70+", _("70 and over")

    @classmethod
    def for_age(cls, age: int) -> AgeBand:
        if age < 19:
            return cls.UNDER_19
        if age < 30:
            return cls.AGE_19_29
        if age >= 70:
            return cls.AGE_70_PLUS
        return cls(f"{age // 10 * 10}-{age // 10 * 10 + 9}")


class FunnelDaily(models.Model):
    """How many participants entered ``status`` on ``day`` (Asia/Seoul) at a site, in a cohort."""

    day = models.DateField()
    site_id = models.BigIntegerField()
    cohort_id = models.BigIntegerField()
    status = models.CharField(max_length=24, choices=ParticipantStatus.choices)
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "site_id", "cohort_id", "status"], name="funneldaily_key"
            )
        ]
        indexes = [
            # Covering: the forecast sums the last 90 days of one status from the index alone.
            models.Index(
                fields=["status", "day"],
                include=["cohort_id", "site_id", "n"],
                name="funneldaily_status_day_cover",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.site_id}/{self.cohort_id} {self.status}: {self.n}"


class FunnelMonthly(models.Model):
    """The same counts per calendar month (``month`` is its first day): the monthly charts read
    a few thousand rows here instead of summing a thousand days."""

    month = models.DateField()
    site_id = models.BigIntegerField()
    cohort_id = models.BigIntegerField()
    status = models.CharField(max_length=24, choices=ParticipantStatus.choices)
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "site_id", "cohort_id", "status"], name="funnelmonthly_key"
            )
        ]
        indexes = [
            models.Index(
                fields=["status", "month"],
                include=["cohort_id", "site_id", "n"],
                name="funnelmonthly_status_cover",
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.site_id}/{self.cohort_id} {self.status}: {self.n}"


class FunnelCurrent(models.Model):
    """How many participants are in ``status`` now, per site, cohort, age band and sex."""

    site_id = models.BigIntegerField()
    cohort_id = models.BigIntegerField()
    status = models.CharField(max_length=24, choices=ParticipantStatus.choices)
    age_band = models.CharField(max_length=8, choices=AgeBand.choices)
    sex = models.CharField(max_length=8, choices=Sex.choices)
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["site_id", "cohort_id", "status", "age_band", "sex"],
                name="funnelcurrent_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.site_id}/{self.cohort_id} {self.status} {self.age_band} {self.sex}: {self.n}"
