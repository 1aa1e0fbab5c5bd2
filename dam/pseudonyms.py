"""Pseudonym codes: random, fixed length, unambiguous upper-case alphabet, one check character.

A code is ``LENGTH`` characters from ``ALPHABET`` (31 characters: the digits 2-9 and the letters
A-Z without I, L and O, so that nothing reads as another character); the first ``LENGTH - 1`` are
drawn at random from the operating system's generator and the last is a check character.

Check character: an ISO 7064 *pure system* with modulus 31 and radix 3 (the construction of ISO
7064 MOD 11-2 and MOD 37-2, applied to this 31-character alphabet). With ``a_1 … a_n`` the
characters' values (their position in ``ALPHABET``) including the check character, a code is valid
when ``sum(a_i * 3^(n-i)) mod 31 == 1``. Because 31 is prime and 3 is neither 0 nor 1 modulo 31,
every single-character substitution and every transposition of two adjacent characters changes
that sum modulo 31, so each is caught (the property tests try them all). 3 is moreover a primitive
root of 31, so jump transpositions (``abc`` -> ``cba``) are caught as well. The check character
always lies in the same alphabet, so codes stay within it.
"""

from __future__ import annotations

import secrets

__all__ = [
    "ALPHABET",
    "LENGTH",
    "check_character",
    "pseudonym_generate",
    "pseudonym_is_well_formed",
]

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
MODULUS = 31
RADIX = 3
LENGTH = 10  # 9 random characters (31^9, about 2.6e13 codes) and the check character

_VALUES = {character: value for value, character in enumerate(ALPHABET)}
assert len(ALPHABET) == MODULUS == len(_VALUES)


def _checksum(characters: str) -> int:
    """ISO 7064 pure-system recursion: P = (P + a) * r mod M over ``characters``."""
    total = 0
    for character in characters:
        total = ((total + _VALUES[character]) * RADIX) % MODULUS
    return total


def check_character(body: str) -> str:
    """The check character to append to ``body`` (characters of ``ALPHABET`` only)."""
    return ALPHABET[(1 - _checksum(body)) % MODULUS]


def pseudonym_generate() -> str:
    """A new random code; uniqueness is the caller's (the database's) to ensure."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH - 1))
    return body + check_character(body)


def pseudonym_is_well_formed(code: str) -> bool:
    """Is ``code`` exactly ``LENGTH`` characters of ``ALPHABET`` with a correct check character?"""
    if not isinstance(code, str) or len(code) != LENGTH:
        return False
    if any(character not in _VALUES for character in code):
        return False
    return check_character(code[:-1]) == code[-1]
