"""The consent ledger (append-only, hash-chained) and its projection."""

__all__: list[str] = []
