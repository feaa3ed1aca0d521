"""Env server cost: remote ToolUse-v0 steps over WebSocket and HTTP, beside in-process steps.

    python bench/bench_server.py --out bench/results/server.json
    python bench/bench_server.py --only-256

One run, one machine: the server is ``palaestra serve`` in a subprocess on loopback, the client
is this process. Every configuration steps the same action streams (each session resets once with
a turn limit out of reach, then cycles through its task's gold tool calls), so the in-process
numbers are the same work without the wire:

- in-process: ``env.step`` on the bare env, as the server calls it;
- 1 session, WebSocket and HTTP: `RemoteEnv` (the sync client users get);
- 16 and 64 sessions, WebSocket: an asyncio client speaking the same protocol (one process
  cannot drive many sessions with threads without measuring its own GIL), plus 16 `RemoteEnv`s in
  threads for comparison;
- 256 `RemoteEnv`s in threads at once, the server's maximum: errors, sessions left, and the open
  file descriptors, threads and child processes of the server and of this process before and after
  (``--only-256`` runs just this one, into ``bench/results/server_256.json``).

Latency is per step (send to reply); steps/s is all steps over the wall time of the run (for the
many-session runs, the median of ``--repeats`` runs). The server's CPU time per step comes from
/proc. Targets (issue): p50 at most 0.5 ms over the
in-process step with one session; at least 5,000 steps/s with 16 sessions. Anchor: OpenEnv's echo
env over WebSocket, ~0.46 ms/step with one session and ~5,400 steps/s with 16 async sessions.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import httpx
import numpy as np
from shared import command, machine  # bench/ is on sys.path
from websockets.asyncio.client import connect

import palaestra  # noqa: F401  (registers the envs)
from palaestra.server import RemoteEnv
from palaestra.server.runner import footprint

ENV_ID = "ToolUse-v0"
ENDLESS = {"max_turns": 10**9}  # a session steps for as long as the run lasts


def action_stream(seed: int) -> list[str]:
    """The gold tool calls of the task a seed picks (the final answer would end the episode)."""
    env = gym.make(ENV_ID).unwrapped
    env.reset(seed=seed)
    return [a for a in env.oracle_actions() if a.startswith("<tool_call>")]


def summary(latencies_s: list[float], wall_s: float) -> dict[str, float]:
    us = np.asarray(latencies_s) * 1e6
    return {
        "steps": int(us.size),
        "p50_us": float(np.percentile(us, 50)),
        "p95_us": float(np.percentile(us, 95)),
        "mean_us": float(us.mean()),
        "steps_per_s": float(us.size / wall_s),
    }


# --------------------------------------------------------------------------- in-process
def bench_in_process(sessions: int, steps: int) -> dict[str, float]:
    latencies: list[float] = []
    started = time.perf_counter()
    for seed in range(sessions):
        env = gym.make(ENV_ID, **ENDLESS).unwrapped
        env.reset(seed=seed)
        actions = action_stream(seed)
        for k in range(steps):
            t = time.perf_counter()
            env.step(actions[k % len(actions)])
            latencies.append(time.perf_counter() - t)
        env.close()
    # Throughput of the bare step loop (resets and setup excluded, as for the remote runs).
    return summary(latencies, sum(latencies)) | {"wall_s": time.perf_counter() - started}


# ------------------------------------------------------------------------------- remote
class Server:
    """``palaestra serve`` in a subprocess, with its CPU time readable from /proc."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "palaestra.cli", "serve", "--port", str(port)]
        self.process = subprocess.Popen(
            [*command, "--log-level", "warning"], stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{self.base_url}/health", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.05)

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def sessions(self) -> int:
        return int(httpx.get(f"{self.base_url}/health").json()["sessions"])

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(15)


def measured(server: Server, run) -> dict[str, float]:
    """Run ``run() -> (latencies, wall)`` and add the server's CPU time per step."""
    cpu = server.cpu_s()
    latencies, wall = run()
    result = summary(latencies, wall)
    result["server_cpu_us_per_step"] = (server.cpu_s() - cpu) / len(latencies) * 1e6
    return result


def bench_remote_env(server: Server, sessions: int, steps: int, transport: str):
    """``sessions`` RemoteEnvs in threads (one thread each)."""

    errors: list[str] = []

    def run():
        envs = [
            RemoteEnv(server.base_url, ENV_ID, transport=transport, **ENDLESS)
            for _ in range(sessions)
        ]
        streams = [action_stream(seed) for seed in range(sessions)]
        for seed, env in enumerate(envs):
            env.reset(seed=seed)
            for action in streams[seed][:2]:  # warm-up
                env.step(action)
        latencies: list[list[float]] = [[] for _ in range(sessions)]
        barrier = threading.Barrier(sessions + 1)

        def worker(index: int) -> None:
            env, actions, out = envs[index], streams[index], latencies[index]
            barrier.wait()
            try:
                for k in range(steps):
                    t = time.perf_counter()
                    env.step(actions[k % len(actions)])
                    out.append(time.perf_counter() - t)
            except Exception as exc:  # counted, and the run goes on
                errors.append(f"session {index}: {exc!r}")

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(sessions)]
        for thread in threads:
            thread.start()
        barrier.wait()
        started = time.perf_counter()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        for env in envs:
            env.close()
        return [x for out in latencies for x in out], wall

    result = measured(server, run)
    result["errors"] = len(errors)
    for error in errors[:5]:
        print(error)
    return result


