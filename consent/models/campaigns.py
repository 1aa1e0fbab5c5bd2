"""Re-consent campaigns and their progress."""

__all__: list[str] = []
