"""``{% programme_name %}`` and ``{% programme_contact as contact %}`` for pages, mails and PDFs."""

from __future__ import annotations

from django import template

from portal.programme import Contact
from portal.programme import programme_contact as _contact
from portal.programme import programme_name as _name

register = template.Library()


@register.simple_tag
def programme_name() -> str:
    return _name()


@register.simple_tag
def programme_contact() -> Contact:
    return _contact()
