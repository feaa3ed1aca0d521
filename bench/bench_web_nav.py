"""WebNav-v0's costs in one run: text and browser steps, resets, page sizes, isolation, memory.

    python bench/bench_web_nav.py --out bench/results/web_nav.json

Measures, on this machine:
- text backend: step p50/p95 and steps/s, reset p50/p95 and oracle episodes/s, over oracle
  episodes of every site and level (through the wrappers gym.make adds);
- browser backend (when Chromium is there): the first launch, reset and step latency;
- page sizes: SmolLM2 tokens of every page the oracle saw (median, p90, max);
- MiniWoB++: a random-clicking agent on the form tasks, to compare with BrowserGym's floor;
- 16 parallel episodes (16 threads, one env each, state-changing tasks): every one solved, and no
  episode's database holds another's changes;
- memory and threads over many text episodes (RSS every few hundred episodes).

Anchors (measured on this machine or reported by the issue): BrowserGym 0.14 with the system
Chromium resets in 2.4-3.5 s and steps in 0.7-1.3 s; a Playwright click plus accessibility
snapshot about 150 ms; an in-process text step over a WSGI app about 1 ms. Targets: text step
p50 under 2 ms, reset under 10 ms, browser step and reset under 100 ms, median page under 600
tokens, 16 parallel episodes with no cross-talk.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from shared import command, machine, stats_ms  # bench/ is on sys.path

import palaestra  # noqa: F401  (registers the envs)
from palaestra.envs.web_nav.sites import SITES
from palaestra.envs.web_nav.tasks import WebTasks

ANCHORS = {
    "browsergym_reset_s": [2.4, 3.5],
    "browsergym_step_s": [0.7, 1.3],
    "playwright_click_and_snapshot_ms": 150,
    "wsgi_text_step_ms": 1.0,
}
TARGETS = {
    "text_step_p50_ms": 2.0,
    "text_reset_p50_ms": 10.0,
    "browser_step_p50_ms": 100.0,
    "browser_reset_p50_ms": 100.0,
    "median_page_tokens": 600,
}


def task_ids(split: str, per_level: int, *, javascript: bool = False) -> list[str]:
    tasks = WebTasks(split=split, javascript=javascript)  # type: ignore[arg-type]
    ids = []
    for site in SITES:
        for level in (1, 2, 3):
            scan = tasks.iterate(site, level)
            ids += [next(scan).id for _ in range(per_level)]
    return ids


def play_oracle(
    env: Any, task_id: str, pages: list[str] | None = None
) -> tuple[float, list[float]]:
    start = time.perf_counter()
    obs, _ = env.reset(options={"task_id": task_id})
    reset = time.perf_counter() - start
    if pages is not None:
        pages.append(obs)
    steps = []
    info: dict[str, Any] = {}
    for action in env.unwrapped.oracle_actions():
        start = time.perf_counter()
        obs, _, terminated, truncated, info = env.step(action)
        steps.append(time.perf_counter() - start)
        if pages is not None and obs:
            pages.append(obs)
        if terminated or truncated:
            break
    if not info.get("success"):
        raise SystemExit(f"the oracle failed {task_id}: {info.get('verdict')}")
    return reset, steps


def bench_text(per_level: int) -> tuple[dict[str, Any], list[str]]:
    env = gym.make("WebNav-v0")
    ids = task_ids("train", per_level)
    for task_id in ids[: len(SITES)]:  # warm the worlds and the oracle's code paths
        play_oracle(env, task_id)
    resets, steps, pages = [], [], []
    start = time.perf_counter()
    for task_id in ids:
        reset, taken = play_oracle(env, task_id, pages)
        resets.append(reset)
        steps += taken
    elapsed = time.perf_counter() - start
    env.close()
    result = {
        "episodes": len(ids),
        "step": stats_ms(steps),
        "steps_per_second": len(steps) / sum(steps),
        "reset": stats_ms(resets),
        "oracle_episodes_per_second": len(ids) / elapsed,
        "note": "oracle episodes/s include resolving the gold plan (a shadow episode per task)",
    }
    return result, pages


def bench_browser(per_level: int) -> dict[str, Any]:
    from palaestra.envs.web_nav.browser import browser_available

    reason = browser_available()
    if reason is not None:
        return {"skipped": reason}
    start = time.perf_counter()
    env = gym.make("WebNav-v0", backend="browser")
    ids = task_ids("train", per_level, javascript=True)
    env.reset(options={"task_id": ids[0]})
    first = time.perf_counter() - start
    resets, steps = [], []
    for task_id in ids:
        reset, taken = play_oracle(env, task_id)
        resets.append(reset)
        steps += taken
    env.close()
    return {
        "episodes": len(ids),
        "first_reset_with_launch_s": first,
        "reset": stats_ms(resets),
        "step": stats_ms(steps),
    }


def bench_miniwob(episodes_per_task: int, turns: int) -> dict[str, Any]:
    """A random-clicking agent on MiniWoB++'s form tasks: the floor BrowserGym reports (~13%)."""
    import random

    from palaestra.envs.web_nav.browser import browser_available
    from palaestra.envs.web_nav.miniwob import MINIWOB_FORM_TASKS, miniwob_html

    reason = browser_available() or (None if miniwob_html() else "the miniwob package is absent")
    if reason is not None:
        return {"skipped": reason}
    rng = random.Random(0)
    per_task, steps, resets = {}, [], []
    for name in MINIWOB_FORM_TASKS:
        env = gym.make("WebNav-v0", site="miniwob", task=name, backend="browser", max_turns=turns)
        solved = 0
        for episode in range(episodes_per_task):
            start = time.perf_counter()
            env.reset(seed=episode)
            resets.append(time.perf_counter() - start)
            for _ in range(turns):
                elements = list(env.unwrapped.navigator.backend.page.elements)
                action = f"click [{rng.choice(elements)}]" if elements else "scroll down"
                start = time.perf_counter()
                _, reward, terminated, truncated, _ = env.step(action)
                steps.append(time.perf_counter() - start)
                if terminated or truncated:
                    break
            solved += reward > 0
        per_task[name] = solved / episodes_per_task
        env.close()
    return {
        "agent": f"random clicks on numbered elements, {turns} turns",
        "episodes_per_task": episodes_per_task,
        "tasks": len(per_task),
        "success_rate": float(np.mean(list(per_task.values()))),
        "per_task": per_task,
        "reset": stats_ms(resets),
        "step": stats_ms(steps),
        "anchor": "BrowserGym's MiniWoB++ leaderboard: random agent about 13%",
    }


