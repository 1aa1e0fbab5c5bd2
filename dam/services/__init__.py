"""Business actions of the dam app."""

from .samples import sample_record

__all__ = ["sample_record"]
