"""Ledger certificates: anchoring the consent ledger outside the database.

The hash chains of ``consent.ledger`` show that no event was changed *within* a chain, but not that
a chain is still as long as it was, or that nobody rewrote an event and recomputed every hash after
it. A certificate closes that gap. It records, at one moment:

* the boundary: the highest event id that existed (events are taken with a brief ``SHARE`` lock
  on the ledger table, which waits for signings in flight to commit and holds new ones back for
  that instant, so every event up to the boundary is committed and every later event has a
  higher id);
* the number of events up to the boundary, and the verification result of every chain;
* the digest: SHA-256 over ``"dam-portal ledger certificate v1"``, the boundary, the event count
  and one line ``participant:sequence:hash`` per chain head as of the boundary, in participant
  order.

The digest is printed on every consent report and e-mailed to the ethics boards each night, so
copies live outside the database. Checking a certificate recomputes the heads as of its boundary
from the ledger as it is now: an event deleted, rewritten (even with its hash and every later hash
recomputed) or slipped in below the boundary changes a head, and so the digest.

Verification is incremental. A new certificate starts from the latest certificate whose chains all
verified: it recomputes that certificate's digest from the ledger as it is now (its boundary, the
event count up to it and every head as of it). Only when the digest is unchanged (nothing up to
that boundary was deleted, rewritten or slipped in) does it verify just the events after that
boundary, each with its link to the event before it, and record where it continued from
(``verified_from``). Otherwise, or when there is no such certificate, every chain is verified in
full. The heads are read in one set-based query along an index that holds what it needs
(``participant_id, sequence DESC`` with ``id, hash``), so PostgreSQL answers it from the index
alone. A full verification still runs each night (consent's own nightly run).

To *name* the chains that differ, the certificate also keeps every head's sequence and the first 8
bytes of its hash (compressed, about 10 bytes a chain). That list only names; the proof is the
digest, which someone holding the e-mailed copy can compare.
"""

from __future__ import annotations

import hashlib
import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consent.services.verification import ledger_verification_now
from enrollment.models import Participant
from portal.audit import audit_record
from portal.models import User
from portal.roles import Role

from .models import LedgerCertificate

__all__ = [
    "CertificateCheck",
    "ChainDifference",
    "certificate_check",
    "certificate_find",
    "certificate_issue",
    "certificate_nightly",
]

ACTION_ISSUED = "ledger.certificate_issued"
ACTION_CHECKED = "ledger.certificate_checked"
_HEADER = b"dam-portal ledger certificate v1\n"
_PREFIX_BYTES = 8
_FETCH = 20_000


@dataclass(frozen=True)
class _Head:
    participant_id: int
    sequence: int
    hash: str


@dataclass(frozen=True)
class ChainDifference:
    participant_id: int
    participant_code: str
    then_sequence: int | None  # None: the chain did not exist at the certificate
    now_sequence: int | None  # None: the chain no longer has an event up to the boundary
    problem: str


@dataclass
class CertificateCheck:
    certificate: LedgerCertificate
    digest_now: str
    events_now: int
    differences: list[ChainDifference] = field(default_factory=list)
    broken_chains_now: int = 0

    @property
    def holds(self) -> bool:
        """The ledger still holds every event that existed when the certificate was issued."""
        return self.digest_now == self.certificate.digest and not self.differences


# --- computing heads and digests ----------------------------------------------------------------


def _boundary() -> int:
    """The highest committed event id, with no signing in flight below it (see module docstring)."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("LOCK TABLE consent_consentevent IN SHARE MODE")
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM consent_consentevent")
        return int(cursor.fetchone()[0])


def _heads(boundary: int) -> Iterator[_Head]:
    """Every chain's head as of ``boundary``, in participant order, streamed."""
    sql = (
        "SELECT DISTINCT ON (participant_id) participant_id, sequence, hash "
        "FROM consent_consentevent WHERE id <= %s ORDER BY participant_id, sequence DESC"
    )
    if connection.vendor != "postgresql":
        sql = (
            "SELECT e.participant_id, e.sequence, e.hash FROM consent_consentevent e "
            "WHERE e.id <= %s AND e.sequence = (SELECT MAX(x.sequence) FROM "
            "consent_consentevent x WHERE x.participant_id = e.participant_id AND x.id <= %s) "
            "ORDER BY e.participant_id"
        )
    params = [boundary] if connection.vendor == "postgresql" else [boundary, boundary]
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while True:
            rows = cursor.fetchmany(_FETCH)
            if not rows:
                return
            for participant_id, sequence, digest in rows:
                yield _Head(participant_id, sequence, digest)


