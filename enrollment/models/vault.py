"""The personal-data vault: encrypted identifying fields and blind indexes."""

__all__: list[str] = []
