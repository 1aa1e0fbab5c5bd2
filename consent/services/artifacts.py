"""Files that belong to consent events: drawn signatures, scanned paper forms, and text notes
(the impartial witness's name, free text beside a relationship or withdrawal code).

The type of an upload is decided by its first bytes (magic numbers), never by its name or the
browser's claim, and its size is bounded before anything is stored. Files are stored under their
SHA-256, which the ledger event also carries, and encrypted at rest (``sealed_files``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import secrets
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image

from enrollment.vault import has_hidden_characters

from ..models import ArtifactKind, ConsentArtifact, ConsentEvent
from .sealed_files import artifact_content, artifact_label, sealed_file_write

SIGNATURE_MAX_BYTES = 512 * 1024
# A signature pad is at most a wide strip of screen; anything larger is not a drawn signature.
SIGNATURE_MAX_WIDTH = 2000
SIGNATURE_MAX_HEIGHT = 1000
PAPER_MAX_BYTES = 10 * 1024 * 1024
NOTE_MAX_LENGTH = 200

_MAGIC = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)


@dataclass(frozen=True)
class Upload:
    """A checked file, ready to be stored with an event."""

    content: bytes
    content_type: str
    suffix: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def sniff(content: bytes) -> tuple[str, str] | None:
    for magic, content_type, suffix in _MAGIC:
        if content.startswith(magic):
            return content_type, suffix
    return None


def signature_image_check(content: bytes) -> Upload:
    """A drawn signature: a PNG of at most 512 KB and 2000 x 1000 pixels, decoded in full and
    encoded again, so that what is stored (and hashed into the ledger) is plain pixels: no bytes
    after the image, no text chunks, nothing a PDF renderer or a viewer could trip on."""
    if not content:
        raise ValidationError(_("The drawn signature is empty."))
    if len(content) > SIGNATURE_MAX_BYTES:
        raise ValidationError(_("The drawn signature is too large (at most 512 KB)."))
    if sniff(content) != ("image/png", ".png"):
        raise ValidationError(_("The drawn signature must be a PNG image."))
    try:
        with Image.open(io.BytesIO(content), formats=["PNG"]) as image:
            # The header alone gives the size: checked before decoding anything.
            width, height = image.size
            if not (0 < width <= SIGNATURE_MAX_WIDTH and 0 < height <= SIGNATURE_MAX_HEIGHT):
                raise ValidationError(_("The drawn signature must be at most 2000 by 1000 pixels."))
            image.load()
            pixels = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    except ValidationError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValidationError(_("The drawn signature is not a readable PNG image.")) from exc
    clean = io.BytesIO()
    pixels.save(clean, format="PNG")
    return Upload(clean.getvalue(), "image/png", ".png")


def paper_form_check(content: bytes) -> Upload:
    """A scanned consent form: PDF, JPEG or PNG by content, at most 10 MB."""
    if not content:
        raise ValidationError(_("The scanned form is empty."))
    if len(content) > PAPER_MAX_BYTES:
        raise ValidationError(_("The scanned form is too large (at most 10 MB)."))
    kind = sniff(content)
    if kind is None:
        raise ValidationError(
            _("The scanned form must be a PDF, JPEG or PNG file; this file is none of those.")
        )
    return Upload(content, kind[0], kind[1])


def note_check(text: str) -> Upload | None:
    """A short free text (a name, "other: ..."), to be stored encrypted beside its event; ``None``
    when empty. The stored document carries a random salt, so the SHA-256 the ledger keeps cannot
    be matched against guessed names or words."""
    text = " ".join(text.split())
    if not text:
        return None
    if len(text) > NOTE_MAX_LENGTH:
        raise ValidationError(
            _("Keep the text to at most %(count)d characters.") % {"count": NOTE_MAX_LENGTH}
        )
    if has_hidden_characters(text):
        raise ValidationError(_("The text holds invisible or control characters; type it again."))
    document = {"salt": secrets.token_hex(16), "text": text}
    content = json.dumps(document, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return Upload(content, "application/json", ".json")


def note_text(content: bytes) -> str:
    """The text of a stored note (see ``note_check``)."""
    document = json.loads(content.decode("utf-8"))
    return str(document["text"])


def artifact_store(*, event: ConsentEvent, kind: ArtifactKind, upload: Upload) -> ConsentArtifact:
    artifact = ConsentArtifact(
        event=event,
        kind=kind,
        content_type=upload.content_type,
        size=len(upload.content),
        sha256=upload.sha256,
    )
    sealed_file_write(
        field=artifact.file,
        name=f"{kind}{upload.suffix}",
        data=upload.content,
        label=artifact_label(event_id=event.pk, kind=kind),
    )
    artifact.save()
    return artifact


@dataclass(frozen=True)
class EventFiles:
    """What the stored files of an event say, for a receipt or a staff page: signatures as PNG
    data URLs (for an ``<img>``), notes as text; empty when the event has none."""

    signature_png: str = ""
    witness_name: str = ""
    witness_signature_png: str = ""
    relationship_note: str = ""
    withdrawal_note: str = ""


def _data_url(content: bytes | None) -> str:
    if content is None:
        return ""
    return "data:image/png;base64," + base64.b64encode(content).decode("ascii")


def _note(event: ConsentEvent, kind: ArtifactKind) -> str:
    content = artifact_content(event=event, kind=kind)
    return note_text(content) if content is not None else ""


def event_files_read(event: ConsentEvent) -> EventFiles:
    """Open the stored signatures and notes of ``event`` (personal data: the caller audits)."""
    return EventFiles(
        signature_png=_data_url(artifact_content(event=event, kind=ArtifactKind.SIGNATURE)),
        witness_name=_note(event, ArtifactKind.WITNESS_NAME),
        witness_signature_png=_data_url(
            artifact_content(event=event, kind=ArtifactKind.WITNESS_SIGNATURE)
        ),
        relationship_note=_note(event, ArtifactKind.RELATIONSHIP_NOTE),
        withdrawal_note=_note(event, ArtifactKind.WITHDRAWAL_NOTE),
    )
