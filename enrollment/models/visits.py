"""Screening, visit booking, invitations and bulk import."""

__all__: list[str] = []
