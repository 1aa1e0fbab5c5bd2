"""Files of consent events, encrypted at rest: receipts, drawn signatures, scanned paper forms.

Every place that writes or reads such a file goes through this module, so the storage backend is
chosen in one place (``STORAGES["default"]``) and the encryption in another (the vault).

* A stored file holds ``bytes_seal`` of its content: ``<key id>:`` + nonce + AES-GCM ciphertext,
  under the vault's current key, bound to a label naming its owner (``consent.artifact:<event
  id>:<kind>``, ``consent.receipt:<event id>``). A file copied onto another event does not open.
* Files are named by hash and event id only, and are served only through the scoped, audited
  views; nothing maps the storage under a public URL.
* ``sealed_files_rotate_batch`` re-seals files still under an old key (``manage.py
  rotate_pii_key``); files written before encryption (plain PDF, PNG or JPEG) are read as they are
  and sealed by the same rotation.
* ``sealed_files_verify`` opens every stored file and compares its SHA-256 with the hash the event
  (or the receipt row) carries, naming the event whose file differs, is missing or does not open.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db.models.fields.files import FieldFile

from enrollment.vault import VaultError, bytes_open, bytes_seal, keyring

from ..models import ArtifactKind, ConsentArtifact, ConsentEvent, ConsentReceipt

__all__ = [
    "FileProblem",
    "artifact_content",
    "artifact_label",
    "artifact_read",
    "receipt_label",
    "receipt_read",
    "sealed_file_read",
    "sealed_file_write",
    "sealed_files_rotate_batch",
    "sealed_files_verify",
]

# Files stored before they were encrypted start with their format's magic number.
_PLAIN_MAGIC = (b"%PDF-", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")

# Which hash of the event vouches for each kind of artifact.
EVENT_HASH_OF_KIND = {
    ArtifactKind.SIGNATURE: "signature_sha256",
    ArtifactKind.COUNTERSIGNATURE: "countersignature_sha256",
    ArtifactKind.PAPER_FORM: "document_sha256",
    ArtifactKind.WITNESS_SIGNATURE: "witness_signature_sha256",
    ArtifactKind.WITNESS_NAME: "witness_name_sha256",
    ArtifactKind.RELATIONSHIP_NOTE: "representative_note_sha256",
    ArtifactKind.WITHDRAWAL_NOTE: "withdrawal_note_sha256",
}


def artifact_label(*, event_id: int, kind: str) -> str:
    return f"consent.artifact:{event_id}:{kind}"


def receipt_label(*, event_id: int) -> str:
    return f"consent.receipt:{event_id}"


def _is_plain(raw: bytes) -> bool:
    return raw.startswith(_PLAIN_MAGIC)


def _key_id(raw: bytes) -> str:
    return "" if _is_plain(raw) else raw.partition(b":")[0].decode("ascii", "replace")


def sealed_file_write(*, field: FieldFile, name: str, data: bytes, label: str) -> None:
    """Store ``data`` sealed under ``label`` in ``field`` (the row itself is not saved)."""
    field.save(name, ContentFile(bytes_seal(data=data, label=label)), save=False)


def _raw(field: FieldFile) -> bytes:
    with field.storage.open(str(field.name), "rb") as handle:
        content: bytes = handle.read()
    return content


def sealed_file_read(*, field: FieldFile, label: str) -> bytes:
    """The plain content of a stored file; ``VaultError`` if it was changed or moved, ``OSError``
    if it is missing."""
    raw = _raw(field)
    if _is_plain(raw):
        return raw
    return bytes_open(sealed=raw, label=label)


def artifact_read(*, artifact: ConsentArtifact) -> bytes:
    """The plain content of a stored signature or scanned form (for the scoped views)."""
    return sealed_file_read(
        field=artifact.file, label=artifact_label(event_id=artifact.event_id, kind=artifact.kind)
    )


def artifact_content(*, event: ConsentEvent, kind: ArtifactKind) -> bytes | None:
    """The plain content of ``event``'s artifact of ``kind``, or ``None`` if it has none. Uses
    the event's prefetched artifacts when there are some."""
    for artifact in event.artifacts.all():
        if artifact.kind == kind:
            return artifact_read(artifact=artifact)
    return None


def receipt_read(*, receipt: ConsentReceipt) -> bytes:
    """The plain PDF of a stored receipt (for the scoped views and the mail)."""
    return sealed_file_read(field=receipt.file, label=receipt_label(event_id=receipt.event_id))


