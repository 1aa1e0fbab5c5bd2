"""Funnel aggregates kept current by the funnel service."""

__all__: list[str] = []
