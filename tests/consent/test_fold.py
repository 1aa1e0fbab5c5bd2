"""One definition of "the consent of P at time T" (``consent.projection.state_fold``).

The property test writes random histories through the real event service (``event_append``: real
hashes, the live projection refreshed as the portal refreshes it), then holds the fold to a naive
reference written differently (latest event of each kind instead of a step-by-step fold), for a
spread of times; the live projection to the fold of the whole chain and to a rebuild; and the check
"now" to the check "as of now".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from consent.ledger import format_time
from consent.models import ConsentEvent, ConsentState, ConsentVersion, Purpose
from consent.projection import (
    CONSENTING_KINDS,
    ReconsentRule,
    state_fold,
    state_rebuild_all,
    state_refresh,
)
from consent.selectors.checks import consent_allows, consent_allows_bulk
from consent.services import ItemSpec, consent_update, consent_void
from consent.services.events import event_append, participant_lock
from tests.consent import signing_builders as ca
from tests.factories import ParticipantFactory, UserFactory

pytestmark = pytest.mark.django_db

LEVELS = ["no_further_contact", "no_further_collection", "no_further_use"]
CODES = ["data_sharing", "sample_storage", "genomic_analysis", "recontact"]


@pytest.fixture
def versions() -> tuple[ConsentVersion, ConsentVersion]:
    """v1 (replaced by v2, which asks one more item: consents on v1 are due for re-consent)."""
    v1 = ca.active_version(label="1.0")
    v2 = ca.active_version(
        label="2.0",
        items=[*ca.ITEMS, ItemSpec("overseas_transfer", "국외 이전", "국외 이전", False)],
    )
    v1.refresh_from_db()
    return v1, v2


# --- the naive reference ------------------------------------------------------------------------


def _key(event: ConsentEvent) -> tuple[dt.datetime, int]:
    return event.signed_at, event.sequence


def reference(events: list[ConsentEvent], at: dt.datetime | None) -> dict[str, Any]:
    """The consent as of ``at``, by looking for the latest event of each kind (no step-by-step)."""
    voided = {e.voids_id for e in events if e.kind == "void"}
    valid = [
        e
        for e in events
        if e.kind != "void" and e.pk not in voided and (at is None or e.signed_at <= at)
    ]
    signs = [e for e in valid if e.kind in ("grant", "reconsent")]
    withdrawals = [e for e in valid if e.kind == "withdraw"]

    def counts(update: ConsentEvent) -> bool:
        # A change counts when the latest signature or withdrawal before it is a signature.
        before = [e for e in signs + withdrawals if _key(e) < _key(update)]
        return bool(before) and max(before, key=_key).kind != "withdraw"

    consents = signs + [e for e in valid if e.kind == "update" and counts(e)]
    last_consent = max(consents, key=_key, default=None)
    last_withdrawal = max(withdrawals, key=_key, default=None)
    answer: dict[str, Any] = {
        "version_id": None,
        "status": "",
        "choices": {},
        "first_granted_at": {},
        "signed_at": None,
        "withdrawal_level": "",
        "samples_fate": "",
        "majority_since": None,
    }
    if last_consent is not None:
        answer["version_id"] = last_consent.version_id
        answer["choices"] = dict(last_consent.choices)
        answer["signed_at"] = last_consent.signed_at
        answer["status"] = "active"
        for code in {c for e in consents for c, yes in e.choices.items() if yes}:
            first = min(e.signed_at for e in consents if e.choices.get(code))
            answer["first_granted_at"][code] = format_time(first)
    if last_withdrawal is not None and (
        last_consent is None or _key(last_withdrawal) > _key(last_consent)
    ):
        answer["status"] = "withdrawn"
        answer["withdrawal_level"] = last_withdrawal.withdrawal_level
        answer["samples_fate"] = last_withdrawal.samples_fate
        if last_consent is None:
            answer["version_id"] = min(withdrawals, key=_key).version_id
    if not answer["status"] and any(
        e.pk in voided and e.kind in CONSENTING_KINDS and (at is None or e.signed_at <= at)
        for e in events
    ):
        answer["status"] = "voided"
    # Came of age: the earliest majority event after the last self-signed consent, when the
    # consent in force then was a representative's.
    candidates = []
    for majority in (e for e in valid if e.kind == "majority"):
        before = [e for e in signs if _key(e) < _key(majority)]
        by_representative = before and max(before, key=_key).signer_kind == "legal_representative"
        signed_since = any(_key(e) > _key(majority) and e.signer_kind == "self" for e in signs)
        if by_representative and not signed_since:
            candidates.append(majority.signed_at)
    answer["majority_since"] = min(candidates) if candidates and answer["status"] else None
    if answer["status"] == "voided":
        answer["majority_since"] = None
    if answer["status"] == "active" and (
        answer["majority_since"] is not None or ReconsentRule()(answer["version_id"])
    ):
        answer["status"] = "reconsent_due"
    return answer


# --- random histories ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    kind: str  # grant, reconsent, update, withdraw, void, paper, majority
    days_ago: int | None  # None: signed now (web); else back-dated (paper entered late)
    on_v2: bool
    choices: tuple[bool, ...]
    level: int
    target: int  # which earlier consent a void voids
    by_representative: bool = False


steps = st.builds(
    Step,
    kind=st.sampled_from(
        ["grant", "reconsent", "update", "withdraw", "void", "paper", "paper", "majority"]
    ),
    days_ago=st.one_of(st.none(), st.integers(min_value=0, max_value=40)),
    on_v2=st.booleans(),
    choices=st.tuples(*[st.booleans()] * 5),
    level=st.integers(min_value=0, max_value=2),
    target=st.integers(min_value=0, max_value=10),
    by_representative=st.booleans(),
)


def _write(participant: Any, versions: tuple[ConsentVersion, ...], history: list[Step]) -> None:
    """Each step is one event through the real event service (and its live projection)."""
    now = timezone.now()
    for step in history:
        version = versions[1] if step.on_v2 else versions[0]
        codes = list(version.items.values_list("code", flat=True))
        choices = dict(zip(codes, step.choices, strict=False))
        signed_at = None if step.days_ago is None else now - dt.timedelta(days=step.days_ago)
        signer_kind = "legal_representative" if step.by_representative else "self"
        with transaction.atomic():
            locked = participant_lock(participant)
            consents = list(
                ConsentEvent.objects.filter(
                    participant=locked, kind__in=["grant", "reconsent"], voided_by__isnull=True
                ).order_by("sequence")
            )
            if step.kind == "void":
                if not consents:
                    continue
                event_append(
                    participant=locked,
                    kind="void",
                    signed_at=None,
                    channel="site_tablet",
                    version=None,
                    voids=consents[step.target % len(consents)],
                    reason="quality check failed",
                )
            elif step.kind == "withdraw":
                event_append(
                    participant=locked,
                    kind="withdraw",
                    signed_at=signed_at,
                    channel="web",
                    version=version,
                    choices=choices,
                    withdrawal_level=LEVELS[step.level],
                    samples_fate="destroy" if step.level == 2 else "",
                )
            elif step.kind == "majority":
                event_append(
                    participant=locked,
                    kind="majority",
                    signed_at=signed_at,
                    channel="web",
                    reason="came of age",
                )
            elif step.kind == "paper":
                event_append(
                    participant=locked,
                    kind="grant" if not consents else "reconsent",
                    signed_at=signed_at or now - dt.timedelta(days=1),
                    channel="scanned_paper",
                    method="paper",
                    version=version,
                    choices=choices,
                    signer_kind=signer_kind,
                )
            else:
                event_append(
                    participant=locked,
                    kind=step.kind,
                    signed_at=None if step.kind == "update" else signed_at,
                    channel="web",
                    method="typed_name",
                    version=version,
                    choices=choices,
                    signer_kind=signer_kind,
                )


def _times(events: list[ConsentEvent]) -> list[dt.datetime]:
    tick = dt.timedelta(microseconds=1)
    times = {timezone.now()}
    for event in events:
        times |= {event.signed_at - tick, event.signed_at, event.signed_at + tick}
    return sorted(times)


@settings(
    max_examples=30,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=st.lists(steps, min_size=1, max_size=8))
def test_every_history_has_one_answer_at_every_time(versions, history):
    with transaction.atomic():
        participant = ParticipantFactory()
        _write(participant, versions, history)
        events = list(ConsentEvent.objects.filter(participant=participant).order_by("sequence"))
        rule = ReconsentRule()
        live = ConsentState.objects.filter(participant=participant).first()
        if not events:
            assert live is None
            transaction.set_rollback(True)
            return
        # As of every time: the fold equals the naive reference.
        for at in _times(events):
            assert state_fold(events, needs_reconsent=rule, at=at).answer() == reference(
                events, at
            ), at
        # The current state is the state as of now, by construction.
        current = state_fold(events, needs_reconsent=rule)
        assert (
            current.answer() == state_fold(events, needs_reconsent=rule, at=timezone.now()).answer()
        )
        # The live projection (folded one event at a time) equals the fold of the whole chain...
        assert live is not None
        assert {name: getattr(live, name) for name in current.as_fields()} == current.as_fields()
        # ... and a rebuild of it.
        rebuilt = state_refresh(participant_id=participant.pk)
        assert {name: getattr(rebuilt, name) for name in current.as_fields()} == (
            current.as_fields()
        )
        # The check "now" (SQL over the projection) and "as of now" (the fold) agree.
        for purpose in Purpose.objects.filter(is_active=True):
            now = consent_allows(participant, purpose)
            assert now == consent_allows(participant, purpose, at=timezone.now()), purpose.code
        transaction.set_rollback(True)


def test_rebuilding_every_state_gives_the_live_projection(versions):
    participants = [ParticipantFactory() for _ in range(3)]
    history = [
        Step("grant", 10, False, (True,) * 5, 0, 0),
        Step("update", None, False, (True, True, False, False, True), 0, 0),
        Step("paper", 5, True, (True,) * 5, 0, 0),
        Step("void", None, False, (True,) * 5, 0, 1),
        Step("withdraw", None, False, (True,) * 5, 1, 0),
    ]
    for count, participant in enumerate(participants, start=3):
        _write(participant, versions, history[:count])
    live = {s.pk: s for s in ConsentState.objects.all()}
    assert state_rebuild_all() == 3
    for state in ConsentState.objects.all():
        before = live[state.pk]
        for name in ("status", "version_id", "choices", "first_granted_at", "withdrawal_level"):
            assert getattr(state, name) == getattr(before, name)


# --- the reproductions of issue 8 ------------------------------------------------------------------


def test_paper_consent_entered_after_a_later_web_change_does_not_override_it(versions):
    """Signed on paper (v1, recontact yes) on day 1; on day 2 a web change declines recontact; the
    paper is entered on day 3. Now and as of now, recontact is declined."""
    v1, v2 = versions
    participant = ca.eligible_participant()
    ca.sign_all_yes(participant, v2)
    now = timezone.now()
    # The web change (today) ...
    consent_update(participant=participant, choices={"recontact": False}, by=None, confirmed=True)
    with transaction.atomic():
        locked = participant_lock(participant)
        # ... and the paper form signed yesterday, entered after it.
        event_append(
            participant=locked,
            kind="reconsent",
            signed_at=now - dt.timedelta(days=1),
            channel="scanned_paper",
            method="paper",
            version=v1,
            choices=ca.all_yes(v1),
        )
    purpose = "recontact_new_study"
    assert consent_allows(participant, purpose).reason == "item recontact declined"
    assert consent_allows(participant, purpose, at=timezone.now()).reason == (
        "item recontact declined"
    )
    assert ConsentState.objects.get(participant=participant).version_id == v2.pk


def test_void_of_a_consent_after_a_later_web_change_leaves_no_consent_in_force(versions):
    """A tablet consent, then a web change of choices, then the tablet consent fails its quality
    check: the change changed a consent that never counted. Now and as of now: consent voided."""
    _v1, v2 = versions
    participant = ca.eligible_participant()
    grant = ca.sign_all_yes(participant, v2)
    consent_update(participant=participant, choices={"recontact": False}, by=None, confirmed=True)
    consent_void(event=grant, by=UserFactory(), reason="no countersignature")
    purpose = "general_research"
    assert consent_allows(participant, purpose).reason == "consent voided"
    assert consent_allows(participant, purpose, at=timezone.now()).reason == "consent voided"
    codes = [participant.code]
    assert consent_allows_bulk(codes=codes, purpose=purpose)[participant.code].reason == (
        "consent voided"
    )


def test_an_event_signed_after_it_is_recorded_is_refused(versions):
    from django.core.exceptions import ValidationError

    v1, _v2 = versions
    participant = ca.eligible_participant()
    with pytest.raises(ValidationError), transaction.atomic():
        event_append(
            participant=participant_lock(participant),
            kind="grant",
            signed_at=timezone.now() + dt.timedelta(hours=1),
            channel="scanned_paper",
            method="paper",
            version=v1,
            choices=ca.all_yes(v1),
        )
    assert not ConsentEvent.objects.filter(participant=participant).exists()
