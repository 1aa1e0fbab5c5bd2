"""Files that belong to consent events: drawn signatures and scanned paper forms.

The type of an upload is decided by its first bytes (magic numbers), never by its name or the
browser's claim, and its size is bounded before anything is stored. Files are stored under their
SHA-256, which the ledger event also carries, and encrypted at rest (``sealed_files``).
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image

from ..models import ArtifactKind, ConsentArtifact, ConsentEvent
from .sealed_files import artifact_label, sealed_file_write

SIGNATURE_MAX_BYTES = 512 * 1024
# A signature pad is at most a wide strip of screen; anything larger is not a drawn signature.
SIGNATURE_MAX_WIDTH = 2000
SIGNATURE_MAX_HEIGHT = 1000
PAPER_MAX_BYTES = 10 * 1024 * 1024

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
