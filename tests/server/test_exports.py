"""What `palaestra.server` exports, and that the client imports no server framework."""

from __future__ import annotations

import subprocess
import sys

import palaestra.server


def test_exported_names():
    assert set(palaestra.server.__all__) == {"RemoteEnv", "SessionManager", "create_app"}
    for name in palaestra.server.__all__:
        assert getattr(palaestra.server, name) is not None


def test_the_client_needs_neither_fastapi_nor_uvicorn():
    code = (
        "import sys, gymnasium as gym, palaestra\n"
        "from palaestra.server import RemoteEnv, SessionManager\n"
        "heavy = [m for m in ('fastapi', 'uvicorn', 'starlette') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
