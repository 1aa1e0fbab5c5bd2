import datetime as dt
import threading

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction

from enrollment.models import FunnelCurrent, FunnelDaily, Participant, StatusTransition
from enrollment.services.funnel import (
    IllegalTransition,
    participant_record_created,
    participant_site_change,
    participant_transition,
    participants_record_created_bulk,
)
from tests.enrollment.funnel_helpers import (
    current_direct,
    current_from_aggregates,
    daily_direct,
    daily_from_aggregates,
    monthly_direct,
    monthly_from_aggregates,
    registered,
    walk,
)
from tests.factories import CohortFactory, ParticipantFactory, SiteFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


def test_creation_is_recorded_as_the_first_step():
    participant = ParticipantFactory()
    transition = participant_record_created(participant=participant, actor=None)
    assert (transition.from_status, transition.to_status) == ("", "registered")
    assert transition.site_id_at == participant.site_id
    assert current_from_aggregates() == current_direct()
    assert sum(daily_from_aggregates().values()) == 1


def test_full_path_to_the_dam_records_every_step_with_time_and_actor():
    actor = UserFactory()
    participant = walk(registered(), 4, actor=actor)
    participant.refresh_from_db()
    assert participant.status == "in_dam"
    steps = list(participant.transitions.values_list("from_status", "to_status", "actor_id"))
    assert steps == [
        ("", "registered", None),
        ("registered", "eligible", actor.pk),
        ("eligible", "consented", actor.pk),
        ("consented", "sample_collected", actor.pk),
        ("sample_collected", "in_dam", actor.pk),
    ]


def test_illegal_step_is_refused_with_a_plain_message_and_changes_nothing():
    participant = registered()
    before = (current_from_aggregates(), daily_from_aggregates())
    with pytest.raises(IllegalTransition) as refused:
        participant_transition(participant=participant, to_status="consented", actor=None)
    message = refused.value.messages[0]
    assert "cannot become" in message
    assert "Registered" in message and "Consented" in message
    assert "Screened: eligible" in message  # the allowed next steps are named
    participant.refresh_from_db()
    assert participant.status == "registered"
    assert participant.transitions.count() == 1
    assert (current_from_aggregates(), daily_from_aggregates()) == before


def test_withdrawn_participant_cannot_move_again():
    participant = registered()
    participant_transition(participant=participant, to_status="withdrawn", actor=None)
    with pytest.raises(IllegalTransition, match="withdrawn"):
        participant_transition(participant=participant, to_status="eligible", actor=None)


def test_same_status_is_refused():
    participant = registered()
    with pytest.raises(IllegalTransition, match="already"):
        participant_transition(participant=participant, to_status="registered", actor=None)


def test_unknown_status_is_refused():
    with pytest.raises(IllegalTransition, match="not a participant status"):
        participant_transition(participant=registered(), to_status="cured", actor=None)


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (["ineligible", "eligible"], True),  # re-screening
        (["eligible", "consented", "eligible"], True),  # consent voided by QC
        (["eligible", "consented", "sample_collected", "withdrawn"], True),
        (["eligible", "sample_collected"], False),
        (["ineligible", "consented"], False),
        (["eligible", "consented", "in_dam"], False),
    ],
)
def test_allowed_steps(path, allowed):
    participant = registered()
    *first, last = path
    for status in first:
        participant_transition(participant=participant, to_status=status, actor=None)
    if allowed:
        participant_transition(participant=participant, to_status=last, actor=None)
        assert participant.status == last
    else:
        with pytest.raises(IllegalTransition):
            participant_transition(participant=participant, to_status=last, actor=None)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE enrollment_statustransition SET to_status = 'in_dam'",
        "DELETE FROM enrollment_statustransition",
    ],
)
def test_transitions_are_append_only(statement):
    registered()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)


def test_aggregates_equal_a_direct_count_after_a_mix_of_transitions():
    sites = [SiteFactory(), SiteFactory()]
    rare = CohortFactory(code="rare", name="Rare", group="rare_disease")
    people = []
    for i in range(24):
        p = registered(
            site=sites[i % 2] if i % 5 else None,
            cohort=rare if i % 3 == 0 else CohortFactory(),
            birth_year=1940 + i * 3,
            sex="male" if i % 2 else "female",
        )
        people.append(walk(p, i % 5))
    participant_transition(participant=people[3], to_status="withdrawn", actor=None)
    participant_transition(participant=people[7], to_status="eligible", actor=None)  # QC void
    participant_transition(participant=people[4], to_status="withdrawn", actor=None)
    ineligible = registered(site=sites[0])
    participant_transition(participant=ineligible, to_status="ineligible", actor=None)
    participant_transition(participant=ineligible, to_status="eligible", actor=None)

    assert current_from_aggregates() == current_direct()
    assert daily_from_aggregates() == daily_direct()
    assert monthly_from_aggregates() == monthly_direct()


