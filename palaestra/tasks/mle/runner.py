"""Running reference-pipeline scripts in worker processes, for building leaderboards.

Starting Python and importing scikit-learn costs over a second, more than most pipelines take, so
each worker process is reused: it reads one JSON request a line (`serve`), runs the script in a
fresh namespace with a scratch copy of the public files as its working directory
(`run_pipeline`), and answers with the submission.csv it wrote or why there is none. A worker
that dies or runs past `PIPELINE_TIMEOUT_S` is killed and replaced.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from palaestra.tasks.mle.zoo import SCRIPT_MODULES, Pipeline

__all__ = ["PIPELINE_TIMEOUT_S", "Progress", "Run", "run_all", "run_pipeline", "serve"]

PIPELINE_TIMEOUT_S = 300.0

Progress = Callable[[str, int, int], None]
"""Called after each pipeline with its name, the pipelines done and the total."""


@dataclass(frozen=True)
class Run:
    """What one pipeline run left: its submission.csv, or why there is none."""

    name: str
    submission: bytes | None
    error: str | None
    seconds: float


def run_all(
    pipelines: Sequence[Pipeline], public_dir: Path, workers: int, progress: Progress | None
) -> dict[str, Run]:
    """Every pipeline's run, shared out among ``workers`` worker processes."""
    pending: queue.Queue[Pipeline] = queue.Queue()
    for pipeline in pipelines:
        pending.put(pipeline)
    runs: dict[str, Run] = {}
    lock = threading.Lock()

    def drive() -> None:
        # One thread per worker: it hands the worker a pipeline, waits, and hands the next.
        worker: Worker | None = None
        try:
            while True:
                try:
                    pipeline = pending.get_nowait()
                except queue.Empty:
                    return
                worker = worker or Worker()
                run = worker.run(pipeline, public_dir)
                if worker.dead:
                    worker = None
                with lock:
                    runs[pipeline.name] = run
                    done = len(runs)
                if progress is not None:
                    progress(pipeline.name, done, len(pipelines))
        finally:
            if worker is not None:
                worker.close()

    threads = [
        threading.Thread(target=drive, daemon=True) for _ in range(min(workers, len(pipelines)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return runs


class Worker:
    """A Python process that runs pipeline scripts one after another (see `serve`).

    Starting Python and importing scikit-learn costs over a second, more than most pipelines
    take, so a worker is reused; each script still runs in a fresh namespace and folder. Workers
    use one thread each, so two of them do not fight over the cores.
    """

    def __init__(self) -> None:
        import palaestra

        root = str(Path(palaestra.__file__).resolve().parents[1])
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from palaestra.tasks.mle.runner import serve; serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        self.dead = False

    def run(self, pipeline: Pipeline, public_dir: Path) -> Run:
        """Run one pipeline; a worker that dies or runs past the limit is killed and replaced."""
        assert self.process.stdin is not None and self.process.stdout is not None
        request = {"name": pipeline.name, "source": pipeline.source, "public_dir": str(public_dir)}
        started = time.perf_counter()
        timer = threading.Timer(PIPELINE_TIMEOUT_S, self.process.kill)
        timer.start()
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            reply = self.process.stdout.readline()
        except OSError:
            reply = ""
        finally:
            timer.cancel()
        if not reply:
            self.close()
            seconds = time.perf_counter() - started
            why = (
                f"ran past {PIPELINE_TIMEOUT_S:.0f} s"
                if seconds >= PIPELINE_TIMEOUT_S
                else "its worker process died"
            )
            return Run(pipeline.name, None, why, seconds)
        answer = json.loads(reply)
        submission = answer["submission"]
        return Run(
            name=answer["name"],
            submission=base64.b64decode(submission) if submission is not None else None,
            error=answer["error"],
            seconds=answer["seconds"],
        )

    def close(self) -> None:
        """End the worker process."""
        self.dead = True
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def serve() -> None:
    """A worker's loop: one JSON request per line on stdin, one JSON answer per line back.

    Answers go to a private copy of stdout; whatever a script or a library prints at the C level
    goes to stderr, so it cannot corrupt the answers.
    """
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    _warm_up()
    for line in sys.stdin:
        request = json.loads(line)
        run = run_pipeline(request["name"], request["source"], request["public_dir"])
        submission = base64.b64encode(run.submission).decode() if run.submission else None
        answer = {"name": run.name, "submission": submission, "error": run.error}
        answers.write(json.dumps({**answer, "seconds": run.seconds}) + "\n")
        answers.flush()


_SCRIPT = "<pipeline>"


def _explain(exc: Exception, printed: str) -> str:
    """What a script raised, the script line it came from, and the last lines it printed."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    mine = [frame for frame in frames if frame.filename == _SCRIPT]
    parts = [f"{type(exc).__name__}: {exc}"]
    if mine:
        parts.append(f"at script line {mine[-1].lineno}")
    if frames and frames[-1].filename != _SCRIPT and mine:
        parts.append(f"in {frames[-1].filename}:{frames[-1].lineno}")
    tail = printed.strip().splitlines()[-3:]
    if tail:
        parts.append("it printed: " + " | ".join(tail))
    return "; ".join(parts)


def _warm_up() -> None:
    """Import what the scripts use before the first one runs, so its time is its own."""
    import importlib

    for module in SCRIPT_MODULES:
        importlib.import_module(module)


def run_pipeline(name: str, source: str, public_dir: str) -> Run:
    """Run one pipeline's script in a scratch copy of the public files; return what it wrote.

    The script runs in this process, in a fresh namespace, with the scratch folder as the working
    directory; its output and warnings are kept only to explain a failure.
    """
    import contextlib
    import io
    import warnings

    from palaestra.tasks.mle.prepare import PUBLIC_FILES

    started = time.perf_counter()
    output = io.StringIO()
    previous = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="mle-pipeline-") as scratch:
        for file in PUBLIC_FILES:
            shutil.copyfile(Path(public_dir) / file, Path(scratch) / file)
        try:
            os.chdir(scratch)
            code = compile(source, _SCRIPT, "exec")
            with (
                contextlib.redirect_stdout(output),
                contextlib.redirect_stderr(output),
                warnings.catch_warnings(),
            ):
                warnings.simplefilter("ignore")
                exec(code, {"__name__": "__main__"})
            written = Path(scratch) / "submission.csv"
            if not written.exists():
                return Run(name, None, "wrote no submission.csv", time.perf_counter() - started)
            return Run(name, written.read_bytes(), None, time.perf_counter() - started)
        except Exception as exc:  # a failing pipeline is reported, whatever it raised
            return Run(name, None, _explain(exc, output.getvalue()), time.perf_counter() - started)
        finally:
            os.chdir(previous)
