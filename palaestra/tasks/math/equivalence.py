"""Symbolic equivalence with math-verify, bounded in time on any thread.

math-verify bounds its work with ``signal.alarm``, which only the main thread may use. On the
main thread `judge` calls it directly; elsewhere (an env server's worker threads) the comparison
runs in a helper process that is killed when it overruns. math-verify loads slowly, so it is
imported on first use.
"""

from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import sys
import threading
from typing import IO

from palaestra.errors import TaskError, require

__all__ = ["judge", "serve"]

_TIMEOUT_S = 3  # per math-verify call (parse, verify); whole seconds: it uses signal.alarm


def _compare(gold: str, boxed: str, timeout: int | None) -> tuple[bool, str | None]:
    """math-verify on a gold answer and a boxed answer: (equal, what the answer was read as)."""
    from math_verify import parse, verify

    wanted = parse(f"\\boxed{{{gold}}}", parsing_timeout=timeout)
    got = parse(f"\\boxed{{{boxed}}}", parsing_timeout=timeout)
    shown = next((item for item in got if isinstance(item, str)), boxed)
    if all(isinstance(item, str) for item in wanted):  # a reference that is not maths: text
        return "".join(gold.split()) == "".join(boxed.split()), shown
    if all(isinstance(item, str) for item in got):
        return False, None
    return bool(verify(wanted, got, timeout_seconds=timeout)), shown


def judge(gold: str, boxed: str) -> tuple[bool, str | None] | None:
    """`_compare` within a time limit; None when it ran out."""
    require("math_verify", "math")
    if threading.current_thread() is threading.main_thread():
        return _compare(gold, boxed, _TIMEOUT_S)  # math-verify's own signal-based timeouts
    return _HELPER.compare(gold, boxed, timeout=2 * _TIMEOUT_S)  # parse + verify


class _Helper:
    """A child process that runs `_compare` for threads, where math-verify cannot time out.

    Started on first use (``python -c``, so the caller's ``__main__`` is never re-imported) and
    shared by the threads, one comparison at a time; killed and restarted when a comparison
    overruns. It reads JSON lines on stdin and answers on stdout; it ends when stdin closes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None

    def compare(self, gold: str, boxed: str, timeout: float) -> tuple[bool, str | None] | None:
        with self._lock:
            process = self._process if self._process and self._process.poll() is None else None
            process = process or self._start()
            assert process.stdin is not None and process.stdout is not None
            try:
                process.stdin.write(json.dumps([gold, boxed]) + "\n")
                process.stdin.flush()
            except OSError as exc:
                self._stop()
                raise TaskError(f"the math-verify helper process failed: {exc}") from exc
            if not _readable(process.stdout, timeout):
                self._stop()
                return None
            line = process.stdout.readline()
            if not line:
                self._stop()
                raise TaskError("the math-verify helper process exited unexpectedly")
            equal, shown = json.loads(line)
            return bool(equal), shown

    def _start(self) -> subprocess.Popen[str]:
        environment = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        process = subprocess.Popen(
            [sys.executable, "-c", "from palaestra.tasks.math.equivalence import serve; serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=environment,
        )
        assert process.stdout is not None
        if not _readable(process.stdout, 120) or process.stdout.readline().strip() != "ready":
            process.kill()
            process.wait()
            raise TaskError("the math-verify helper process did not start")
        self._process = process
        return process

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None


def _readable(stream: IO[str], timeout: float) -> bool:
    return bool(select.select([stream], [], [], timeout)[0])


def serve() -> None:
    """The helper's loop: compare what the parent sends until stdin closes."""
    import math_verify  # noqa: F401  (load before saying ready)

    logging.getLogger("math_verify").setLevel(logging.ERROR)  # "timeout is disabled": we know
    print("ready", flush=True)
    for line in sys.stdin:
        gold, boxed = json.loads(line)
        try:
            result = _compare(gold, boxed, None)
        except Exception:  # noqa: BLE001  (an answer that breaks math-verify is just unequal)
            result = (False, None)
        print(json.dumps(result), flush=True)


_HELPER = _Helper()
