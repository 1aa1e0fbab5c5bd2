"""Models of the dam app: samples, pseudonyms and the outbox of messages to the data dam."""

from .custody import (
    Manifest,
    ManifestLine,
    ReconciliationFinding,
    ReconciliationRun,
    ReidentificationRequest,
    SampleFate,
    SampleNote,
)
from .outbox import MessageType, OutboxMessage, OutboxState
from .pseudonyms import Pseudonym, PseudonymDomain
from .samples import Sample, SampleType

__all__ = [
    "Manifest",
    "ManifestLine",
    "MessageType",
    "OutboxMessage",
    "OutboxState",
    "Pseudonym",
    "PseudonymDomain",
    "ReconciliationFinding",
    "ReconciliationRun",
    "ReidentificationRequest",
    "Sample",
    "SampleFate",
    "SampleNote",
    "SampleType",
]