def bench_leaks(server: Server, sessions: int, steps: int) -> dict[str, Any]:
    """``sessions`` RemoteEnvs at once, and what the server and this process hold afterwards."""
    client, served = footprint(), footprint(server.process.pid)
    result: dict[str, Any] = dict(bench_remote_env(server, sessions, steps, "websocket"))
    deadline = time.monotonic() + 60  # closed sockets and exiting threads settle
    while time.monotonic() < deadline and (
        footprint(server.process.pid)["fds"] > served["fds"] or footprint()["fds"] > client["fds"]
    ):
        time.sleep(0.1)
    result["sessions_left_on_server"] = server.sessions()
    result["server_before"], result["server_after"] = served, footprint(server.process.pid)
    result["client_before"], result["client_after"] = client, footprint()
    return result


def bench_async(server: Server, sessions: int, steps: int):
    """``sessions`` WebSocket sessions driven from one asyncio loop, same protocol as RemoteEnv."""
    ws_base = server.base_url.replace("http://", "ws://")
    with httpx.Client() as http:
        ids = [
            http.post(
                f"{server.base_url}/sessions", json={"env_id": ENV_ID, "kwargs": ENDLESS}
            ).json()["session_id"]
            for _ in range(sessions)
        ]
    streams = [
        [json.dumps({"op": "step", "action": a}) for a in action_stream(seed)]
        for seed in range(sessions)
    ]

    async def session(index: int, go: asyncio.Event, out: list[float]) -> None:
        url = f"{ws_base}/sessions/{ids[index]}/ws"
        async with connect(url, compression=None, max_size=None) as ws:
            await ws.send(json.dumps({"op": "reset", "seed": index}))
            await ws.recv()
            messages = streams[index]
            for message in messages[:2]:  # warm-up
                await ws.send(message)
                await ws.recv()
            await go.wait()
            for k in range(steps):
                t = time.perf_counter()
                await ws.send(messages[k % len(messages)])
                reply = await ws.recv()
                out.append(time.perf_counter() - t)
                if '"error"' in reply[:10]:
                    raise SystemExit(f"session {index}: {reply}")
            await ws.send(json.dumps({"op": "close"}))
            await ws.recv()

    async def main() -> tuple[list[float], float]:
        go, out = asyncio.Event(), []
        tasks = [asyncio.create_task(session(i, go, out)) for i in range(sessions)]
        await asyncio.sleep(0.5)  # every connection open and warm
        started = time.perf_counter()
        go.set()
        await asyncio.gather(*tasks)
        return out, time.perf_counter() - started

    return measured(server, lambda: asyncio.run(main()))


