"""Samples collected from participants."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from enrollment.models import Participant, Site

__all__ = ["Sample", "SampleType"]


class SampleType(models.TextChoices):
    WB_EDTA = "WB_EDTA", _("Whole blood (EDTA)")
    SERUM = "SERUM", _("Serum")
    PLASMA = "PLASMA", _("Plasma")
    URINE = "URINE", _("Urine")
    DNA = "DNA", _("DNA")
    BUFFY_COAT = "BUFFY_COAT", _("Buffy coat")


class Sample(models.Model):
    """One tube, identified by its barcode. Recorded through ``dam.services.sample_record``."""

    Type = SampleType

    scope_site_path = "site_id"
    scope_owner_path = "participant__user_id"

    barcode = models.CharField(_("barcode"), max_length=32, unique=True)
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="samples", verbose_name=_("participant")
    )
    sample_type = models.CharField(_("sample type"), max_length=16, choices=SampleType.choices)
    collected_at = models.DateTimeField(_("collected at"))
    volume_ml = models.DecimalField(_("volume (ml)"), max_digits=6, decimal_places=2)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="samples")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), db_default=Now())

    class Meta:
        verbose_name = _("sample")
        verbose_name_plural = _("samples")
        indexes = [models.Index(fields=["site", "collected_at"], name="sample_site_collected")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(volume_ml__gt=0), name="sample_volume_positive"
            )
        ]

    def __str__(self) -> str:
        return self.barcode
