"""The worker on its own: what it says when it starts."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

from palaestra.sandbox.wire import recv_frame

WORKER = Path(__file__).resolve().parents[2] / "palaestra" / "sandbox" / "worker.py"


def test_the_hello_names_the_session_and_its_pid(tmp_path):
    host_end, worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    config = {
        "fd": worker_end.fileno(),
        "session": 0,
        "workdir_root": str(tmp_path),
        "keeper": False,
        "output_limit": 1000,
        "max_transfer": 1 << 20,
    }
    worker = subprocess.Popen(
        [sys.executable, "-I", "-S", str(WORKER), json.dumps(config)],
        pass_fds=[worker_end.fileno()],
    )
    worker_end.close()
    try:
        host_end.settimeout(20)
        hello, _ = recv_frame(host_end, 0)
        assert hello == {
            "op": "hello",
            "session": 0,
            "workdir": str(tmp_path / "0"),
            "pid": worker.pid,
        }
    finally:
        host_end.close()
        worker.wait(timeout=20)
