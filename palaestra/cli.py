"""The ``palaestra`` command: list envs, run agents in them, read the transcripts.

    palaestra list
    palaestra run ToolUse-v0 --agent smollm2 --episodes 8 --out runs/base.jsonl
    palaestra show runs/base.jsonl --episode 0

Bad arguments end with one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from palaestra.errors import ConfigError, PalaestraError

app = typer.Typer(
    name="palaestra",
    help="Gym-style environments for LLM agents: list them, run agents, read transcripts.",
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
_ROLE_STYLES = {"system": "dim", "user": "cyan", "assistant": "green", "tool": "yellow"}


@app.command("list")
def list_envs() -> None:
    """List the registered envs."""
    from palaestra.core.registration import catalog

    table = Table(title="palaestra envs")
    table.add_column("id", style="bold")
    table.add_column("turn limit", justify="right")
    table.add_column("description")
    for entry in catalog():
        table.add_row(entry.id, str(entry.max_episode_steps), entry.description)
    console.print(table)


def _parse_env_args(pairs: list[str]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--env-arg takes key=value, got {pair!r}")
        try:
            kwargs[key] = json.loads(raw)
        except json.JSONDecodeError:
            kwargs[key] = raw
    return kwargs


@app.command()
def run(
    env: Annotated[str, typer.Argument(help="Env id, e.g. ToolUse-v0 (see `palaestra list`).")],
    agent: Annotated[
        str,
        typer.Option(help="oracle, random, noop, smollm2, hf:<model>, openai:<base url>#<model>."),
    ] = "smollm2",
    episodes: Annotated[int, typer.Option(min=1, help="Number of episodes.")] = 8,
    split: Annotated[str, typer.Option(help="Task split: train or test.")] = "train",
    seed: Annotated[int, typer.Option(help="Group g (episode g alone) resets with seed + g.")] = 0,
    out: Annotated[
        Path | None, typer.Option(help="Append trajectories to this JSONL file.")
    ] = None,
    num_envs: Annotated[int, typer.Option(min=1, help="Episodes in flight at once.")] = 8,
    group_size: Annotated[
        int, typer.Option(min=1, help="Episodes per task, all from the same start.")
    ] = 1,
    backend: Annotated[str, typer.Option(help="Where envs run: local or ray.")] = "local",
    overlap: Annotated[
        bool, typer.Option(help="Serve ready episodes while slow env steps still run.")
    ] = False,
    max_turns: Annotated[int | None, typer.Option(min=1, help="Turn limit per episode.")] = None,
    max_new_tokens: Annotated[
        int, typer.Option(min=1, help="Model agents: tokens per turn.")
    ] = 256,
    temperature: Annotated[float, typer.Option(min=0.0, help="Model agents: 0 is greedy.")] = 0.7,
    env_arg: Annotated[
        list[str] | None, typer.Option(help="Extra env keyword, key=value (repeatable).")
    ] = None,
) -> None:
    """Run an agent for some episodes, then print a summary table."""
    from palaestra.agents import resolve_agent
    from palaestra.core.registration import check_make
    from palaestra.rollout import collect, print_summary, summarize

    if split not in ("train", "test"):
        raise ConfigError(f"--split must be train or test, got {split!r}")
    env_kwargs = {"split": split, **_parse_env_args(env_arg or [])}
    if max_turns is not None:
        env_kwargs["max_turns"] = max_turns
    env_id = check_make(env, env_kwargs)
    model_options = (
        {"max_new_tokens": max_new_tokens, "temperature": temperature}
        if agent == "smollm2" or agent.startswith(("hf:", "openai:"))
        else {}
    )
    if model_options:
        _quiet_model_loading()
    with console.status(f"loading agent {agent} ..."):
        resolved = resolve_agent(agent, seed=seed, **model_options)
    if backend not in ("local", "ray"):
        raise ConfigError(f"--backend must be local or ray, got {backend!r}")
    started = time.perf_counter()
    trajectories = collect(
        env_id,
        resolved,
        episodes,
        seed=seed,
        env_kwargs=env_kwargs,
        num_envs=num_envs,
        group_size=group_size,
        out=out,
        progress=True,
        backend=backend,  # type: ignore[arg-type]
        overlap=overlap,
    )
    summary = summarize(trajectories)
    print_summary(
        summary,
        title=f"{env_id} · {agent} · {split} split",
        seconds=time.perf_counter() - started,
        console=console,
    )
    if out is not None:
        summary_path = out.with_suffix(".summary.json")
        record = {"env": env_id, "agent": agent, "split": split, "seed": seed, **summary.to_dict()}
        summary_path.write_text(json.dumps(record, indent=2) + "\n")
        console.print(f"trajectories: {out}   summary: {summary_path}")


@app.command("eval")
def evaluate(
    env: Annotated[str, typer.Option(help="Env id, e.g. ToolUse-v0.")],
    model: Annotated[
        str, typer.Option(help="smollm2, a trained model directory, or a hub id.")
    ] = "smollm2",
    episodes: Annotated[int, typer.Option(min=1, help="Test episodes.")] = 32,
    seed: Annotated[int, typer.Option(help="Episode i resets with seed + i.")] = 0,
    num_envs: Annotated[int, typer.Option(min=1, help="Episodes in flight at once.")] = 8,
    max_new_tokens: Annotated[int, typer.Option(min=1, help="Tokens per turn.")] = 256,
    temperature: Annotated[float, typer.Option(min=0.0, help="0 is greedy.")] = 0.0,
    out: Annotated[Path | None, typer.Option(help="Append trajectories here.")] = None,
    env_arg: Annotated[
        list[str] | None, typer.Option(help="Extra env keyword, key=value (repeatable).")
    ] = None,
) -> None:
    """Success rate of a model on the test split, with its 95% interval."""
    spec = model if model == "smollm2" or model.startswith(("hf:", "openai:")) else f"hf:{model}"
    if spec.startswith("hf:") and "/" not in spec and not Path(spec[3:]).exists():
        raise ConfigError(f"--model {model!r} is neither smollm2, a directory, nor a hub id")
    run(
        env,
        agent=spec,
        episodes=episodes,
        split="test",
        seed=seed,
        out=out,
        num_envs=num_envs,
        group_size=1,
        backend="local",
        overlap=False,
        max_turns=None,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        env_arg=env_arg,
    )


_LORA_LEARNING_RATES = {"sft": 2e-4, "dpo": 1e-5, "kto": 1e-5, "stepdpo": 1e-4} | dict.fromkeys(
    ("grpo", "rloo", "reinforcepp"), 2e-5
)
"""Learning rates for LoRA runs: about 10x each algorithm's full fine-tuning default."""


