"""Pseudonym codes and the mapping service."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from dam.models import Pseudonym, PseudonymDomain
from dam.pseudonyms import (
    ALPHABET,
    LENGTH,
    check_character,
    pseudonym_generate,
    pseudonym_is_well_formed,
)
from dam.services.pseudonyms import (
    pseudonym_of,
    pseudonym_resolve,
    pseudonyms_of_bulk,
    pseudonyms_resolve_bulk,
)
from tests.factories import ParticipantFactory

bodies = st.text(alphabet=ALPHABET, min_size=LENGTH - 1, max_size=LENGTH - 1)


def _code(body: str) -> str:
    return body + check_character(body)


def test_generated_codes_are_well_formed_fixed_length_and_unambiguous():
    for _ in range(500):
        code = pseudonym_generate()
        assert len(code) == LENGTH
        assert pseudonym_is_well_formed(code)
        assert not set(code) & set("01ILO")
        assert code == code.upper()


def test_generated_codes_differ():
    assert len({pseudonym_generate() for _ in range(2_000)}) == 2_000


@settings(max_examples=300, deadline=None)
@given(body=bodies, position=st.integers(0, LENGTH - 1), replacement=st.sampled_from(ALPHABET))
def test_every_single_substitution_is_caught(body, position, replacement):
    code = _code(body)
    if code[position] == replacement:
        replacement = ALPHABET[(ALPHABET.index(replacement) + 1) % len(ALPHABET)]
    altered = code[:position] + replacement + code[position + 1 :]
    assert not pseudonym_is_well_formed(altered)


@settings(max_examples=300, deadline=None)
@given(body=bodies, position=st.integers(0, LENGTH - 2))
def test_every_adjacent_transposition_is_caught(body, position):
    code = _code(body)
    if code[position] == code[position + 1]:
        return  # swapping equal characters changes nothing
    swapped = code[:position] + code[position + 1] + code[position] + code[position + 2 :]
    assert not pseudonym_is_well_formed(swapped)


@settings(max_examples=50, deadline=None)
@given(body=bodies)
def test_all_substitutions_and_transpositions_of_one_code_are_caught(body):
    code = _code(body)
    assert pseudonym_is_well_formed(code)
    for position in range(LENGTH):
        for replacement in ALPHABET:
            if replacement != code[position]:
                altered = code[:position] + replacement + code[position + 1 :]
                assert not pseudonym_is_well_formed(altered), altered
    for position in range(LENGTH - 1):
        a, b = code[position], code[position + 1]
        if a != b:
            assert not pseudonym_is_well_formed(code[:position] + b + a + code[position + 2 :])


@pytest.mark.parametrize(
    "value", ["", "ABC", "23456789AB2", "23456789A", "2345678OAB", "abcdefghjk", 12345]
)
def test_malformed_values_are_not_well_formed(value):
    assert not pseudonym_is_well_formed(value)


@pytest.mark.django_db
def test_pseudonym_of_creates_once_and_returns_the_same_code():
    participant = ParticipantFactory()
    code = pseudonym_of(participant=participant)
    assert pseudonym_is_well_formed(code)
    assert pseudonym_of(participant=participant) == code
    assert Pseudonym.objects.filter(participant=participant).count() == 1


@pytest.mark.django_db
def test_domains_get_unrelated_codes():
    participant = ParticipantFactory()
    subject = pseudonym_of(participant=participant)
    sample = pseudonym_of(participant=participant, domain=PseudonymDomain.SAMPLE)
    assert subject != sample
    assert pseudonym_resolve(code=sample, domain=PseudonymDomain.SAMPLE) == participant
    assert pseudonym_resolve(code=sample) is None


@pytest.mark.django_db
def test_resolve_finds_the_participant_and_tolerates_case_and_grouping():
    participant = ParticipantFactory()
    code = pseudonym_of(participant=participant)
    assert pseudonym_resolve(code=code) == participant
    grouped = f" {code[:5].lower()}-{code[5:]} "
    assert pseudonym_resolve(code=grouped) == participant


@pytest.mark.django_db
def test_resolve_of_an_unknown_well_formed_code_is_none():
    ParticipantFactory()
    assert pseudonym_resolve(code=pseudonym_generate()) is None


@pytest.fixture
def english():
    with translation.override("en"):
        yield


@pytest.mark.django_db
def test_a_mistyped_code_is_refused_before_any_lookup(django_assert_num_queries, english):
    participant = ParticipantFactory()
    code = pseudonym_of(participant=participant)
    wrong = code[:3] + ALPHABET[(ALPHABET.index(code[3]) + 1) % len(ALPHABET)] + code[4:]
    with django_assert_num_queries(0), pytest.raises(ValidationError) as raised:
        pseudonym_resolve(code=wrong)
    assert "check character" in raised.value.messages[0]
    with django_assert_num_queries(0), pytest.raises(ValidationError) as raised:
        pseudonym_resolve(code="NOT-A-CODE!")
    assert "10 characters" in raised.value.messages[0]


@pytest.mark.django_db
def test_bulk_forms_agree_with_the_single_ones():
    participants = ParticipantFactory.create_batch(5)
    first = pseudonym_of(participant=participants[0])
    codes = pseudonyms_of_bulk(participant_ids=[p.pk for p in participants])
    assert codes[participants[0].pk] == first
    assert len(set(codes.values())) == 5
    resolved = pseudonyms_resolve_bulk(codes=[*codes.values(), pseudonym_generate()])
    assert [resolved[codes[p.pk]] for p in participants] == [p.pk for p in participants]
    assert list(resolved.values())[-1] is None


@pytest.mark.django_db
def test_a_pseudonym_cannot_be_changed_or_deleted():
    from django.db import DatabaseError, transaction

    participant = ParticipantFactory()
    pseudonym_of(participant=participant)
    with pytest.raises(DatabaseError), transaction.atomic():
        Pseudonym.objects.filter(participant=participant).update(code=pseudonym_generate())
    with pytest.raises(DatabaseError), transaction.atomic():
        Pseudonym.objects.filter(participant=participant).delete()


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_requests_get_the_same_code():
    participant = ParticipantFactory()
    results: list[str] = []
    barrier = threading.Barrier(4)

    def ask() -> None:
        try:
            barrier.wait()
            results.append(pseudonym_of(participant=participant))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and len(set(results)) == 1
    assert connection.vendor == "postgresql"
    assert Pseudonym.objects.filter(participant=participant).count() == 1
