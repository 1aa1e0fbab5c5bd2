"""What makes a PDF readable by a screen reader: tags, a language and a title."""

from __future__ import annotations

import io
from typing import Any

import pypdf


def tagged_pdf_facts(pdf: bytes) -> dict[str, object]:
    """The catalogue entries a tagged PDF needs, as plain values (absent ones as ``None``)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    catalog: Any = reader.trailer["/Root"]
    mark_info = catalog.get("/MarkInfo")
    return {
        "structure": "/StructTreeRoot" in catalog,
        "marked": bool(mark_info and mark_info.get("/Marked") in (True, "true")),
        "lang": str(catalog.get("/Lang", "")) or None,
        "title": reader.metadata.title if reader.metadata else None,
    }