def page_tokens(pages: list[str]) -> dict[str, Any]:
    from transformers import AutoTokenizer

    from palaestra.agents.models import resolve_model

    tokenizer = AutoTokenizer.from_pretrained(resolve_model("smollm2"))
    counts = [len(tokenizer(page)["input_ids"]) for page in pages]
    return {
        "tokenizer": "SmolLM2-135M-Instruct",
        "pages": len(counts),
        "median": float(statistics.median(counts)),
        "p90": float(np.percentile(counts, 90)),
        "max": int(max(counts)),
        "under_1500": float(np.mean(np.asarray(counts) < 1500)),
    }


def bench_parallel(episodes: int) -> dict[str, Any]:
    """16 envs stepped from 16 threads at once on state-changing tasks; then each is checked."""
    tasks = WebTasks(split="train")
    chosen = []
    for site in SITES:
        for level in (2, 3):
            for task in tasks.iterate(site, level):
                if task.draft.changes and task.draft.feasible:
                    chosen.append(task.id)
                    break
    chosen = [chosen[i % len(chosen)] for i in range(episodes)]
    envs = [gym.make("WebNav-v0") for _ in chosen]
    barrier = threading.Barrier(len(envs))

    def run(index: int) -> dict[str, Any]:
        env = envs[index]
        env.reset(options={"task_id": chosen[index]})
        plan = env.unwrapped.oracle_actions()
        barrier.wait()
        for action in plan:
            *_, info = env.step(action)
        task = env.unwrapped._task
        return {"success": bool(info.get("success")), "task": task.id}

    start = time.perf_counter()
    with ThreadPoolExecutor(len(envs)) as pool:
        outcomes = list(pool.map(run, range(len(envs))))
    elapsed = time.perf_counter() - start
    for env in envs:
        env.close()
    return {
        "episodes": len(envs),
        "solved": sum(o["success"] for o in outcomes),
        "distinct_tasks": len(set(chosen)),
        "seconds": elapsed,
        "note": "each verdict compares the episode's whole state tables: a row another "
        "episode wrote would fail it",
    }


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def bench_memory(episodes: int, every: int) -> dict[str, Any]:
    from palaestra.envs.web_nav.host import host

    env = gym.make("WebNav-v0", difficulty=1)
    ids = task_ids("train", 20)
    curve = []
    for episode in range(episodes):
        env.reset(options={"task_id": ids[episode % len(ids)]})
        for action in env.unwrapped.oracle_actions():
            env.step(action)
        if episode % every == 0 or episode == episodes - 1:
            curve.append(
                {"episode": episode, "rss_mb": rss_mb(), "threads": threading.active_count()}
            )
    env.close()
    return {
        "episodes": episodes,
        "curve": curve,
        "rss_growth_mb_after_first_1000": curve[-1]["rss_mb"]
        - next(p["rss_mb"] for p in curve if p["episode"] >= min(1000, episodes - 1)),
        "sessions_left": len(host().sessions),
        "threads_end": threading.active_count(),
    }


