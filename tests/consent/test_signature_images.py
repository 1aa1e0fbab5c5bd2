"""A drawn signature is decoded, bounded and encoded again before it is stored."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from PIL import Image

from consent.services.artifacts import signature_image_check


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, height: int) -> bytes:
    row = b"\x00" + b"\x00\x00\x00\xff" * width
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
        + _chunk(b"IDAT", zlib.compress(row * height))
        + _chunk(b"IEND", b"")
    )


def test_a_real_signature_is_kept_as_pixels():
    upload = signature_image_check(_png(40, 20))
    with Image.open(io.BytesIO(upload.content)) as image:
        assert (image.format, image.size) == ("PNG", (40, 20))


def test_only_the_first_bytes_being_png_is_not_enough():
    with pytest.raises(ValidationError, match="not a readable PNG"):
        signature_image_check(b"\x89PNG\r\n\x1a\n<svg onload=alert(1)>")


def test_bytes_after_the_image_and_text_chunks_are_not_stored():
    sneaky = _png(8, 8)[:-12] + _chunk(b"tEXt", b"Comment\x00payload") + _png(8, 8)[-12:]
    upload = signature_image_check(sneaky + b"PK\x03\x04 trailing archive")
    assert b"payload" not in upload.content and b"PK\x03\x04" not in upload.content


def test_huge_dimensions_are_refused_before_decoding():
    header_only = (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", struct.pack(">IIBBBBB", 5000, 10, 8, 6, 0, 0, 0))
        + _chunk(b"IEND", b"")
    )
    with pytest.raises(ValidationError, match="2000 by 1000"):
        signature_image_check(header_only)
