"""Where palaestra keeps what it builds once and reuses: converted models, prepared datasets."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir"]


def cache_dir() -> Path:
    """The cache root: ``$PALAESTRA_CACHE``, else ``$XDG_CACHE_HOME/palaestra``, else ~/.cache."""
    explicit = os.environ.get("PALAESTRA_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "palaestra"
