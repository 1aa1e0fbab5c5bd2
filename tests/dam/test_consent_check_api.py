"""The bulk consent check accepts dam subject pseudonyms next to participant codes."""

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dam.pseudonyms import ALPHABET
from dam.services.pseudonyms import pseudonym_of
from portal.roles import Role
from tests.dam.custody_builders import consented, withdraw
from tests.enrollment.funnel_helpers import sign_in
from tests.factories import SiteFactory, staff_user

pytestmark = pytest.mark.django_db

URL = "/api/consent/checks/"


def _client(user: Any) -> Client:
    client = Client()
    sign_in(client, user)  # in English: reasons read as the source text
    return client


def _check(client: Client, identifiers: list[str], purpose: str = "follow_up_collection") -> Any:
    response = client.post(
        URL, {"purpose": purpose, "participants": identifiers}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def _mistyped(code: str) -> str:
    replacement = next(c for c in ALPHABET if c != code[-1])
    return code[:-1] + replacement


def test_pseudonyms_and_codes_are_answered_side_by_side(site):
    steward = staff_user(Role.DATA_STEWARD, mfa=True)
    allowed, declined, gone = consented(site), consented(site, storage=False), consented(site)
    withdraw(gone)
    pseudonyms = [pseudonym_of(participant=p) for p in (allowed, declined, gone)]
    body = _check(_client(steward), [*pseudonyms, allowed.code])
    assert [(r["participant"], r["allowed"], r["code"]) for r in body["results"]] == [
        (pseudonyms[0], True, "allowed"),
        (pseudonyms[1], False, "declined"),
        (pseudonyms[2], False, "withdrawn"),
        (allowed.code, True, "allowed"),
    ]
    assert (body["allowed"], body["refused"]) == (2, 2)
    # The answer never tells which participant stands behind a pseudonym.
    assert allowed.code not in str(body["results"][0])


def test_a_mistyped_pseudonym_is_caught_by_its_check_character(site):
    steward = staff_user(Role.DATA_STEWARD, mfa=True)
    code = pseudonym_of(participant=consented(site))
    wrong = _mistyped(code)
    body = _check(_client(steward), [wrong, f"{code[:5]}-{code[5:]}".lower()])
    first, second = body["results"]
    assert first == {
        "participant": wrong,
        "allowed": False,
        "code": "invalid_pseudonym",
        "reason": "This pseudonym's check character does not match: it was probably mistyped.",
    }
    # Grouped and lower-case input is read as the same pseudonym.
    assert (second["allowed"], second["code"]) == (True, "allowed")


def test_a_well_formed_pseudonym_nobody_has_is_unknown(site):
    steward = staff_user(Role.DATA_STEWARD, mfa=True)
    from dam.pseudonyms import pseudonym_generate

    body = _check(_client(steward), [pseudonym_generate()])
    assert body["results"][0]["code"] == "unknown_participant"


def test_coordinator_learns_nothing_about_other_sites_through_pseudonyms(site):
    elsewhere: Any = SiteFactory()
    coordinator = staff_user(Role.COORDINATOR, sites=[site], mfa=True)
    mine, theirs = consented(site), consented(elsewhere)
    body = _check(
        _client(coordinator),
        [pseudonym_of(participant=mine), pseudonym_of(participant=theirs)],
    )
    assert [r["code"] for r in body["results"]] == ["allowed", "unknown_participant"]


def test_query_count_stays_flat_with_pseudonyms(site):
    steward = staff_user(Role.DATA_STEWARD, mfa=True)
    codes = [pseudonym_of(participant=consented(site)) for _ in range(12)]
    client = _client(steward)
    counts = []
    for n in (2, 12):
        with CaptureQueriesContext(connection) as queries:
            _check(client, codes[:n])
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]