@app.command()
def train(
    algorithm: Annotated[
        str, typer.Argument(help="sft, dpo, kto, stepdpo, grpo, rloo or reinforcepp.")
    ],
    env: Annotated[str, typer.Option(help="Env id, e.g. ToolUse-v0.")] = "ToolUse-v0",
    model: Annotated[
        str, typer.Option(help="Starting policy: smollm2, a model directory or a hub id.")
    ] = "smollm2",
    rounds: Annotated[int, typer.Option(min=1, help="Collect-train-evaluate rounds.")] = 2,
    out: Annotated[
        Path | None, typer.Option(help="Run directory (default runs/<algorithm>).")
    ] = None,
    tasks: Annotated[int, typer.Option(min=1, help="Train tasks played per round.")] = 8,
    group_size: Annotated[int, typer.Option(min=1, help="Episodes per task (sft, dpo, kto).")] = 4,
    k: Annotated[int, typer.Option(min=2, help="Candidate steps per state (stepdpo).")] = 4,
    verifier: Annotated[
        str, typer.Option(help="stepdpo: env, montecarlo or judge:<agent spec>.")
    ] = "env",
    max_turns: Annotated[int, typer.Option(min=1, help="Turn limit per episode.")] = 4,
    max_new_tokens: Annotated[int, typer.Option(min=1, help="Tokens per turn.")] = 128,
    temperature: Annotated[
        float, typer.Option(help="Sampling temperature while collecting (> 0).")
    ] = 1.0,
    num_envs: Annotated[int, typer.Option(min=1, help="Episodes in flight at once.")] = 8,
    updates: Annotated[int, typer.Option(min=1, help="RL: policy-gradient updates per round.")] = 2,
    horizons: Annotated[
        str | None, typer.Option(help="RL: growing turn limits, e.g. 2,4,8 (default: max-turns).")
    ] = None,
    sft_every: Annotated[
        int, typer.Option(min=0, help="Make every n-th round rejection-sampling SFT; 0: never.")
    ] = 0,
    eval_episodes: Annotated[
        int, typer.Option(min=1, help="Test episodes per evaluation (the same every stage).")
    ] = 16,
    warmup_episodes: Annotated[
        int, typer.Option(min=0, help="Oracle episodes for an SFT warm-up; 0: none.")
    ] = 0,
    lora: Annotated[bool, typer.Option(help="Train LoRA adapters (merged each round).")] = True,
    learning_rate: Annotated[
        float | None, typer.Option(help="Peak learning rate (default: the algorithm's).")
    ] = None,
    epochs: Annotated[int, typer.Option(min=1, help="Passes over each round's data.")] = 1,
    batch_size: Annotated[int, typer.Option(min=1, help="Examples per forward pass.")] = 2,
    beta: Annotated[float | None, typer.Option(help="DPO/KTO beta (default 0.1).")] = None,
    reference: Annotated[
        str, typer.Option(help="DPO/KTO reference: previous (round start) or start.")
    ] = "previous",
    seed: Annotated[int, typer.Option(help="Seeds collection and training.")] = 0,
    train_arg: Annotated[
        list[str] | None,
        typer.Option("--set", help="Any trainer setting, key=value (repeatable)."),
    ] = None,
    env_arg: Annotated[
        list[str] | None, typer.Option(help="Extra env keyword, key=value (repeatable).")
    ] = None,
) -> None:
    """Train a model in an env with a bundled loop; a re-run with the same settings resumes."""
    from palaestra.trainers.loop import ALGORITHMS, LoopConfig, train_loop

    if algorithm not in ALGORITHMS:
        raise ConfigError(f"algorithm must be one of {', '.join(ALGORITHMS)}, got {algorithm!r}")
    settings: dict[str, Any] = {"lora": lora, "epochs": epochs, "batch_size": batch_size}
    settings["seed"] = seed
    rate = learning_rate or (_LORA_LEARNING_RATES[algorithm] if lora else None)
    if rate is not None:
        settings["learning_rate"] = rate
    if beta is not None:
        settings["beta"] = beta
    settings |= _parse_env_args(train_arg or [])
    warmup = {k: v for k, v in settings.items() if k in ("lora", "seed", "batch_size")}
    warmup["learning_rate"] = _LORA_LEARNING_RATES["sft"] if lora else 2e-5
    config = LoopConfig(
        algorithm=algorithm,
        env=env,
        env_kwargs=_parse_env_args(env_arg or []),
        model=model,
        rounds=rounds,
        output_dir=str(out or Path("runs") / algorithm),
        seed=seed,
        tasks_per_round=tasks,
        group_size=group_size,
        k=k,
        verifier=verifier,
        max_turns=max_turns,
        num_envs=num_envs,
        temperature=temperature,
        max_new_tokens=max_new_tokens,
        updates_per_round=updates,
        horizons=_turn_limits(horizons) if horizons else None,
        sft_every=sft_every,
        train=settings,
        reference=reference,
        warmup_episodes=warmup_episodes,
        sft=warmup,
        eval_episodes=eval_episodes,
    )
    _quiet_model_loading()
    train_loop(config, console=console)