def test_site_change_moves_the_counts_and_survives_a_rebuild():
    first, second = SiteFactory(), SiteFactory()
    participant = walk(registered(site=first), 2)
    participant_site_change(participant=participant, site=second, actor=None, reason="moved")
    participant.refresh_from_db()
    assert participant.site == second and participant.status == "consented"
    walk_more = participant_transition(
        participant=participant, to_status="sample_collected", actor=None
    )
    assert walk_more.site_id_at == second.pk
    assert current_from_aggregates() == current_direct()
    assert daily_from_aggregates() == daily_direct()
    call_command("rebuild_funnel_aggregates")
    assert current_from_aggregates() == current_direct()
    assert daily_from_aggregates() == daily_direct()
    with pytest.raises(ValidationError, match="already at this site"):
        participant_site_change(participant=participant, site=second, actor=None)


def test_backdated_transition_lands_on_its_seoul_day():
    participant = registered()
    # 23:30 UTC on 31 January is 08:30 on 1 February in Seoul.
    at = dt.datetime(2025, 1, 31, 23, 30, tzinfo=dt.UTC)
    participant_transition(participant=participant, to_status="eligible", actor=None, at=at)
    row = FunnelDaily.objects.get(status="eligible")
    assert row.day == dt.date(2025, 2, 1)
    assert monthly_from_aggregates()[(dt.date(2025, 2, 1), row.site_id, row.cohort_id, "eligible")]


def test_bulk_creation_counts_like_one_by_one():
    site = SiteFactory()
    people = [ParticipantFactory(site=site, birth_year=1950 + i) for i in range(30)]
    transitions = participants_record_created_bulk(participants=people, actor=None)
    assert len(transitions) == 30
    assert current_from_aggregates() == current_direct()
    assert daily_from_aggregates() == daily_direct()


def test_bulk_creation_refuses_a_participant_not_registered():
    participant: Participant = ParticipantFactory(status="consented")
    with pytest.raises(IllegalTransition):
        participants_record_created_bulk(participants=[participant], actor=None)
    assert not StatusTransition.objects.exists()


def test_rebuild_command_restores_aggregates_equal_to_a_direct_count():
    site = SiteFactory()
    for i in range(12):
        walk(registered(site=site, birth_year=1950 + i * 4), i % 5)
    participant_transition(
        participant=Participant.objects.filter(status="consented").first(),
        to_status="withdrawn",
        actor=None,
    )
    # Damage the aggregates, then rebuild them from the log.
    FunnelCurrent.objects.update(n=999)
    FunnelDaily.objects.all().delete()
    call_command("rebuild_funnel_aggregates")
    assert current_from_aggregates() == current_direct()
    assert daily_from_aggregates() == daily_direct()
    assert monthly_from_aggregates() == monthly_direct()


@pytest.mark.django_db(transaction=True)
def test_concurrent_transitions_lose_no_count():
    site = SiteFactory()
    cohort = CohortFactory()
    people = [registered(site=site, cohort=cohort, birth_year=1980) for _ in range(16)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def work(chunk: list[Participant]) -> None:
        try:
            barrier.wait()
            for p in chunk:
                walk(p, 3)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(people[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert current_from_aggregates() == current_direct()
    assert (
        current_from_aggregates()[(site.pk, cohort.pk, "sample_collected", "40-49", "female")] == 16
    )
    assert daily_from_aggregates() == daily_direct()


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_steps_of_one_participant_are_decided_one_after_the_other():
    participant = walk(registered(), 1)  # eligible
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def step(to_status: str) -> None:
        try:
            barrier.wait()
            participant_transition(
                participant=Participant.objects.get(pk=participant.pk),
                to_status=to_status,
                actor=None,
            )
            outcomes.append("ok")
        except IllegalTransition:
            outcomes.append("refused")
        finally:
            connections.close_all()

    # Both start from "eligible": consent, then a second consent that must see "consented".
    threads = [threading.Thread(target=step, args=("consented",)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert participant.transitions.filter(to_status="consented").count() == 1
    assert current_from_aggregates() == current_direct()
