"""Korean particles follow the last sound of the word: names, codes, e-mails, numbers."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest
from django.template import Context, Template
from django.utils import translation
from django.utils.translation import gettext, ngettext
from hypothesis import given
from hypothesis import strategies as st

from portal.korean import particle_for, particle_format, with_particle


@pytest.mark.parametrize(
    ("word", "particle", "expected"),
    [
        ("김하늘", "을", "김하늘을"),  # 늘 ends in ㄹ
        ("김하늘", "으로", "김하늘로"),  # ㄹ takes 로
        ("서울대병원", "을", "서울대병원을"),
        ("서울대병원", "으로", "서울대병원으로"),
        ("이지수", "을", "이지수를"),
        ("이지수", "이", "이지수가"),
        ("이지수", "은", "이지수는"),
        ("이지수", "과", "이지수와"),
        ("삼성서울병원", "는", "삼성서울병원은"),
        ("P-0002", "을", "P-0002를"),  # 이
        ("P-0001", "을", "P-0001을"),  # 일
        ("P-0001", "으로", "P-0001로"),  # 일: ㄹ
        ("P-0003", "으로", "P-0003으로"),  # 삼
        ("P-0010", "이", "P-0010이"),  # 십
        ("P-0100", "가", "P-0100이"),  # 백
        ("P-1000", "가", "P-1000이"),  # 천
        ("0", "을", "0을"),  # 영
        ("SITE-A", "을", "SITE-A를"),  # 에이
        ("SITE-M", "를", "SITE-M을"),  # 엠
        ("SITE-L", "으로", "SITE-L로"),  # 엘
        ("SITE-N", "으로", "SITE-N으로"),  # 엔
        ("kim@example.com", "을", "kim@example.com을"),  # 엠
        ("lee@example.org", "을", "lee@example.org를"),  # 지
        ("“등록”", "이", "“등록”이"),  # closing quotes are skipped
        ("코디네이터 ", "은", "코디네이터 는"),  # a trailing space is not read
    ],
)
def test_the_particle_fits_the_last_sound(word, particle, expected):
    assert with_particle(word, particle) == expected


@given(st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3))
def test_every_hangul_syllable_takes_the_form_its_final_consonant_asks_for(syllable):
    final = (ord(syllable) - 0xAC00) % 28
    assert particle_for(syllable, "를") == ("을" if final else "를")
    assert particle_for(syllable, "가") == ("이" if final else "가")
    assert particle_for(syllable, "는") == ("은" if final else "는")
    assert particle_for(syllable, "로") == ("으로" if final not in (0, 8) else "로")


@given(st.text(), st.sampled_from(["을", "를", "이", "가", "은", "는", "과", "와", "으로", "로"]))
def test_a_particle_never_gets_a_space_or_a_choice_in_brackets(word, particle):
    result = with_particle(word, particle)
    assert result.startswith(word)
    added = result[len(word) :]
    assert added in {"을", "를", "이", "가", "은", "는", "과", "와", "으로", "로"}
    assert "(" not in added and " " not in added


def test_an_unknown_particle_is_refused():
    with pytest.raises(ValueError, match="particle"):
        particle_for("김하늘", "에서")


def test_a_message_gets_the_particle_its_value_asks_for():
    message = "검체 %(barcode)s을 추가했습니다."
    assert particle_format(message, {"barcode": "AB12"}) == "검체 AB12를 추가했습니다."
    assert particle_format(message, {"barcode": "AB1M"}) == "검체 AB1M을 추가했습니다."


def test_a_message_keeps_words_that_only_begin_like_a_particle():
    message = "%(site)s이번 주 100%% 예약, %(n)d명이 %(site)s으로 갑니다"
    result = particle_format(message, {"site": "서울", "n": 3})
    assert result == "서울이번 주 100% 예약, 3명이 서울로 갑니다"


def test_an_english_message_is_filled_as_usual():
    assert particle_format("Sample %(barcode)s added.", {"barcode": "AB12"}) == "Sample AB12 added."


def test_the_template_filter_adds_the_particle_in_korean_only():
    template = Template('{% load korean %}{{ site|particle:"을" }}')
    with translation.override("ko"):
        assert template.render(Context({"site": "서울병원"})) == "서울병원을"
    with translation.override("en"):
        assert template.render(Context({"site": "Seoul Hospital"})) == "Seoul Hospital"


_CATALOGUE = Path(__file__).resolve().parents[2] / "locale" / "ko" / "LC_MESSAGES" / "django.po"
_BRACKETED_CHOICE = re.compile(r"\((?:을|를|이|가|은|는|과|와|으|아|야)\)")
_SPACE_BEFORE_PARTICLE = re.compile(r"%\(\w+\)s (?:을|를|이|가|은|는|과|와|으로|로)(?=[\s.,!?]|$)")


def _korean_strings() -> list[str]:
    catalogue = polib.pofile(str(_CATALOGUE))
    strings = []
    for entry in catalogue:
        strings.append(entry.msgstr)
        strings.extend(entry.msgstr_plural.values())
    return [s for s in strings if s]


def test_the_korean_catalogue_never_leaves_the_particle_to_the_reader():
    offending = [s for s in _korean_strings() if _BRACKETED_CHOICE.search(s)]
    assert offending == []


def test_the_korean_catalogue_never_puts_a_space_between_a_word_and_its_particle():
    offending = [s for s in _korean_strings() if _SPACE_BEFORE_PARTICLE.search(s)]
    assert offending == []


def test_the_sign_in_libraries_korean_is_corrected_by_ours():
    with translation.override("ko"):
        left = ngettext(
            "There is %(unused_count)s out of %(total_count)s recovery codes available.",
            "There are %(unused_count)s out of %(total_count)s recovery codes available.",
            10,
        ) % {"unused_count": 10, "total_count": 10}
        assert left == "복구 코드 10개 중 10개가 남아 있습니다."
        prompt = gettext(
            "Your account is protected by two-factor authentication. "
            "Please enter an authenticator code:"
        )
        assert prompt.endswith("인증 코드를 입력해 주세요:")
        sent = gettext("A sign-in code has been sent to %(recipient)s.") % {
            "recipient": "kim@example.org"
        }
        assert "(으)" not in sent