def _event_count(boundary: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM consent_consentevent WHERE id <= %s", [boundary])
        return int(cursor.fetchone()[0])


@dataclass
class _Summary:
    digest: str
    chains: int
    packed: bytes


def _digest_and_pack(boundary: int, events: int, heads: Iterator[_Head]) -> _Summary:
    """The digest over the heads, and the compact list of (participant, sequence, hash prefix)."""
    sha = hashlib.sha256(_HEADER)
    sha.update(f"boundary={boundary}\nevents={events}\n".encode())
    packer = zlib.compressobj(6)
    out: list[bytes] = []
    previous = 0
    chains = 0
    pack = struct.Struct(">QI8s").pack
    for head in heads:
        sha.update(f"{head.participant_id}:{head.sequence}:{head.hash}\n".encode())
        # Participant ids are stored as the gap from the previous one: mostly 1, which compresses.
        out.append(
            packer.compress(
                pack(
                    head.participant_id - previous,
                    head.sequence,
                    bytes.fromhex(head.hash[: _PREFIX_BYTES * 2]),
                )
            )
        )
        previous = head.participant_id
        chains += 1
    out.append(packer.flush())
    return _Summary(sha.hexdigest(), chains, b"".join(out))


def _unpack(packed: bytes) -> dict[int, tuple[int, bytes]]:
    raw = zlib.decompress(packed)
    record = struct.Struct(">QI8s")
    heads: dict[int, tuple[int, bytes]] = {}
    participant_id = 0
    for gap, sequence, prefix in record.iter_unpack(raw):
        participant_id += gap
        heads[participant_id] = (sequence, prefix)
    return heads


# --- services -----------------------------------------------------------------------------------


def _latest_verified(boundary: int) -> LedgerCertificate | None:
    """The latest certificate up to ``boundary`` whose chains all verified."""
    return (
        LedgerCertificate.objects.filter(ledger_ok=True, last_event_id__lte=boundary)
        .defer("heads")
        .order_by("-last_event_id", "-id")
        .first()
    )


def _heads_as_of_among_newer(since: int, boundary: int) -> dict[int, _Head | None]:
    """For every participant with an event in ``(since, boundary]``: their head as of ``since``
    (``None`` when their chain began after it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT participant_id FROM consent_consentevent WHERE id > %s AND id <= %s",
            [since, boundary],
        )
        result: dict[int, _Head | None] = {row[0]: None for row in cursor.fetchall()}
        if result:
            cursor.execute(
                "SELECT DISTINCT ON (participant_id) participant_id, sequence, hash "
                "FROM consent_consentevent WHERE participant_id = ANY(%s) AND id <= %s "
                "ORDER BY participant_id, sequence DESC",
                [list(result), since],
            )
            for participant_id, sequence, digest in cursor.fetchall():
                result[participant_id] = _Head(participant_id, sequence, digest)
    return result


def _issue_digests(
    boundary: int, events: int, previous: LedgerCertificate | None
) -> tuple[_Summary, str | None]:
    """The new certificate's digest and heads, and ``previous``'s digest recomputed now, in one
    pass over the heads.

    A chain with no event after ``previous``'s boundary has the same head as of both
    boundaries; only the chains with a newer event (found along the primary key) need their head
    as of the earlier boundary, read apart. Likewise the earlier count is the count now less the
    newer events."""
    if previous is None:
        return _digest_and_pack(boundary, events, _heads(boundary)), None
    if connection.vendor != "postgresql":
        earlier = previous.last_event_id
        then = _digest_and_pack(earlier, _event_count(earlier), _heads(earlier)).digest
        return _digest_and_pack(boundary, events, _heads(boundary)), then
    since = previous.last_event_id
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM consent_consentevent WHERE id > %s AND id <= %s",
            [since, boundary],
        )
        newer = int(cursor.fetchone()[0])
    changed = _heads_as_of_among_newer(since, boundary) if newer else {}
    sha = hashlib.sha256(_HEADER)
    sha.update(f"boundary={since}\nevents={events - newer}\n".encode())

    def both() -> Iterator[_Head]:
        for head in _heads(boundary):
            then = changed.get(head.participant_id, head) if changed else head
            if then is not None:
                sha.update(f"{then.participant_id}:{then.sequence}:{then.hash}\n".encode())
            yield head

    summary = _digest_and_pack(boundary, events, both())
    return summary, sha.hexdigest()


def certificate_issue(
    *, by: User | None = None, purpose: str = LedgerCertificate.Purpose.ON_DEMAND
) -> LedgerCertificate:
    """Issue a certificate of the ledger as it is now (events, heads digest, verification).

    The verification continues from the latest verified certificate when that certificate still
    holds (see the module docstring); otherwise every chain is verified."""
    began = time.perf_counter()
    boundary = _boundary()
    events = _event_count(boundary)
    previous = _latest_verified(boundary)
    summary, previous_now = _issue_digests(boundary, events, previous)
    if previous is not None and previous_now != previous.digest:
        previous = None  # it no longer holds: verify every chain
    # A recorded verification run (consent's own service: the ledger module is private to
    # consent); ethics reviewers see it among the verification runs too.
    verified = ledger_verification_now(
        after_event_id=previous.last_event_id if previous is not None else None
    )
    with transaction.atomic():
        certificate = LedgerCertificate.objects.create(
            issued_by=by,
            purpose=purpose,
            last_event_id=boundary,
            events=events,
            chains=summary.chains,
            ledger_ok=verified.ok,
            broken_chains=verified.broken_chains,
            digest=summary.digest,
            heads=summary.packed,
            seconds=round(time.perf_counter() - began, 2),
            verified_from=previous,
        )
        audit_record(
            action=ACTION_ISSUED,
            actor=by,
            obj=certificate,
            outcome="ok" if verified.ok else "broken",
            details={
                "events": events,
                "chains": summary.chains,
                "purpose": purpose,
                "verification": verified.pk,
                "verified_from": previous.pk if previous is not None else None,
            },
        )
    return certificate


def certificate_find(*, reference: str) -> LedgerCertificate | None:
    """A certificate by its id or its digest (as printed: any case, surrounding spaces ignored)."""
    reference = reference.strip().lower()
    if reference.isdigit() and len(reference) < 19:
        return LedgerCertificate.objects.filter(pk=int(reference)).first()
    if len(reference) == 64 and all(c in "0123456789abcdef" for c in reference):
        return LedgerCertificate.objects.filter(digest=reference).first()
    return None


def certificate_check(
    *, certificate: LedgerCertificate, by: User | None = None, limit: int = 200
) -> CertificateCheck:
    """Does the ledger still hold every event that existed when ``certificate`` was issued?

    Recomputes the heads as of the certificate's boundary and their digest; where the digest
    differs, compares head by head with the certificate's list and names the chains that differ
    (at most ``limit``). Also reports how many chains fail verification now.
    """
    boundary = certificate.last_event_id
    events = _event_count(boundary)
    now_heads: dict[int, tuple[int, bytes]] = {}

    def collect() -> Iterator[_Head]:
        for head in _heads(boundary):
            now_heads[head.participant_id] = (
                head.sequence,
                bytes.fromhex(head.hash[: _PREFIX_BYTES * 2]),
            )
            yield head

    summary = _digest_and_pack(boundary, events, collect())
    check = CertificateCheck(certificate=certificate, digest_now=summary.digest, events_now=events)
    if summary.digest != certificate.digest:
        then_heads = _unpack(bytes(certificate.heads))
        found: list[tuple[int, int | None, int | None, str]] = []
        for participant_id in sorted(then_heads.keys() | now_heads.keys()):
            then = then_heads.get(participant_id)
            now = now_heads.get(participant_id)
            if then == now:
                continue
            if then is None:
                problem = _("chain not in the certificate")
            elif now is None:
                problem = _("every event of the chain is gone")
            elif now[0] < then[0]:
                problem = _("events at the end of the chain are gone")
            elif now[0] > then[0]:
                problem = _("events were added below the boundary")
            else:
                problem = _("the last event was rewritten")
            found.append(
                (participant_id, then[0] if then else None, now[0] if now else None, problem)
            )
            if len(found) >= limit:
                break
        codes = dict(
            Participant.objects.filter(pk__in=[f[0] for f in found]).values_list("pk", "code")
        )
        check.differences = [
            ChainDifference(pid, codes.get(pid, f"#{pid}"), then, now, problem)
            for pid, then, now, problem in found
        ]
    check.broken_chains_now = ledger_verification_now().broken_chains
    audit_record(
        action=ACTION_CHECKED,
        actor=by,
        obj=certificate,
        outcome="ok" if check.holds else "differs",
        details={"differences": len(check.differences), "broken_now": check.broken_chains_now},
    )
    return check


def board_addresses() -> list[str]:
    """Where certificates and board reports go: every active ethics reviewer, plus the addresses
    in ``REPORTS_BOARD_EMAILS``."""
    reviewers = User.objects.filter(
        is_active=True, groups__name=Role.ETHICS_REVIEWER.value
    ).values_list("email", flat=True)
    extra = list(getattr(settings, "REPORTS_BOARD_EMAILS", []))
    return sorted(set(reviewers) | set(extra))


def certificate_nightly() -> LedgerCertificate:
    """Issue the nightly certificate and e-mail its digest to the boards (the outside anchor)."""
    certificate = certificate_issue(purpose=LedgerCertificate.Purpose.NIGHTLY)
    recipients = board_addresses()
    if recipients:
        when = timezone.localtime(certificate.issued_at).isoformat(timespec="seconds")
        subject = _("Consent ledger certificate %(id)s") % {"id": certificate.pk}
        body = _(
            "Consent ledger certificate %(id)s, issued %(when)s.\n\n"
            "Events: %(events)s\nChains: %(chains)s\nEvery chain verified: %(ok)s\n"
            "Digest: %(digest)s\n\n"
            "Keep this message. To check later that the ledger still holds every event that "
            "existed now, enter the digest on the certificate page of the portal, or run "
            "manage.py verify_ledger_certificate with it."
        ) % {
            "id": certificate.pk,
            "when": when,
            "events": certificate.events,
            "chains": certificate.chains,
            "ok": _("yes") if certificate.ledger_ok else _("no"),
            "digest": certificate.digest,
        }
        # One message per address: reviewers of different boards never see each other's address.
        for address in recipients:
            EmailMessage(subject=subject, body=body, to=[address]).send()
    return certificate
