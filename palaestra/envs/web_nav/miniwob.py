"""Placeholder: MiniWoB++ support is being written."""

from __future__ import annotations

from typing import Any

__all__ = ["miniwob_app"]


def miniwob_app() -> Any:
    """The MiniWoB++ pages as an ASGI app, or None when the miniwob package is absent."""
    return None
