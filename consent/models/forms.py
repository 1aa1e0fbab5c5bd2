"""Consent forms, versions, items and comprehension questions."""

__all__: list[str] = []
