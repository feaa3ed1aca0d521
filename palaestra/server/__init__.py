"""The env server and its client: palaestra envs over HTTP and WebSocket.

``palaestra serve`` runs `create_app` (FastAPI; needs the ``server`` extra). `RemoteEnv` (httpx
and websockets) is a gymnasium env with exactly the local semantics, also made by
``gym.make(env_id, remote=base_url)``. `SessionManager` is the server's logic without HTTP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from palaestra.server.client import RemoteEnv
from palaestra.server.sessions import SessionManager

if TYPE_CHECKING:
    from palaestra.server.app import create_app

__all__ = ["RemoteEnv", "SessionManager", "create_app"]


def __getattr__(name: str) -> Any:
    # The app needs fastapi; the client and the manager must not.
    if name == "create_app":
        from palaestra.server.app import create_app

        return create_app
    raise AttributeError(f"module 'palaestra.server' has no attribute {name!r}")
