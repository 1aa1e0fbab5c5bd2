"""The audit log's hash chain: seals over runs of audit rows, and their verification.

Audit rows are written by every request that reads personal data, so chaining each row to the
previous one would make every such request wait for one lock. Instead a periodic task
(``audit_seal``) seals the rows written more than ``AUDIT_SEAL_SETTLE_SECONDS`` ago, in id order:
one ``AuditSeal`` covers the ids after the previous seal up to the last settled row, and its hash
covers the previous seal's hash, the range and every row in it. ``audit_chain_verify`` recomputes
every seal (the nightly verification runs it): a row changed, removed or inserted into a sealed
range, or a seal removed, is named.

Canonical row: JSON with sorted keys, no whitespace, UTF-8, the time in UTC with microseconds.
A transaction that keeps an audit row uncommitted for longer than the settling time could commit it
inside a sealed range; the verification would report it as a row slipped in, which is the safe
side to err on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import AuditEvent, AuditSeal

FORMAT = b"audit-seal/1\n"
PAGE = 5_000
ROW_FIELDS = (
    "id",
    "at",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "reason",
    "request_id",
    "client_ip",
    "outcome",
    "details",
)
logger = logging.getLogger(__name__)


def row_canonical(values: dict[str, Any]) -> bytes:
    """The bytes of one audit row that are hashed."""
    document = dict(values)
    at = document["at"]
    if isinstance(at, dt.datetime):
        document["at"] = at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _rows(after_id: int, last_id: int) -> Iterator[dict[str, Any]]:
    """Audit rows with ``after_id < id <= last_id`` in id order, read a page at a time."""
    cursor = after_id
    while True:
        page = list(
            AuditEvent.objects.filter(id__gt=cursor, id__lte=last_id)
            .order_by("id")
            .values(*ROW_FIELDS)[:PAGE]
        )
        yield from page
        if len(page) < PAGE:
            return
        cursor = page[-1]["id"]


def seal_hash(*, prev_hash: str, after_id: int, last_id: int) -> tuple[str, int]:
    """The hash of a seal over the stored rows of its range, and how many rows there are."""
    digest = hashlib.sha256(FORMAT)
    digest.update(f"{prev_hash}\n{after_id}\n{last_id}\n".encode())
    count = 0
    for row in _rows(after_id, last_id):
        digest.update(row_canonical(row) + b"\n")
        count += 1
    return digest.hexdigest(), count


def audit_seal(*, settle_seconds: int | None = None, max_rows: int = 50_000) -> AuditSeal | None:
    """Seal the settled audit rows after the last seal (at most ``max_rows``); ``None`` when
    there is nothing to seal or another sealer got there first."""
    if settle_seconds is None:
        settle_seconds = settings.AUDIT_SEAL_SETTLE_SECONDS
    cutoff = timezone.now() - dt.timedelta(seconds=settle_seconds)
    previous = AuditSeal.objects.order_by("-after_id").first()
    after_id = previous.last_id if previous else 0
    prev_hash = previous.hash if previous else ""
    settled = (
        AuditEvent.objects.filter(id__gt=after_id, at__lt=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:max_rows]
    )
    ids = list(settled)
    if not ids:
        return None
    last_id = ids[-1]
    digest, count = seal_hash(prev_hash=prev_hash, after_id=after_id, last_id=last_id)
    try:
        with transaction.atomic():
            # ``after_id`` is unique: of two sealers racing, one wins and the chain stays linear.
            return AuditSeal.objects.create(
                after_id=after_id, last_id=last_id, rows=count, prev_hash=prev_hash, hash=digest
            )
    except IntegrityError:
        return None


def audit_seal_all(*, settle_seconds: int | None = None) -> int:
    """Seal until nothing settled is left; the number of seals written."""
    written = 0
    while audit_seal(settle_seconds=settle_seconds) is not None:
        written += 1
    return written


@dataclass
class AuditChainResult:
    seals: int = 0
    rows: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def audit_chain_verify() -> AuditChainResult:
    """Recompute every seal in order; name each one whose rows or links differ."""
    result = AuditChainResult()
    prev_hash, expected_after = "", 0
    for seal in AuditSeal.objects.order_by("after_id").iterator(chunk_size=1000):
        result.seals += 1
        if seal.after_id != expected_after:
            result.problems.append(
                f"seal {seal.pk}: starts after row {seal.after_id}, the chain after "
                f"{expected_after} (a seal is missing)"
            )
        if seal.prev_hash != prev_hash:
            result.problems.append(f"seal {seal.pk}: previous hash differs")
        digest, count = seal_hash(
            prev_hash=seal.prev_hash, after_id=seal.after_id, last_id=seal.last_id
        )
        result.rows += count
        if count != seal.rows:
            result.problems.append(
                f"seal {seal.pk}: {count} rows in ({seal.after_id}, {seal.last_id}], "
                f"{seal.rows} sealed"
            )
        elif digest != seal.hash:
            result.problems.append(
                f"seal {seal.pk}: a row in ({seal.after_id}, {seal.last_id}] changed"
            )
        prev_hash, expected_after = seal.hash, seal.last_id
    return result


def audit_chain_verification_run() -> AuditChainResult:
    """Seal what has settled, verify the whole chain, and record the outcome as an audit row."""
    from .audit import Action, audit_record

    audit_seal_all()
    result = audit_chain_verify()
    audit_record(
        action=Action.AUDIT_CHAIN_VERIFIED,
        object_type="portal.auditseal",
        outcome="ok" if result.ok else "broken",
        details={"seals": result.seals, "rows": result.rows, "problems": result.problems[:20]},
    )
    if not result.ok:
        # Loud on purpose: someone changed the audit log behind the application.
        logger.error("audit chain verification: %s", "; ".join(result.problems[:5]))
    return result