def median_of(repeats: int, run) -> dict[str, float]:
    """The run with the median steps/s out of ``repeats``, noting every run's steps/s."""
    results = sorted((run() for _ in range(repeats)), key=lambda r: r["steps_per_s"])
    median = dict(results[len(results) // 2])
    median["steps_per_s_of_each_run"] = [r["steps_per_s"] for r in results]
    return median


# --------------------------------------------------------------------------------- report
def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["runs"]
    labels = list(rows)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    y = np.arange(len(labels))
    p50 = [rows[k]["p50_us"] for k in labels]
    p95 = [rows[k]["p95_us"] for k in labels]
    left.barh(y - 0.2, p50, height=0.4, label="p50", color="#2b7bba")
    left.barh(y + 0.2, p95, height=0.4, label="p95", color="#7fb3d5")
    left.set_yticks(y, labels)
    left.invert_yaxis()
    left.set_xscale("log")
    left.set_xlabel("microseconds per step (log; lower is better)")
    budget = rows["in-process"]["p50_us"] + 500
    left.axvline(budget, color="#c0392b", linestyle="--", label="target, 1 session")
    left.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=8)
    rate = [rows[k]["steps_per_s"] for k in labels]
    bars = right.barh(y, rate, color="#2b7bba")
    right.bar_label(bars, labels=[f"{v:,.0f}" for v in rate], padding=3, fontsize=8)
    right.set_yticks(y, labels)
    right.invert_yaxis()
    right.set_xscale("log")
    right.axvline(5000, color="#c0392b", linestyle="--", label="target, 16 sessions")
    right.set_xlabel("steps per second (log; higher is better)")
    right.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=8)
    fig.suptitle(f"palaestra env server · {ENV_ID} · {result['machine']['cpus']} CPUs shared")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    load_start = os.getloadavg()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=4000, help="steps with one session")
    parser.add_argument("--total", type=int, default=16000, help="steps across many sessions")
    parser.add_argument(
        "--repeats", type=int, default=3, help="runs of each many-session configuration"
    )
    parser.add_argument("--out", type=Path, default=None, help="the JSON to write")
    parser.add_argument(
        "--only-256", action="store_true", help="only the 256-session run (leaks and steps/s)"
    )
    args = parser.parse_args()
    if args.only_256:
        only_256(args, load_start)
        return
    args.out = args.out or Path("bench/results/server.json")

    runs: dict[str, dict[str, float]] = {}
    runs["in-process"] = bench_in_process(16, args.total // 16)
    server = Server()
    try:
        runs["websocket, 1 session"] = bench_remote_env(server, 1, args.steps, "websocket")
        runs["http, 1 session"] = bench_remote_env(server, 1, args.steps // 2, "http")
        for sessions in (16, 64):
            runs[f"websocket, {sessions} sessions (async)"] = median_of(
                args.repeats, lambda n=sessions: bench_async(server, n, args.total // n)
            )
        runs["websocket, 16 RemoteEnv threads"] = bench_remote_env(
            server, 16, args.total // 16 // 2, "websocket"
        )
        runs["websocket, 256 RemoteEnv threads"] = bench_leaks(server, 256, args.total // 256)
        leaked = server.sessions()
    finally:
        server.stop()

    overhead = runs["websocket, 1 session"]["p50_us"] - runs["in-process"]["p50_us"]
    rate16 = runs["websocket, 16 sessions (async)"]["steps_per_s"]
    result = {
        "command": command(),
        "env": ENV_ID,
        "runs": runs,
        "targets": {
            "p50_overhead_1_session_us": overhead,
            "p50_overhead_met": overhead <= 500,
            "steps_per_s_16_sessions": rate16,
            "steps_per_s_met": rate16 >= 5000,
        },
        "sessions_left_on_server": leaked,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result["machine"] = machine(load_start, note="server and client share the machine's CPUs")
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    plot(result, args.out.with_suffix(".png"))

    print(f"{'':34}{'p50 us':>9}{'p95 us':>9}{'steps/s':>10}{'server us/step':>16}")
    for name, row in runs.items():
        cpu = row.get("server_cpu_us_per_step")
        cpu_text = f"{cpu:>16.0f}" if cpu is not None else f"{'':>16}"
        print(
            f"{name:34}{row['p50_us']:>9.0f}{row['p95_us']:>9.0f}{row['steps_per_s']:>10,.0f}"
            + cpu_text
        )
    print(
        f"p50 overhead over in-process, 1 session: {overhead:.0f} us (target <= 500): "
        f"{'met' if overhead <= 500 else 'MISSED'}"
    )
    print(
        f"16 sessions: {rate16:,.0f} steps/s (target >= 5,000): "
        f"{'met' if rate16 >= 5000 else 'MISSED'}"
    )
    print(f"sessions left on the server: {leaked}")
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")


def only_256(args: argparse.Namespace, load_start: tuple[float, float, float]) -> None:
    """The 256-session run alone, into its own file (the full run keeps server.json)."""
    server = Server()
    try:
        run = bench_leaks(server, 256, args.total // 256)
    finally:
        server.stop()
    out = args.out or Path("bench/results/server_256.json")
    result = {"command": command(), "env": ENV_ID, "run": run}
    result["machine"] = machine(load_start, note="server and client share the machine's CPUs")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(run, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