def tree_rss_mb() -> float:
    """RSS of this process and all its descendants (the Playwright driver, Chromium)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(parent, []).append(int(entry))
    total, todo = 0, [os.getpid()]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/statm") as statm:
                total += int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            continue
    return total / 2**20


def bench_browser_memory(episodes: int, every: int) -> dict[str, Any]:
    """Browser episodes back to back: the process tree's memory and the contexts left open."""
    from palaestra.envs.web_nav.browser import browser_available, open_contexts

    reason = browser_available()
    if reason is not None:
        return {"skipped": reason}
    env = gym.make("WebNav-v0", backend="browser", difficulty=1)
    ids = task_ids("train", 10, javascript=True)
    curve = []
    for episode in range(episodes):
        env.reset(options={"task_id": ids[episode % len(ids)]})
        for action in env.unwrapped.oracle_actions():
            env.step(action)
        if episode % every == 0 or episode == episodes - 1:
            curve.append(
                {"episode": episode, "tree_rss_mb": tree_rss_mb(), "contexts": open_contexts()}
            )
    env.close()
    return {
        "episodes": episodes,
        "curve": curve,
        "contexts_after_close": open_contexts(),
        "tree_rss_growth_mb_second_half": curve[-1]["tree_rss_mb"]
        - next(p["tree_rss_mb"] for p in curve if p["episode"] >= episodes // 2),
    }


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right, browser) = plt.subplots(1, 3, figsize=(15, 3.6))
    rows = [
        ("text step p50", result["text"]["step"]["p50_ms"], TARGETS["text_step_p50_ms"]),
        ("text reset p50", result["text"]["reset"]["p50_ms"], TARGETS["text_reset_p50_ms"]),
    ]
    if "step" in result["browser"]:
        rows += [
            ("browser step p50", result["browser"]["step"]["p50_ms"], 100.0),
            ("browser reset p50", result["browser"]["reset"]["p50_ms"], 100.0),
        ]
    rows.append(("BrowserGym step (anchor)", 1000 * ANCHORS["browsergym_step_s"][0], None))
    labels = [r[0] for r in rows]
    values = [r[1] for r in rows]
    bars = left.barh(labels, values, color="#2b7bba")
    left.set_xscale("log")
    left.bar_label(bars, labels=[f"{v:.2f} ms" for v in values], padding=3)
    for index, (_, _, target) in enumerate(rows):
        if target:
            left.plot([target, target], [index - 0.4, index + 0.4], color="#c0392b")
    left.set_xlabel("milliseconds, log scale (red: target)")
    left.set_title("WebNav-v0 latency")
    curve = result["memory"]["curve"]
    right.plot([p["episode"] for p in curve], [p["rss_mb"] for p in curve], marker=".")
    right.set_xlabel("episode")
    right.set_ylabel("RSS (MB)")
    right.set_title(f"memory over {result['memory']['episodes']:,} text episodes")
    if "curve" in result["browser_memory"]:
        points = result["browser_memory"]["curve"]
        browser.plot([p["episode"] for p in points], [p["tree_rss_mb"] for p in points], marker=".")
        browser.set_xlabel("episode")
        browser.set_ylabel("RSS of the process tree (MB)")
        browser.set_title(f"browser: {result['browser_memory']['episodes']:,} episodes")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    load_start = os.getloadavg()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-level", type=int, default=20, help="text tasks per site and level")
    parser.add_argument("--browser-per-level", type=int, default=3)
    parser.add_argument("--miniwob-episodes", type=int, default=10, help="per MiniWoB++ task")
    parser.add_argument("--miniwob-turns", type=int, default=10)
    parser.add_argument("--parallel", type=int, default=16)
    parser.add_argument("--memory-episodes", type=int, default=10_000)
    parser.add_argument("--memory-every", type=int, default=500)
    parser.add_argument("--browser-episodes", type=int, default=500, help="for browser memory")
    parser.add_argument("--out", type=Path, default=Path("bench/results/web_nav.json"))
    args = parser.parse_args()

    text, pages = bench_text(args.per_level)
    result: dict[str, Any] = {"command": command(), "anchors": ANCHORS, "targets": TARGETS}
    result["text"] = text
    result["page_tokens"] = page_tokens(pages)
    result["browser"] = bench_browser(args.browser_per_level)
    result["miniwob"] = bench_miniwob(args.miniwob_episodes, args.miniwob_turns)
    result["parallel"] = bench_parallel(args.parallel)
    result["memory"] = bench_memory(args.memory_episodes, args.memory_every)
    result["browser_memory"] = bench_browser_memory(args.browser_episodes, 50)
    from importlib.metadata import version

    result["machine"] = machine(load_start, playwright=version("playwright"))
    result["machine"]["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    plot(result, args.out.with_suffix(".png"))

    from rich.console import Console
    from rich.table import Table

    table = Table(title="WebNav-v0")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    browser, parallel, memory = result["browser"], result["parallel"], result["memory"]
    tokens = result["page_tokens"]

    def p50_p95(stats: dict[str, float], digits: int = 2) -> str:
        return f"{stats['p50_ms']:.{digits}f} / {stats['p95_ms']:.{digits}f} ms"

    rows = [
        ("text step p50 / p95", p50_p95(text["step"]), "< 2 ms"),
        ("text steps/s", f"{text['steps_per_second']:,.0f}", ""),
        ("text reset p50 / p95", p50_p95(text["reset"]), "< 10 ms"),
        ("oracle episodes/s (text)", f"{text['oracle_episodes_per_second']:.1f}", ""),
        ("page tokens median / p90 / max", f"{tokens['median']:.0f} / {tokens['p90']:.0f} / "
         f"{tokens['max']}", "< 600"),
    ]  # fmt: skip
    if "step" in browser:
        launch = browser["first_reset_with_launch_s"] * 1000
        rows += [
            ("browser first reset (launch)", f"{launch:.0f} ms", ""),
            ("browser reset p50 / p95", p50_p95(browser["reset"], 0), "< 100 ms"),
            ("browser step p50 / p95", p50_p95(browser["step"], 0), "< 100 ms"),
        ]
    else:
        rows.append(("browser", browser["skipped"], ""))
    miniwob = result["miniwob"]
    if "success_rate" in miniwob:
        rows.append(
            (
                f"MiniWoB++ random clicks ({miniwob['tasks']} tasks)",
                f"{miniwob['success_rate']:.1%}",
                "~13% (BrowserGym)",
            )
        )
    growth = memory["rss_growth_mb_after_first_1000"]
    browser_memory = result["browser_memory"]
    if "curve" in browser_memory:
        rows.append(
            (
                f"browser: RSS growth, 2nd half of {browser_memory['episodes']} episodes",
                f"{browser_memory['tree_rss_growth_mb_second_half']:+.1f} MB "
                f"({browser_memory['contexts_after_close']} contexts left)",
                "flat",
            )
        )
    rows += [
        ("parallel episodes solved", f"{parallel['solved']}/{parallel['episodes']}", "all"),
        ("RSS growth after episode 1000", f"{growth:+.1f} MB", "flat"),
        ("sessions / threads left", f"{memory['sessions_left']} / {memory['threads_end']}", ""),
    ]
    for row in rows:
        table.add_row(*row)
    Console().print(table)
    print(f"wrote {args.out} and {args.out.with_suffix('.png')}")


if __name__ == "__main__":
    main()
