"""Delivering the outbox to the dam: claim a batch, send it, record each message's answer.

Ordering and exclusivity. A batch is claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` inside one
transaction that lasts until the dam's answer is recorded, so several workers (on several
machines) never send the same row at once; a worker that dies mid-batch loses its connection, the
database drops its locks, and the rows are simply due again (the dam answers ``duplicate`` for any
it had accepted, which counts as delivered). A subject's messages go strictly in sequence order:

* the claim skips a message while an earlier message of its subject is a dead letter or waiting
  for a later attempt (back-off), and
* of what was claimed, a subject's messages are sent only as an unbroken run starting at the
  subject's lowest undelivered sequence (read after the claim, so a run whose start another worker
  holds is left for later), in order within the batch.

Answers: ``accepted`` and ``duplicate`` are delivered; ``sequence_gap`` and ``unknown_subject``
are tried again after a back-off (by then the earlier message has gone); ``invalid`` and
``withdrawn`` become dead letters with the dam's reason. A batch the dam does not answer (timeout,
unreachable, ``429``, ``503``, other ``5xx``, ``401``…) is tried again after an exponential back-off
with jitter, or after the dam's ``Retry-After`` when it gives one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections, transaction
from django.db.models import Count, Exists, F, Min, OuterRef, Q, TextField
from django.db.models.functions import Cast, Now
from django.utils import timezone

from enrollment.models import Participant, ParticipantStatus
from enrollment.services.funnel import IllegalTransition, participant_transition

from ..models import MessageType, OutboxMessage, OutboxState
from ..payloads import iso
from ..transports import (
    PreparedBatch,
    Transport,
    TransportError,
    batch_body,
    transport_from_settings,
)

__all__ = [
    "BatchOutcome",
    "DeliveryReport",
    "backoff_seconds",
    "outbox_ages",
    "outbox_deliver",
    "outbox_deliver_batch",
    "paused_for",
]

log = logging.getLogger(__name__)

_TABLE = OutboxMessage._meta.db_table
RETRY_LATER = {"sequence_gap", "unknown_subject"}
DEAD = {"invalid", "withdrawn"}
# The payload is read as JSON text and spliced into the batch as it is (no parse, no dump).
_CLAIMED_FIELDS = (
    "id", "type", "participant_id", "subject", "sequence", "occurred_at", "attempts",
)  # fmt: skip


@dataclass(slots=True)
class Claimed:
    """A claimed outbox row, as delivery needs it (plain values: no model instance per row)."""

    id: uuid.UUID
    type: str
    participant_id: int | None
    subject: str
    sequence: int | None
    occurred_at: dt.datetime
    attempts: int
    payload_text: str


@dataclass
class BatchOutcome:
    claimed: int = 0
    sent: int = 0
    accepted: int = 0
    duplicate: int = 0
    retry: int = 0
    dead: int = 0
    error: TransportError | None = None


@dataclass
class DeliveryReport:
    batches: int = 0
    sent: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    error: TransportError | None = None

    def add(self, outcome: BatchOutcome) -> None:
        self.batches += 1 if outcome.sent else 0
        self.sent += outcome.sent
        self.counts.update(
            accepted=outcome.accepted,
            duplicate=outcome.duplicate,
            retry=outcome.retry,
            dead=outcome.dead,
        )


def backoff_seconds(attempts: int, *, retry_after: float | None = None) -> float:
    """Seconds until the next attempt after ``attempts`` failed ones: exponential with "equal
    jitter" (half fixed, half random) up to ``DAM_RETRY_MAX_SECONDS``; the dam's ``Retry-After``,
    when given, is honoured as the minimum (with up to 10% jitter so waiting workers spread out)."""
    base: float = settings.DAM_RETRY_BASE_SECONDS
    cap: float = settings.DAM_RETRY_MAX_SECONDS
    exponential = min(cap, base * (2 ** max(0, attempts - 1)))
    delay: float = exponential / 2 + random.uniform(0, exponential / 2)
    if retry_after is not None:
        delay = retry_after * (1 + random.uniform(0, 0.1))
    return delay


def outbox_deliver(
    *,
    transport: Transport | None = None,
    max_seconds: float | None = None,
    ignore_schedule: bool = False,
    senders: int | None = None,
) -> DeliveryReport:
    """Deliver batches until nothing is due (or ``max_seconds`` passed, or the dam is unreachable).

    ``ignore_schedule`` (the operator's ``dam_deliver``) also sends messages waiting out a back-off,
    each at most once in this run.

    ``senders`` (default ``DAM_DELIVERY_SENDERS``) threads deliver side by side, each with its own
    database connection and connection to the dam, so that one claims, builds and records a
    batch while another waits for the dam's answer; they exclude each other exactly as separate
    workers do. A given ``transport``, or a caller inside a transaction (whose rows other
    connections cannot see), gets one sender, in the caller's thread.
    """
    senders = senders or settings.DAM_DELIVERY_SENDERS
    if transport is not None or senders <= 1 or connection.in_atomic_block:
        return _deliver_loop(
            transport or transport_from_settings(),
            _Run(max_seconds=max_seconds, ignore_schedule=ignore_schedule),
        )
    run = _Run(max_seconds=max_seconds, ignore_schedule=ignore_schedule)
    threads = [
        threading.Thread(target=_sender, args=(run, n > 0), name=f"dam-sender-{n}", daemon=True)
        for n in range(senders)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if run.crash is not None:
        raise run.crash
    return run.report


@dataclass
class _Run:
    """What the senders of one delivery run share."""

    max_seconds: float | None
    ignore_schedule: bool
    report: DeliveryReport = field(default_factory=lambda: DeliveryReport())
    started: float = field(default_factory=time.monotonic)
    started_at: dt.datetime = field(default_factory=timezone.now)
    stop: threading.Event = field(default_factory=threading.Event)
    # Set once a batch of this run got through: the dam answers, so the other senders join in.
    # (Against a dam that refuses, only one sender knocks, and it alone waits out the back-off.)
    answered: threading.Event = field(default_factory=threading.Event)
    first_done: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    crash: BaseException | None = None


def _sender(run: _Run, joins_later: bool) -> None:
    try:
        if joins_later:
            while not run.answered.wait(0.05):
                if run.stop.is_set() or run.first_done.is_set():
                    return
        _deliver_loop(transport_from_settings(), run)
    except BaseException as exc:
        run.crash = exc
        run.stop.set()
    finally:
        if not joins_later:
            run.first_done.set()
        connections.close_all()  # this thread's own database connection


def _deliver_loop(transport: Transport, run: _Run) -> DeliveryReport:
    report = run.report
    try:
        while not run.stop.is_set():
            wait = paused_for()
            if wait > 0:
                with run.lock:
                    report.error = TransportError(
                        f"the dam asked to come back later (in {wait:.0f} s)",
                        code="paused",
                        retry_after=wait,
                    )
                break
            outcome = outbox_deliver_batch(
                transport=transport,
                not_tried_since=run.started_at if run.ignore_schedule else None,
            )
            with run.lock:
                report.add(outcome)
                if outcome.error is not None:
                    report.error = outcome.error
            if outcome.error is not None:
                run.stop.set()
                break
            if outcome.sent:
                run.answered.set()
            if outcome.sent == 0:
                # Nothing was due, or everything claimed waits behind a message another sender
                # is sending: that sender carries on with it, so do not spin here.
                break
            if run.max_seconds is not None and time.monotonic() - run.started > run.max_seconds:
                break
    finally:
        close = getattr(transport, "close", None)
        if close is not None:
            close()
    return report


def outbox_deliver_batch(
    *,
    transport: Transport,
    limit: int | None = None,
    not_tried_since: dt.datetime | None = None,
) -> BatchOutcome:
    """Claim, send and record one batch. ``claimed == 0`` means nothing was due."""
    limit = limit or settings.DAM_BATCH_MAX_MESSAGES
    with transaction.atomic():
        claimed = _claim(limit, not_tried_since)
        outcome = BatchOutcome(claimed=len(claimed))
        if not claimed:
            return outcome
        messages = _sendable(claimed)
        if not messages:
            # Everything claimed waits behind a message another worker holds: not an empty outbox.
            return outcome
        batch_id = uuid.uuid4()
        batch, messages = _prepare(batch_id, messages)
        outcome.sent = len(messages)
        try:
            results = transport.send_batch(batch)
        except TransportError as exc:
            outcome.error = exc
            _record_failure(messages, exc, batch_id)
            if exc.retry_after is not None:
                _pause(exc.retry_after)
            log.warning(
                "dam delivery failed: %s",
                exc.code,
                extra={"batch_id": str(batch_id), "messages": len(messages)},
            )
            return outcome
        _record_results(messages, results, batch_id, outcome)
        return outcome


# --- the dam's "come back later" -------------------------------------------------------------

# A 429 or 503 with Retry-After is about the dam, not one batch: every worker (they share the
# cache, Redis in production) waits that long before sending anything.
PAUSE_KEY = "dam:delivery:paused_until"


def _pause(seconds: float) -> None:
    try:
        cache.set(PAUSE_KEY, time.time() + seconds, timeout=int(seconds) + 2)
    except Exception:
        log.warning("could not record the dam's Retry-After in the cache", exc_info=True)


def paused_for() -> float:
    """Seconds still to wait because the dam said so (0 when free to send)."""
    try:
        until = cache.get(PAUSE_KEY)
    except Exception:
        return 0.0
    return max(0.0, float(until) - time.time()) if until else 0.0


# --- claiming ---------------------------------------------------------------------------------


def _claim(limit: int, not_tried_since: dt.datetime | None) -> list[Claimed]:
    """Due pending rows, locked (skipping rows other workers hold), in an order where a subject's
    earlier messages come first. A row is left out while an earlier message of its subject is a
    dead letter, waits out a back-off, or would come later in that order (it then goes once the
    earlier one is delivered): so the first rows claimed can always be sent, and a crowd of
    held-back rows can never fill the claim and starve the rest."""
    earlier = OutboxMessage.objects.filter(
        participant_id=OuterRef("participant_id"), sequence__lt=OuterRef("sequence")
    ).exclude(state=OutboxState.DELIVERED)
    if not_tried_since is None:
        due = Q(next_attempt_at__lte=Now())
        earlier_blocked = earlier.filter(
            Q(state=OutboxState.DEAD)
            | Q(next_attempt_at__gt=Now())
            | Q(next_attempt_at__gt=OuterRef("next_attempt_at"))
        )
    else:
        due = Q(last_attempt_at__isnull=True) | Q(last_attempt_at__lt=not_tried_since)
        earlier_blocked = earlier.filter(
            Q(state=OutboxState.DEAD) | Q(next_attempt_at__gt=OuterRef("next_attempt_at"))
        )
    queryset = (
        OutboxMessage.objects.filter(due, state=OutboxState.PENDING)
        .filter(~Exists(earlier_blocked))
        .order_by("next_attempt_at", "created_at", "participant_id", "sequence")
        .select_for_update(skip_locked=True, of=("self",))
        .annotate(payload_text=Cast("payload", output_field=TextField()))
        .values_list(*_CLAIMED_FIELDS, "payload_text")
    )
    return [Claimed(*row) for row in queryset[:limit]]


def _sendable(claimed: list[Claimed]) -> list[Claimed]:
    """Subject messages as unbroken runs from each subject's lowest undelivered sequence, in
    sequence order; then manifests (which name subjects the same batch may register)."""
    by_subject: dict[int, list[Claimed]] = defaultdict(list)
    manifests = []
    for message in claimed:
        if message.participant_id is None:
            manifests.append(message)
        else:
            by_subject[message.participant_id].append(message)
    lowest = _lowest_undelivered(list(by_subject))
    ordered: list[Claimed] = []
    for participant_id in sorted(by_subject):
        expected = lowest.get(participant_id)
        for message in sorted(by_subject[participant_id], key=lambda m: m.sequence or 0):
            if message.sequence != expected:
                break
            ordered.append(message)
            expected = (expected or 0) + 1
    return ordered + manifests


def _lowest_undelivered(participant_ids: list[int]) -> dict[int, int]:
    """Each subject's lowest undelivered sequence (along ``outbox_undelivered``). The ids go as
    one array parameter: a thousand placeholders cost more to build and parse than the query."""
    if not participant_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT participant_id, MIN(sequence) FROM {_TABLE} "  # noqa: S608
            "WHERE participant_id = ANY(%s) AND NOT (state = %s) GROUP BY participant_id",
            [participant_ids, OutboxState.DELIVERED.value],
        )
        return dict(cursor.fetchall())


def _prepare(batch_id: uuid.UUID, messages: list[Claimed]) -> tuple[PreparedBatch, list[Claimed]]:
    """The batch of the interface, its exact bytes built once. It is cut so that it stays within
    its byte limit; a cut keeps each subject's messages a prefix of its run (they are grouped
    and ordered)."""
    head = batch_body({"batch_id": str(batch_id), "sent_at": iso(timezone.now())})[:-1]
    budget = settings.DAM_BATCH_MAX_BYTES - len(head) - len(b',"messages":[]}')
    parts: list[bytes] = []
    envelopes: list[dict[str, Any]] = []
    kept: list[Claimed] = []
    for message in messages:
        envelope: dict[str, Any] = {"id": str(message.id), "type": message.type}
        if message.type != MessageType.MANIFEST_SUBMITTED:
            envelope["subject"] = message.subject
            envelope["sequence"] = message.sequence
        envelope["occurred_at"] = iso(message.occurred_at)
        part = batch_body(envelope)[:-1] + b',"payload":' + message.payload_text.encode() + b"}"
        size = len(part) + 1
        if size > budget:
            if not kept:
                # A single message beyond the limit can never be sent: the cause must be fixed.
                _dead(message, "too_large", "the message alone is larger than a batch may be")
                continue
            break
        budget -= size
        parts.append(part)
        envelopes.append(envelope)
        kept.append(message)
    body = head + b',"messages":[' + b",".join(parts) + b"]}"
    batch = PreparedBatch(
        batch_id=str(batch_id), sent_at=json.loads(head + b"}")["sent_at"], messages=envelopes
    )
    batch.body = body
    return batch, kept


# --- recording --------------------------------------------------------------------------------


def _record_failure(messages: list[Claimed], exc: TransportError, batch_id: uuid.UUID) -> None:
    now = timezone.now()
    # One back-off for the whole batch: its messages were refused together.
    attempts = max(m.attempts for m in messages) + 1
    delay = backoff_seconds(attempts, retry_after=exc.retry_after)
    OutboxMessage.objects.filter(pk__in=[m.id for m in messages]).update(
        attempts=F("attempts") + 1,
        last_attempt_at=now,
        next_attempt_at=now + dt.timedelta(seconds=delay),
        error_code=exc.code[:32],
        last_error=str(exc)[:1000],
        batch_id=batch_id,
    )


def _record_results(
    messages: list[Claimed],
    results: list[dict[str, Any]],
    batch_id: uuid.UUID,
    outcome: BatchOutcome,
) -> None:
    now = timezone.now()
    answers = {str(r.get("id")): r for r in results if isinstance(r, dict)}
    delivered: dict[str, list[Claimed]] = defaultdict(list)
    retry: list[tuple[Claimed, str, str]] = []
    dead: list[tuple[Claimed, str, str]] = []
    for message in messages:
        answer = answers.get(str(message.id))
        status = str(answer.get("status", "")) if answer else ""
        error = str(answer.get("error", "") or "")[:32] if answer else ""
        detail = str(answer.get("detail", "") or "")[:1000] if answer else ""
        if status in ("accepted", "duplicate"):
            delivered[status].append(message)
        elif status == "rejected" and error in DEAD:
            dead.append((message, error, detail))
        else:
            # sequence_gap, unknown_subject, or an answer we do not understand: try again later.
            retry.append((message, error or "no_answer", detail or f"dam status {status!r}"))
    _mark_delivered(delivered, batch_id, now)
    outcome.accepted = len(delivered.get("accepted", []))
    outcome.duplicate = len(delivered.get("duplicate", []))
    if retry:
        OutboxMessage.objects.bulk_update(
            [
                OutboxMessage(
                    pk=message.id,
                    attempts=message.attempts + 1,
                    last_attempt_at=now,
                    next_attempt_at=now
                    + dt.timedelta(seconds=backoff_seconds(message.attempts + 1)),
                    error_code=error,
                    last_error=detail,
                    dam_status="rejected" if error != "no_answer" else "",
                    batch_id=batch_id,
                )
                for message, error, detail in retry
            ],
            ["attempts", "last_attempt_at", "next_attempt_at", "error_code", "last_error",
             "dam_status", "batch_id"],
        )  # fmt: skip
    outcome.retry = len(retry)
    for message, error, detail in dead:
        _dead(message, error, detail or error, answered_at=now, batch_id=batch_id)
    outcome.dead = len(dead)
    accepted = delivered.get("accepted", [])
    if accepted:
        _funnel_in_dam(accepted)


def _mark_delivered(
    delivered: dict[str, list[Claimed]], batch_id: uuid.UUID, now: dt.datetime
) -> None:
    """Every message the dam accepted (or already had) marked delivered, in one statement."""
    ids = [m.id for group in delivered.values() for m in group]
    if not ids:
        return
    statuses = [status for status, group in delivered.items() for _m in group]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_TABLE} AS o SET state = %s, dam_status = answer.status, "  # noqa: S608
            "delivered_at = %s, attempts = o.attempts + 1, last_attempt_at = %s, "
            "error_code = '', last_error = '', batch_id = %s "
            "FROM unnest(%s::uuid[], %s::text[]) AS answer(id, status) WHERE o.id = answer.id",
            [OutboxState.DELIVERED.value, now, now, batch_id, ids, statuses],
        )


def _dead(
    message: Claimed,
    code: str,
    detail: str,
    *,
    answered_at: dt.datetime | None = None,
    batch_id: uuid.UUID | None = None,
) -> None:
    """A dead letter: refused for good (or too large to send). ``answered_at`` when the dam
    answered it (an attempt), else it never left."""
    fields: dict[str, Any] = {
        "state": OutboxState.DEAD,
        "error_code": code[:32],
        "last_error": detail[:1000],
    }
    if answered_at is not None:
        fields.update(
            attempts=message.attempts + 1,
            last_attempt_at=answered_at,
            batch_id=batch_id,
            dam_status="rejected",
        )
    OutboxMessage.objects.filter(pk=message.id).update(**fields)
    log.warning("dam dead letter: %s", code, extra={"message_id": str(message.id)})


def _funnel_in_dam(accepted: Iterable[Claimed]) -> None:
    """The funnel's "in the dam" step for subjects the dam has now accepted a message about
    (a subject message, or a manifest naming them), when their status allows the step."""
    participant_ids = {m.participant_id for m in accepted if m.participant_id is not None}
    codes = {
        str(sample.get("subject"))
        for m in accepted
        if m.type == MessageType.MANIFEST_SUBMITTED
        for sample in (json.loads(m.payload_text).get("samples") or [])
        if isinstance(sample, dict)
    }
    if codes:
        from ..models import Pseudonym

        participant_ids.update(
            Pseudonym.objects.filter(code__in=codes).values_list("participant_id", flat=True)
        )
    if not participant_ids:
        return
    # Usually none are ready (most accepted messages are consent facts): find the few by one
    # array parameter, then load only those.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {Participant._meta.db_table} "  # noqa: S608
            "WHERE id = ANY(%s) AND status = %s",
            [list(participant_ids), ParticipantStatus.SAMPLE_COLLECTED.value],
        )
        ready_ids = [row[0] for row in cursor.fetchall()]
    if not ready_ids:
        return
    for participant in Participant.objects.filter(pk__in=ready_ids).only("pk"):
        # The status may have moved on meanwhile (a withdrawal): then there is nothing to step.
        with contextlib.suppress(IllegalTransition):
            participant_transition(
                participant=participant,
                to_status=ParticipantStatus.IN_DAM,
                actor=None,
                reason="accepted by the data dam",
            )


def outbox_ages() -> tuple[float | None, float | None, int]:
    """Seconds since the oldest pending message was written, the same for dead letters, and how
    many dead letters there are (each read along its partial index)."""
    now = timezone.now()
    pending = OutboxMessage.objects.filter(state=OutboxState.PENDING).aggregate(
        oldest=Min("created_at")
    )["oldest"]
    dead = OutboxMessage.objects.filter(state=OutboxState.DEAD).aggregate(
        oldest=Min("created_at"), n=Count("pk")
    )

    def age(at: dt.datetime | None) -> float | None:
        return None if at is None else max(0.0, (now - at).total_seconds())

    return age(pending), age(dead["oldest"]), int(dead["n"] or 0)