@app.command()
def demo(
    quick: Annotated[bool, typer.Option(help="The 3-minute version: fewer episodes.")] = False,
    model: Annotated[str, typer.Option(help="smollm2, a model directory or a hub id.")] = "smollm2",
    out: Annotated[Path, typer.Option(help="Run directory.")] = Path("runs/demo"),
    algorithm: Annotated[
        str,
        typer.Option(
            help="The loop after the warm-up: dpo (chosen by bench/bench_demo_loops.py), sft, "
            "kto, stepdpo, grpo, rloo or reinforcepp."
        ),
    ] = "dpo",
    warmup: Annotated[bool, typer.Option(help="SFT on oracle episodes first.")] = True,
) -> None:
    """Evaluate, train and re-evaluate SmolLM2 in ToolUse-v0; write report.md and curve.png."""
    from palaestra.demo import DemoConfig, run_demo

    _quiet_model_loading()
    config = DemoConfig(
        quick=quick, model=model, output_dir=str(out), algorithm=algorithm, warmup=warmup
    )
    run_demo(config, console=console)


def _turn_limits(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ConfigError(f"--horizons takes turn limits like 2,4,8; got {text!r}") from None


def _quiet_model_loading() -> None:
    """Our progress bar is the one to watch: silence transformers' own bars and chatter."""
    import importlib.util

    if importlib.util.find_spec("transformers") is None:
        return
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    warnings.filterwarnings(
        "ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning
    )


@app.command()
def show(
    file: Annotated[Path, typer.Argument(help="A trajectory JSONL file.")],
    episode: Annotated[
        int | None, typer.Option(help="Show only this line (0-based) of the file.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many episodes.")] = 5,
) -> None:
    """Print trajectories as readable transcripts."""
    from palaestra.core.types import read_jsonl

    trajectories = list(read_jsonl(file))
    if episode is not None:
        if not 0 <= episode < len(trajectories):
            raise ConfigError(
                f"--episode must be between 0 and {len(trajectories) - 1}, got {episode}"
            )
        trajectories = [trajectories[episode]]
    for trajectory in trajectories[:limit]:
        outcome = "[green]solved" if trajectory.success else "[red]not solved"
        console.rule(
            f"{trajectory.env_id} · {trajectory.task_id} · {trajectory.agent} · {outcome}[/] "
            f"· reward {trajectory.reward:.2f} · {trajectory.num_turns} turns"
        )
        for message in trajectory.messages:
            style = _ROLE_STYLES.get(message.role, "")
            # Text, not markup: transcripts hold brackets ("click [12]") that rich would eat.
            content = Text(message.content)
            console.print(
                Panel(content, title=message.role, title_align="left", border_style=style)
            )
        if trajectory.verdict:
            console.print(f"[bold]verdict:[/] {escape(trajectory.verdict)}")
        if trajectory.error:
            console.print(
                f"[bold red]episode failed:[/] {trajectory.error.type}: "
                f"{escape(trajectory.error.message)}"
            )
    if len(trajectories) > limit:
        console.print(f"... {len(trajectories) - limit} more (use --limit or --episode)")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    env: Annotated[
        list[str] | None, typer.Option(help="Serve only this env id (repeatable); all by default.")
    ] = None,
    max_sessions: Annotated[int, typer.Option(min=1, help="Sessions held at once.")] = 256,
    ttl: Annotated[
        float, typer.Option(min=0.001, help="Seconds an idle session lives before it is closed.")
    ] = 600.0,
    grace: Annotated[
        float,
        typer.Option(
            min=0.001,
            help="Seconds a session whose connection was cut waits for its client to resume it.",
        ),
    ] = 30.0,
    privileged: Annotated[
        bool, typer.Option(help="Give out oracle actions (ground truth): tests and oracles only.")
    ] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve envs over HTTP and WebSocket (API docs at /docs); RemoteEnv is the client."""
    from palaestra.errors import require

    require("fastapi", "server")
    require("uvicorn", "server")
    from palaestra.server.app import create_app
    from palaestra.server.runner import serve as run_server

    server_app = create_app(
        env or None, max_sessions=max_sessions, ttl_s=ttl, grace_s=grace, privileged=privileged
    )
    console.print(f"palaestra env server on http://{host}:{port}  (API docs: /docs)")
    run_server(server_app, host, port, log_level=log_level)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning every expected failure into one line on stderr."""
    args = sys.argv[1:] if argv is None else argv
    try:
        status = app(args or ["--help"], standalone_mode=False, prog_name="palaestra")
    except (KeyboardInterrupt, typer.Abort):
        sys.stderr.write("aborted\n")
        sys.exit(130)
    except PalaestraError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(2)
    except Exception as exc:
        # Usage errors: typer bundles its own click in some versions, so match click's API.
        if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):
            raise
        sys.stderr.write(f"error: {exc.format_message()}\n")
        sys.exit(exc.exit_code)
    sys.exit(status if isinstance(status, int) else 0)


if __name__ == "__main__":
    main()
