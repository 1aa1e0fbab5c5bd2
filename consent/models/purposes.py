"""Purposes of use and the consent items each needs.

A purpose ("genomic research", "recontact for a new study", …) is configuration, not code: the
programme adds or changes purposes in the admin. ``consent.selectors.checks`` answers whether a participant's
consent allows a purpose by looking at the items the purpose lists and at the participant's
withdrawal level, which blocks purposes according to their ``activity``.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["Purpose", "PurposeActivity"]

_ITEM_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_DUO_CODE = re.compile(r"^DUO:\d{7}$")


class PurposeActivity(models.TextChoices):
    """What a purpose does with the participant; decides which withdrawal levels block it."""

    USE = "use", _("Use of existing data and samples")
    COLLECTION = "collection", _("Collection of new data or samples")
    CONTACT = "contact", _("Contacting the participant")


# Which withdrawal levels stop which activities. "No further contact" still lets the programme use
# what it holds; "no further collection" stops new samples and contact; "no further use" stops all.
WITHDRAWAL_BLOCKS: dict[str, frozenset[str]] = {
    "no_further_contact": frozenset({PurposeActivity.CONTACT}),
    "no_further_collection": frozenset({PurposeActivity.CONTACT, PurposeActivity.COLLECTION}),
    "no_further_use": frozenset(
        {PurposeActivity.CONTACT, PurposeActivity.COLLECTION, PurposeActivity.USE}
    ),
}


def blocking_withdrawal_levels(activity: str) -> list[str]:
    """The withdrawal levels that forbid ``activity`` (an unknown level blocks everything)."""
    return sorted(level for level, blocked in WITHDRAWAL_BLOCKS.items() if activity in blocked)


def validate_item_codes(value: Any) -> None:
    if not isinstance(value, list) or not all(isinstance(code, str) for code in value):
        raise ValidationError(_("Enter a list of consent item codes."))
    bad = [code for code in value if not _ITEM_CODE.match(code)]
    if bad:
        raise ValidationError(
            _("These are not consent item codes: %(codes)s"), params={"codes": ", ".join(bad)}
        )
    if len(set(value)) != len(value):
        raise ValidationError(_("Each consent item may be listed only once."))


def validate_duo_code(value: str) -> None:
    if value and not _DUO_CODE.match(value):
        raise ValidationError(_("A DUO term looks like DUO:0000042."))


class Purpose(models.Model):
    """A use of participants' data or samples, and the consent items it needs (all must be yes)."""

    Activity = PurposeActivity

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    required_items = models.JSONField(
        _("required consent items"),
        default=list,
        validators=[validate_item_codes],
        help_text=_("Codes of the consent items that must all be 'yes', e.g. genomic_analysis."),
    )
    duo_code = models.CharField(
        _("DUO term"),
        max_length=16,
        blank=True,
        validators=[validate_duo_code],
        help_text=_("The GA4GH Data Use Ontology term describing this purpose."),
    )
    activity = models.CharField(
        _("activity"),
        max_length=16,
        choices=PurposeActivity.choices,
        default=PurposeActivity.USE,
    )
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("purpose of use")
        verbose_name_plural = _("purposes of use")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"

    def blocking_withdrawal_levels(self) -> list[str]:
        return blocking_withdrawal_levels(self.activity)
