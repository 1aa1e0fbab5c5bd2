"""Models of the dam app: samples, pseudonyms and the outbox of messages to the data dam."""

from .outbox import MessageType, OutboxMessage, OutboxState
from .pseudonyms import Pseudonym, PseudonymDomain
from .samples import Sample, SampleType

__all__ = [
    "MessageType",
    "OutboxMessage",
    "OutboxState",
    "Pseudonym",
    "PseudonymDomain",
    "Sample",
    "SampleType",
]
