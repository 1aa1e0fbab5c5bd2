"""Business actions of the dam app."""

from .fates import (
    fate_certificate_context,
    fate_certificate_render,
    sample_fate_record,
    sample_note_add,
    samples_awaiting_fate,
)
from .reidentification import (
    reidentification_decide,
    reidentification_request,
    reidentification_reveal,
)
from .samples import sample_record

__all__ = [
    "fate_certificate_context",
    "fate_certificate_render",
    "reidentification_decide",
    "reidentification_request",
    "reidentification_reveal",
    "sample_fate_record",
    "sample_note_add",
    "sample_record",
    "samples_awaiting_fate",
]
