"""Korean particles chosen by the sound a word ends with.

Korean particles come in pairs: 을/를, 이/가, 은/는, 과/와, 아/야 follow a final consonant or a
vowel, and 으로/로 follows a final consonant other than ㄹ, or a vowel or ㄹ. Writing "을(를)" leaves
the choice to the reader; these functions make it from the word itself. A word ending in Latin
letters or digits ends with the sound of its Korean reading: "M" is 엠, "L" is 엘, "7" is 칠,
"10" is 십, so "SITE-M" takes 을 and "P-0002" takes 를.

``particle_format`` is the ``%`` operator for translated messages: it fills ``%(name)s`` and puts
the right form of the particle written straight after it, so a catalogue says
``"검체 %(barcode)s을 추가했습니다."`` and the reader sees ``"검체 AB12를 추가했습니다."``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

__all__ = ["Ending", "ending_of", "particle_for", "particle_format", "with_particle"]

_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3
_FINALS_PER_SYLLABLE = 28
_RIEUL_FINAL = 8  # index of ㄹ among the final consonants


class Ending(Enum):
    VOWEL = "vowel"
    RIEUL = "rieul"  # ends in ㄹ: takes 로 like a vowel, the other particles like a consonant
    CONSONANT = "consonant"


# The Korean names of the Latin letters (에이, 비, 씨, …, 엘, 엠, 엔, 알, …): only L, M, N and R
# end in a consonant.
_LETTER_ENDINGS = {
    "l": Ending.RIEUL,
    "m": Ending.CONSONANT,
    "n": Ending.CONSONANT,
    "r": Ending.RIEUL,
}
# 영 일 이 삼 사 오 육 칠 팔 구
_DIGIT_ENDINGS = {
    "0": Ending.CONSONANT,
    "1": Ending.RIEUL,
    "2": Ending.VOWEL,
    "3": Ending.CONSONANT,
    "4": Ending.VOWEL,
    "5": Ending.VOWEL,
    "6": Ending.CONSONANT,
    "7": Ending.RIEUL,
    "8": Ending.RIEUL,
    "9": Ending.VOWEL,
}
# A number ending in zeros is read by its place: 십, 백, 천, 만, 십만, 백만, 천만, 억, …
_PLACE_ENDINGS = {
    1: Ending.CONSONANT,  # 십
    2: Ending.CONSONANT,  # 백
    3: Ending.CONSONANT,  # 천
    4: Ending.CONSONANT,  # 만
}

# Each particle with its form after a final consonant and its form after a vowel.
_PAIRS: dict[str, tuple[str, str]] = {}
for _after_consonant, _after_vowel in [
    ("을", "를"),
    ("이", "가"),
    ("은", "는"),
    ("과", "와"),
    ("아", "야"),
    ("으로", "로"),
    ("으로서", "로서"),
    ("으로써", "로써"),
]:
    _PAIRS[_after_consonant] = _PAIRS[_after_vowel] = (_after_consonant, _after_vowel)


def _number_ending(digits: str) -> Ending:
    value = digits.lstrip("0")
    if not value:
        return Ending.CONSONANT  # 영
    zeros = len(value) - len(value.rstrip("0"))
    if zeros == 0:
        return _DIGIT_ENDINGS[value[-1]]
    # Past 만 the reading ends in 만 (ㄴ) until 억 (ㄱ) and 조 (vowel); all but 조 end in a consonant.
    if zeros >= 12 and zeros % 4 == 0 and zeros < 16:
        return Ending.VOWEL  # 조
    return _PLACE_ENDINGS.get(zeros, Ending.CONSONANT)


def ending_of(word: str) -> Ending:
    """How ``word`` ends when read aloud in Korean (punctuation and spaces at the end ignored)."""
    text = word.rstrip()
    index = len(text)
    while index > 0 and not text[index - 1].isalnum():
        index -= 1
    if index == 0:
        return Ending.VOWEL
    last = text[index - 1]
    code = ord(last)
    if _HANGUL_FIRST <= code <= _HANGUL_LAST:
        final = (code - _HANGUL_FIRST) % _FINALS_PER_SYLLABLE
        if final == 0:
            return Ending.VOWEL
        return Ending.RIEUL if final == _RIEUL_FINAL else Ending.CONSONANT
    if "0" <= last <= "9":
        start = index
        while start > 0 and "0" <= text[start - 1] <= "9":
            start -= 1
        return _number_ending(text[start:index])
    if last.isascii():
        return _LETTER_ENDINGS.get(last.lower(), Ending.VOWEL)
    return Ending.VOWEL


def particle_for(word: str, particle: str) -> str:
    """The form of ``particle`` (either form: "을" or "를", "으로" or "로", …) that follows ``word``."""
    try:
        after_consonant, after_vowel = _PAIRS[particle]
    except KeyError:
        raise ValueError(f"not a particle with two forms: {particle!r}") from None
    ending = ending_of(word)
    if ending is Ending.VOWEL:
        return after_vowel
    if ending is Ending.RIEUL and after_consonant.startswith("으"):
        return after_vowel
    return after_consonant


def with_particle(word: str, particle: str) -> str:
    """``word`` followed, without a space, by the right form of ``particle``."""
    return f"{word}{particle_for(word, particle)}"


# Longest forms first, so that "으로" is not read as "으" + "로". A particle counts only when the
# word ends there (space, punctuation or the end of the message follows).
_PARTICLE_ALTERNATION = "|".join(sorted(_PAIRS, key=len, reverse=True))
_PLACEHOLDER = re.compile(
    r"%%|%\((?P<name>\w+)\)(?P<kind>[sd])"
    rf"(?P<particle>(?:{_PARTICLE_ALTERNATION})(?=[\s.,!?;:'\"\u201d\u2019)\]\u300d\u300f\u2026]|$))?"
)


def particle_format(message: str | _StrPromise, values: Mapping[str, object]) -> str:
    """``message % values``, with each particle written right after a placeholder made to fit
    the value that fills it. Only ``%(name)s``, ``%(name)d`` and ``%%`` are understood, which is
    all the catalogues use."""

    def fill(match: re.Match[str]) -> str:
        if match.group(0) == "%%":
            return "%"
        value = values[match.group("name")]
        text = str(int(value)) if match.group("kind") == "d" else str(value)  # type: ignore[call-overload]
        particle = match.group("particle")
        return with_particle(text, particle) if particle else text

    return _PLACEHOLDER.sub(fill, str(message))
