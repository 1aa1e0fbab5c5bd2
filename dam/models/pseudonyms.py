"""The pseudonym mapping: which random code stands for which participant, per recipient domain.

Only the dam app reads this table, through ``dam.services.pseudonyms``; data stewards see it, no
other role. Codes are random (``dam.pseudonyms.pseudonym_generate``), never derived from anything
about the person.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from enrollment.models import Participant

__all__ = ["Pseudonym", "PseudonymDomain"]


class PseudonymDomain(models.TextChoices):
    """One domain per recipient: the same participant has unrelated codes in different domains."""

    SUBJECT = "subject", _("Dam subject")
    SAMPLE = "sample", _("Sample recipient")


class Pseudonym(models.Model):
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="+", verbose_name=_("participant")
    )
    domain = models.CharField(_("domain"), max_length=16, choices=PseudonymDomain.choices)
    code = models.CharField(_("pseudonym"), max_length=16, unique=True)
    created_at = models.DateTimeField(_("created at"), db_default=Now())

    class Meta:
        verbose_name = _("pseudonym")
        verbose_name_plural = _("pseudonyms")
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "domain"], name="pseudonym_one_per_domain"
            ),
            models.CheckConstraint(
                condition=models.Q(domain__in=PseudonymDomain.values), name="pseudonym_domain_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.domain}:{self.code}"
