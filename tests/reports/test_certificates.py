"""Ledger certificates: issued append-only, checked later, and both attacks on the chain caught
(an event rewritten with its hash recomputed, the last event of a chain deleted)."""

from __future__ import annotations

import json

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.db.utils import DatabaseError

from consent.ledger import HASHED_FIELDS, event_hash, ledger_verify, verification_code
from consent.models import ConsentEvent, LedgerVerification
from consent.services import consent_withdraw
from portal.roles import Role
from reports.certificates import certificate_check, certificate_find, certificate_issue
from reports.models import LedgerCertificate
from reports.tasks import ledger_certificate_nightly
from tests.consent import signing_builders as ca
from tests.factories import staff_user

pytestmark = pytest.mark.django_db


def _ledger(n: int = 3):
    version = ca.active_version()
    people = []
    for _ in range(n):
        participant = ca.eligible_participant()
        ca.sign_all_yes(participant, version)
        people.append(participant)
    consent_withdraw(participant=people[0], level="no_further_contact", by=None, confirmed=True)
    return people


def _as_superuser(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(sql, params)
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")


def _rewrite_choices_with_recomputed_hash(event: ConsentEvent, choices: dict) -> None:
    """What someone with database rights would do: change the event and make its hash fit."""
    values = {name: getattr(event, name) for name in HASHED_FIELDS}
    values["choices"] = choices
    digest = event_hash(values)
    _as_superuser(
        "UPDATE consent_consentevent SET choices = %s, hash = %s, verification_code = %s "
        "WHERE id = %s",
        [json.dumps(choices), digest, verification_code(digest), event.pk],
    )


def _delete_last_event(participant) -> None:
    """Delete a chain's last event, and point the projection at the one before, as an intruder
    covering their tracks would."""
    last, before = ConsentEvent.objects.filter(participant=participant).order_by("-sequence")[:2]
    _as_superuser(
        "UPDATE consent_consentstate SET last_event_id = %s WHERE participant_id = %s",
        [before.pk, participant.pk],
    )
    _as_superuser("DELETE FROM consent_consentevent WHERE id = %s", [last.pk])


def test_a_certificate_counts_events_and_chains_and_holds_while_nothing_changes():
    people = _ledger()
    certificate = certificate_issue()
    assert (certificate.events, certificate.chains) == (4, 3)
    assert certificate.ledger_ok and len(certificate.digest) == 64
    # New events after the certificate do not make it fail: it speaks of what existed then.
    consent_withdraw(participant=people[1], level="no_further_contact", by=None, confirmed=True)
    check = certificate_check(certificate=certificate)
    assert check.holds and not check.differences


def test_certificates_are_append_only():
    _ledger(1)
    certificate = certificate_issue()
    with pytest.raises(DatabaseError, match="append-only"):
        LedgerCertificate.objects.filter(pk=certificate.pk).update(digest="0" * 64)


def test_a_rewritten_last_event_with_its_hash_recomputed_is_caught_and_named():
    people = _ledger()
    certificate = certificate_issue()
    event = ConsentEvent.objects.filter(participant=people[2]).get()
    choices = dict(event.choices)
    flipped = next(iter(choices))
    choices[flipped] = not choices[flipped]
    _rewrite_choices_with_recomputed_hash(event, choices)
    assert ledger_verify().ok  # the chain alone cannot tell
    check = certificate_check(certificate=certificate)
    assert not check.holds
    assert [d.participant_code for d in check.differences] == [people[2].code]
    assert check.differences[0].then_sequence == check.differences[0].now_sequence == 1


def test_a_deleted_last_event_is_caught_and_named():
    people = _ledger()
    certificate = certificate_issue()
    _delete_last_event(people[0])
    assert ledger_verify().ok  # a shorter chain still verifies
    check = certificate_check(certificate=certificate)
    assert not check.holds
    (difference,) = check.differences
    assert difference.participant_code == people[0].code
    assert (difference.then_sequence, difference.now_sequence) == (2, 1)


def test_the_commands_issue_print_and_check_with_exit_status(capsys):
    people = _ledger()
    call_command("ledger_certificate")
    digest = capsys.readouterr().out.strip()
    assert certificate_find(reference=digest.upper()) is not None
    call_command("verify_ledger_certificate", digest)
    assert "OK" in capsys.readouterr().out
    _delete_last_event(people[0])
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_ledger_certificate", digest)
    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    assert people[0].code in out and "DIFFERS" in out


def test_the_nightly_certificate_is_mailed_to_every_board_member():
    _ledger(1)
    reviewers = [staff_user(Role.ETHICS_REVIEWER), staff_user(Role.ETHICS_REVIEWER)]
    ledger_certificate_nightly.delay()
    certificate = LedgerCertificate.objects.get()
    assert certificate.purpose == "nightly"
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.email for r in reviewers)
    assert all(certificate.digest in m.body for m in mail.outbox)


def test_a_reviewer_checks_a_certificate_on_the_page_and_sees_the_differing_chain(client):
    from django.urls import reverse

    people = _ledger()
    certificate = certificate_issue()
    _delete_last_event(people[0])
    reviewer = staff_user(Role.ETHICS_REVIEWER, mfa=True, all_sites=True)
    client.force_login(reviewer)
    url = reverse("reports:certificates")
    page = client.get(url, {"certificate": certificate.digest}).content.decode()
    assert people[0].code in page and people[1].code not in page
    assert client.get(url, {"certificate": "nonsense"}).status_code == 200


def test_a_coordinator_cannot_open_the_certificates_page(client, site):
    from django.urls import reverse

    client.force_login(staff_user(Role.COORDINATOR, sites=[site], mfa=True))
    assert client.get(reverse("reports:certificates")).status_code == 404


def _version(people):
    return ConsentEvent.objects.filter(participant=people[1]).first().version


def test_verification_continues_from_the_last_certificate_that_still_holds():
    people = _ledger()
    first = certificate_issue()
    assert first.ledger_ok and first.verified_from is None
    ca.sign_all_yes(ca.eligible_participant(), _version(people))  # a new chain
    consent_withdraw(participant=people[1], level="no_further_contact", by=None, confirmed=True)
    second = certificate_issue()
    assert second.verified_from == first and second.ledger_ok
    assert second.events == ConsentEvent.objects.count()
    run = LedgerVerification.objects.order_by("-id").first()
    assert run is not None and run.events == 2  # only the events after the first boundary
    # The first certificate, recomputed in the same pass, still holds when checked on its own.
    assert certificate_check(certificate=first).holds
    third = certificate_issue()
    assert third.verified_from == second and third.digest == second.digest


def test_a_rewritten_new_event_is_found_by_the_incremental_verification():
    people = _ledger()
    first = certificate_issue()
    newcomer = ca.eligible_participant()
    event = ca.sign_all_yes(newcomer, _version(people))
    _as_superuser(
        "UPDATE consent_consentevent SET choices = %s WHERE id = %s",
        [json.dumps({k: False for k in event.choices}), event.pk],
    )
    second = certificate_issue()
    assert second.verified_from == first
    assert not second.ledger_ok and second.broken_chains == 1


def test_a_certificate_that_no_longer_holds_makes_the_next_one_verify_everything():
    people = _ledger()
    first = certificate_issue()
    _delete_last_event(people[0])
    second = certificate_issue()
    assert second.verified_from is None  # the first one's digest changed: full verification
    assert certificate_check(certificate=first).holds is False
