"""Purposes of use and the consent items each needs."""

__all__: list[str] = []