def _rewrite(field: FieldFile, content: bytes) -> None:
    """Replace the content of a stored file, keeping its name (the rows are append-only). A copy
    is written first, so a crash between the delete and the save loses nothing."""
    storage, name = field.storage, str(field.name)
    spare = storage.save(f"{name}.rotating", ContentFile(content))
    storage.delete(name)
    saved = storage.save(name, ContentFile(content))
    if saved != name:  # pragma: no cover - the name was just freed
        raise OSError("a rotated file could not keep its name")
    storage.delete(spare)


def _stored_files() -> Iterator[tuple[FieldFile, str]]:
    for artifact in ConsentArtifact.objects.order_by("pk").iterator(chunk_size=500):
        yield artifact.file, artifact_label(event_id=artifact.event_id, kind=artifact.kind)
    receipts = ConsentReceipt.objects.exclude(file="").order_by("pk")
    for receipt in receipts.iterator(chunk_size=500):
        yield receipt.file, receipt_label(event_id=receipt.event_id)


def sealed_files_rotate_batch(*, batch_size: int) -> int:
    """Re-seal up to ``batch_size`` stored files not under the current key (or not sealed at
    all); returns how many were done. Run again until it returns 0."""
    current = keyring().current_id
    done = 0
    for field, label in _stored_files():
        if done >= batch_size:
            break
        try:
            raw = _raw(field)
        except OSError:
            continue  # missing: sealed_files_verify names it
        if _key_id(raw) == current:
            continue
        plain = raw if _is_plain(raw) else bytes_open(sealed=raw, label=label)
        _rewrite(field, bytes_seal(data=plain, label=label))
        done += 1
    return done


@dataclass(frozen=True)
class FileProblem:
    event_id: int
    participant_id: int
    sequence: int
    problem: str


def _check(field: FieldFile, label: str, expected: str, what: str) -> str:
    try:
        content = sealed_file_read(field=field, label=label)
    except OSError:
        return f"{what} is missing"
    except VaultError:
        return f"{what} does not open (changed, moved or under an unknown key)"
    if not expected or hashlib.sha256(content).hexdigest() != expected:
        return f"{what} does not match the hash in its event"
    return ""


def sealed_files_verify(
    *, participant_id: int | None = None, after_event_id: int | None = None
) -> list[FileProblem]:
    """Every stored file of the ledger (or of one participant, or of the events after
    ``after_event_id``) checked against its hash."""
    events = ConsentEvent.objects.all()
    if participant_id is not None:
        events = events.filter(participant_id=participant_id)
    if after_event_id is not None:
        events = events.filter(pk__gt=after_event_id)
    problems: list[FileProblem] = []
    artifacts = (
        ConsentArtifact.objects.filter(event__in=events)
        .select_related("event")
        .order_by("event__participant_id", "event__sequence", "kind")
    )
    for artifact in artifacts.iterator(chunk_size=500):
        event = artifact.event
        expected = getattr(event, EVENT_HASH_OF_KIND[ArtifactKind(artifact.kind)])
        label = artifact_label(event_id=event.pk, kind=artifact.kind)
        problem = _check(artifact.file, label, expected, f"stored {artifact.kind} file")
        if problem:
            problems.append(FileProblem(event.pk, event.participant_id, event.sequence, problem))
    # An event whose hash names a file that was never stored (or whose row is gone).
    for kind, column in EVENT_HASH_OF_KIND.items():
        orphaned = (
            events.exclude(**{column: ""})
            .exclude(artifacts__kind=kind)
            .values_list("pk", "participant_id", "sequence")
        )
        for event_id, participant, sequence in orphaned:
            problems.append(
                FileProblem(event_id, participant, sequence, f"stored {kind} file is missing")
            )
    receipts = (
        ConsentReceipt.objects.filter(event__in=events)
        .exclude(file="")
        .select_related("event")
        .order_by("event__participant_id", "event__sequence")
    )
    for receipt in receipts.iterator(chunk_size=500):
        event = receipt.event
        label = receipt_label(event_id=event.pk)
        problem = _check(receipt.file, label, receipt.sha256, "stored receipt")
        if problem:
            problems.append(FileProblem(event.pk, event.participant_id, event.sequence, problem))
    problems.sort(key=lambda p: (p.participant_id, p.sequence, p.problem))
    return problems
