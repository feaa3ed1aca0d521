"""WebNav-v0: web navigation over real local websites, in a text mode and in a real Chromium."""

__all__: list[str] = []
