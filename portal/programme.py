"""The programme's name and contact details, set once in settings, in the language asked for.

Pages get them from the ``programme`` context processor, mails and PDFs from the
``{% programme_name %}`` and ``{% programme_contact %}`` tags (no request needed), Python code
from these functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import get_language

__all__ = ["Contact", "programme_contact", "programme_name"]


def _english(language: str | None) -> bool:
    return (language or get_language() or "").startswith("en")


def programme_name(language: str | None = None) -> str:
    """The programme's name in ``language`` (default: the active language; Korean otherwise)."""
    name: str = settings.PROGRAMME_NAME_EN if _english(language) else settings.PROGRAMME_NAME_KO
    return name


@dataclass(frozen=True)
class Contact:
    email: str
    phone: str
    address: str
    hours: str

    @property
    def phone_link(self) -> str:
        """The number as a ``tel:`` target (digits and a leading +)."""
        return "".join(c for c in self.phone if c.isdigit() or c == "+")


def programme_contact(language: str | None = None) -> Contact:
    english = _english(language)
    return Contact(
        email=settings.PROGRAMME_CONTACT_EMAIL,
        phone=settings.PROGRAMME_CONTACT_PHONE,
        address=(
            settings.PROGRAMME_CONTACT_ADDRESS_EN
            if english and settings.PROGRAMME_CONTACT_ADDRESS_EN
            else settings.PROGRAMME_CONTACT_ADDRESS_KO
        ),
        hours=settings.PROGRAMME_CONTACT_HOURS_EN
        if english
        else settings.PROGRAMME_CONTACT_HOURS_KO,
    )
