"""``{{ site.name|particle:"을" }}``: the word with the Korean particle that fits its last sound.

In any language but Korean the word comes back alone, so the same ``blocktranslate`` serves both
catalogues: the Korean one writes no particle after the placeholder, the filter brings it.
"""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

from portal.korean import with_particle

register = template.Library()


@register.filter
def particle(word: object, which: str) -> str:
    text = str(word)
    language = get_language() or ""
    if not language.startswith("ko"):
        return text
    return with_particle(text, which)
