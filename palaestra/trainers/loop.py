"""The iterative loop: collect with the current model, learn from what it did, evaluate, repeat.

    round 0    evaluate the starting model on a fixed test sample            (the baseline)
    warm-up    SFT on oracle trajectories of the train split                 (optional)
    round r    collect with the current model -> data -> train -> evaluate   (r = 1 .. rounds)

The data of a round depend on the algorithm: the successful episodes (``sft``), success/failure
pairs of the same task (``dpo``), every episode labelled by success (``kto``), or step pairs mined
by forking each state (``stepdpo``). Each round starts from the previous round's model.

Every stage is a checkpoint in its own directory, finished when its ``round.json`` exists::

    out/loop.json                  the settings (a resumed run must keep them; rounds may grow)
    out/round-0/eval.jsonl         the baseline's test episodes
    out/warmup/oracle.jsonl        oracle episodes, then model/ and eval.jsonl
    out/round-<r>/train.jsonl      the collected episodes (step mining: and pairs.jsonl)
    out/round-<r>/model/           the trained model, tokenizer, training.json, tensorboard/
    out/round-<r>/eval.jsonl       its test episodes
    out/results.json, curve.png    every stage's numbers, success rate per stage

Run it again with the same settings after a crash: finished stages are skipped, the latest model
is loaded, and collection and evaluation resume from their JSONL files (`collect` skips the
episodes already there); a saved model is not trained again.

    result = train_loop(LoopConfig(algorithm="dpo", rounds=3, train={"lora": True}))
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from palaestra.core.types import Trajectory
from palaestra.errors import ConfigError, NoTrainingDataError

__all__ = ["ALGORITHMS", "LoopConfig", "LoopResult", "changed_settings", "train_loop"]

ALGORITHMS: dict[str, tuple[str, str, str]] = {
    "sft": ("palaestra.trainers.sft", "SFTConfig", "SFTTrainer"),
    "dpo": ("palaestra.trainers.dpo", "DPOConfig", "DPOTrainer"),
    "kto": ("palaestra.trainers.kto", "KTOConfig", "KTOTrainer"),
    "stepdpo": ("palaestra.trainers.stepdpo", "StepDPOConfig", "StepDPOTrainer"),
    "grpo": ("palaestra.trainers.grpo", "GRPOConfig", "GRPOTrainer"),
    "rloo": ("palaestra.trainers.grpo", "RLOOConfig", "GRPOTrainer"),
    "reinforcepp": ("palaestra.trainers.grpo", "ReinforcePPConfig", "GRPOTrainer"),
}
"""Algorithm name -> (module, config class, trainer class)."""

RL_ALGORITHMS = frozenset({"grpo", "rloo", "reinforcepp"})
"""The algorithms that collect their own episodes, update by update (`GRPOTrainer`)."""

_SET_BY_LOOP = frozenset(
    {"model", "output_dir", "progress", "device", "reference", "env", "env_kwargs", "updates"}
    | {"first_update", "tasks_per_update", "group_size", "horizons", "updates_per_horizon"}
    | {"temperature", "max_new_tokens", "num_envs"}
)
"""Trainer settings the loop decides (per round); ``train`` may not override them."""

_RESUMABLE = frozenset({"rounds", "progress"})
"""Settings a resumed run may change."""


@dataclass
class LoopConfig:
    """How the loop runs. Defaults suit SmolLM2 on a laptop CPU: short episodes, few tasks."""

    # What
    algorithm: str = "dpo"
    """``"sft"`` (rejection sampling), ``"dpo"`` / ``"kto"`` (multi-turn, whole trajectories),
    ``"stepdpo"`` (step-wise pairs mined by forking the env), or the RL ones ``"grpo"``,
    ``"rloo"``, ``"reinforcepp"`` (each round is ``updates_per_round`` policy-gradient updates)."""
    env: str = "ToolUse-v0"
    """A registered env id."""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """Extra ``gym.make`` keywords (``domain``, ``difficulty``, ...); the loop sets ``split``."""
    model: str = "smollm2"
    """The starting policy: ``"smollm2"``, a checkpoint directory or a hub id."""
    rounds: int = 2
    """Collect-train-evaluate rounds; a finished run continues when given more. 0: only the
    baseline (and the warm-up)."""
    output_dir: str = "runs/loop"
    """Where every stage is saved (see the module docs)."""
    seed: int = 0
    """Round ``r`` collects with seeds from ``seed + 100_000 * r``: new tasks every round."""

    # Collection
    tasks_per_round: int = 8
    """Train-split tasks played per round."""
    group_size: int = 4
    """Episodes per task: a success and a failure of one task make a DPO pair; RL compares the
    episodes of a group (its G)."""
    k: int = 4
    """Candidate steps per state (stepdpo)."""
    verifier: str = "env"
    """Step verifier (stepdpo): ``"env"`` (the env's own signal), ``"montecarlo"`` (finish each
    branch with the policy ``verifier_samples`` times), or ``"judge:<agent spec>"`` (an LLM
    judge, e.g. ``judge:openai:http://127.0.0.1:8000/v1#qwen``)."""
    verifier_samples: int = 2
    """Rollouts per branch of the Monte Carlo verifier."""
    max_turns: int | None = 4
    """Turn limit of every episode (collection and evaluation); None: the env's own."""
    num_envs: int = 8
    """Episodes in flight at once (the generation batch)."""
    temperature: float = 1.0
    """Sampling temperature while collecting (evaluation is greedy)."""
    max_new_tokens: int = 128
    """Tokens per turn, collection and evaluation."""

    # RL
    updates_per_round: int = 2
    """Policy-gradient updates per round (grpo, rloo, reinforcepp), each on ``tasks_per_round``
    new groups."""
    horizons: tuple[int, ...] | None = None
    """RL turn limits growing over the run (ScalingInter-RL), e.g. ``(2, 4, 8)``; None: a fixed
    ``max_turns``. Evaluation always uses ``max_turns``."""
    updates_per_horizon: int | None = None
    """Updates per horizon stage, counted over the run; None: ``rounds * updates_per_round``
    split evenly over the stages."""
    sft_every: int = 0
    """Make every n-th round a rejection-sampling SFT round on the policy's own successful
    episodes (2: RL and SFT alternate); 0: never."""

    # Training
    train: dict[str, Any] = field(default_factory=dict)
    """Settings of the algorithm's config (``lora``, ``learning_rate``, ``beta``, ...)."""
    reference: str = "previous"
    """DPO/KTO reference: ``"previous"`` (the model the round starts from) or ``"start"`` (the
    starting policy, after the warm-up if one ran). Step DPO always uses ``"previous"``."""
    warmup_episodes: int = 0
    """Oracle episodes of the train split for an SFT warm-up before round 1; 0: no warm-up."""
    sft: dict[str, Any] = field(default_factory=dict)
    """`SFTConfig` settings of the warm-up and the SFT rounds (``lora``, ``learning_rate``, ...)."""

    # Evaluation
    eval_episodes: int = 16
    """Test-split episodes per evaluation: the same sample (seeds) every stage."""
    eval_seed: int = 0
    """Test episode ``i`` resets with ``eval_seed + i``."""
    progress: bool = True
    """Show progress bars and the stage table."""

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ConfigError(
                f"algorithm must be one of {', '.join(ALGORITHMS)}; got {self.algorithm!r}"
            )
        if self.rounds < 0:
            raise ConfigError(
                f"rounds must be >= 0 (0: the baseline and warm-up only), got {self.rounds}"
            )
        counts = {
            "tasks_per_round": self.tasks_per_round,
            "group_size": self.group_size,
            "num_envs": self.num_envs,
            "max_new_tokens": self.max_new_tokens,
            "eval_episodes": self.eval_episodes,
            "verifier_samples": self.verifier_samples,
            "updates_per_round": self.updates_per_round,
        }
        for name, value in counts.items():
            if value < 1:
                raise ConfigError(f"{name} must be at least 1, got {value}")
        if self.k < 2:
            raise ConfigError(f"k must be at least 2 candidate steps per state, got {self.k}")
        if self.max_turns is not None and self.max_turns < 1:
            raise ConfigError(f"max_turns must be at least 1 (or None), got {self.max_turns}")
        if self.sft_every < 0:
            raise ConfigError(f"sft_every must be >= 0 (0: no SFT rounds), got {self.sft_every}")
        if self.horizons is not None:
            self.horizons = tuple(self.horizons)  # a list from JSON or the command line
        if self.horizons is not None and self.algorithm not in RL_ALGORITHMS:
            raise ConfigError(f"horizons are for the RL algorithms, not {self.algorithm!r}")
        if self.horizons and self.updates_per_horizon:
            needed = self.updates_per_horizon * (len(self.horizons) - 1) + 1
            if self.rounds * self.updates_per_round < needed:
                raise ConfigError(
                    f"horizons {self.horizons} switching every {self.updates_per_horizon} updates "
                    f"need {needed} updates to reach the last; {self.rounds} rounds of "
                    f"{self.updates_per_round} make {self.rounds * self.updates_per_round}"
                )
        if self.warmup_episodes < 0:
            raise ConfigError(f"warmup_episodes must be >= 0, got {self.warmup_episodes}")
        if self.temperature <= 0:
            raise ConfigError(
                f"temperature must be > 0 while collecting (greedy episodes of one task are "
                f"identical and give no pairs), got {self.temperature}"
            )
        if self.reference not in ("previous", "start"):
            raise ConfigError(f"reference must be 'previous' or 'start', got {self.reference!r}")
        if self.algorithm == "stepdpo" and self.reference != "previous":
            raise ConfigError(
                "stepdpo uses the model each round starts from as its reference; "
                "reference='start' is for dpo and kto"
            )
        if self.algorithm == "dpo" and self.group_size < 2:
            raise ConfigError("dpo pairs episodes of one task: group_size must be at least 2")
        if not (self.verifier in ("env", "montecarlo") or self.verifier.startswith("judge:")):
            raise ConfigError(
                f"verifier must be 'env', 'montecarlo' or 'judge:<agent spec>', "
                f"got {self.verifier!r}"
            )
        if "split" in self.env_kwargs:
            raise ConfigError(
                "env_kwargs may not set split: the loop trains on train, tests on test"
            )
        self.trainer_config(Path(self.output_dir), 1)  # bad training settings fail now
        if self.warmup_episodes or self.sft_every:
            self.sft_config(Path(self.output_dir))

    def is_sft_round(self, number: int) -> bool:
        """True when round ``number`` (from 1) is an SFT round of an alternating schedule."""
        return self.algorithm == "sft" or bool(self.sft_every and number % self.sft_every == 0)

    def trainer_config(self, output_dir: Path, number: int, reference: str = "initial") -> Any:
        """The algorithm's config for round ``number``, saving into ``output_dir``."""
        module, config_name, _ = ALGORITHMS[self.algorithm]
        config_class = getattr(importlib.import_module(module), config_name)
        loop_set: dict[str, Any] = {"output_dir": str(output_dir), "progress": self.progress}
        if self.algorithm in ("dpo", "kto") or self.algorithm in RL_ALGORITHMS:
            loop_set["reference"] = reference
        if self.algorithm in RL_ALGORITHMS:
            horizons = self.horizons or (self.max_turns or 8,)
            loop_set |= {
                "env": self.env,
                "env_kwargs": {**self.env_kwargs, "split": "train"},
                "updates": self.updates_per_round,
                "first_update": (number - 1) * self.updates_per_round,
                "tasks_per_update": self.tasks_per_round,
                "group_size": self.group_size,
                "horizons": horizons,
                "updates_per_horizon": self.updates_per_horizon
                or max(1, -(-self.rounds * self.updates_per_round // len(horizons))),
                "temperature": self.temperature,
                "max_new_tokens": self.max_new_tokens,
                "num_envs": self.num_envs,
                "seed": self.seed + 100_000 * number,
            }
        return _build(config_class, self.train, loop_set, "train")

    def sft_config(self, output_dir: Path) -> Any:
        """The `SFTConfig` of the warm-up and of SFT rounds."""
        from palaestra.trainers.sft import SFTConfig

        loop_set = {"output_dir": str(output_dir), "progress": self.progress}
        return _build(SFTConfig, self.sft, loop_set, "sft")

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return dataclasses.asdict(self)


def _build(
    config_class: Any, overrides: dict[str, Any], loop_set: dict[str, Any], name: str
) -> Any:
    fields = {f.name for f in dataclasses.fields(config_class)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        settable = ", ".join(sorted(fields - _SET_BY_LOOP))
        raise ConfigError(
            f"{name} has settings {config_class.__name__} does not know: {', '.join(unknown)}; "
            f"known: {settable}"
        )
    fixed = sorted(set(overrides) & _SET_BY_LOOP)
    if fixed:
        raise ConfigError(
            f"{name} may not set {', '.join(fixed)}: the loop sets it for each round "
            "(the model is LoopConfig.model, the output is LoopConfig.output_dir)"
        )
    if overrides.get("merge_lora") is False:
        raise ConfigError(
            f"{name}.merge_lora=False: the loop needs a whole model at every checkpoint; "
            "LoRA adapters are merged after each round"
        )
    return config_class(**{**overrides, **{k: v for k, v in loop_set.items() if k in fields}})


def changed_settings(saved: dict[str, Any], config: LoopConfig) -> list[str]:
    """The settings in which ``config`` differs from a run's saved ``loop.json``.

    Those a resumed run may change (``rounds``, ``progress``) are left out.
    """
    settings = json.loads(json.dumps(config.to_dict()))  # as saved: tuples are lists in JSON
    return sorted(
        k for k in set(settings) | set(saved)
        if k not in _RESUMABLE and settings.get(k) != saved.get(k)
    )  # fmt: skip


@dataclass
class LoopResult:
    """Every stage of the run, in order: the baseline, the warm-up if any, then the rounds."""

    stages: list[dict[str, Any]]
    """Each stage's ``round.json``: ``stage``, ``model``, ``eval`` (a `Summary` dict), ``data``,
    ``train`` and ``seconds``."""
    output_dir: Path
    model: Any = None
    """The final policy (loaded)."""
    tokenizer: Any = None

    @property
    def success_rates(self) -> list[float]:
        """Test success rate of each stage."""
        return [stage["eval"]["success_rate"] for stage in self.stages]


def train_loop(
    config: LoopConfig, *, model: Any = None, tokenizer: Any = None, console: Console | None = None
) -> LoopResult:
    """Run (or resume) the loop; returns every stage's record and the final model."""
    return _Loop(config, model, tokenizer, console or Console()).run()


class _Loop:
    def __init__(self, config: LoopConfig, model: Any, tokenizer: Any, console: Console) -> None:
        self.config = config
        self.out = Path(config.output_dir)
        self.console = console
        self.model, self.tokenizer = model, tokenizer
        self._loaded: str | None = None
        """The spec or directory of the model in memory (None: the caller's own)."""
        self.stages: list[dict[str, Any]] = []

    # ------------------------------------------------------------------------------- stages
    def run(self) -> LoopResult:
        from palaestra.core.registration import check_make

        config = self.config
        config.env = check_make(config.env, {**config.env_kwargs, "split": "train"})
        self._claim_output_dir()
        self._stage("round-0", lambda directory: {})
        if config.warmup_episodes:
            self._stage("warmup", self._warm_up)
        for number in range(1, config.rounds + 1):
            self._stage(f"round-{number}", lambda directory, n=number: self._round(n, directory))
        self._write_results()
        if config.progress:
            self.console.print(self._table())
            self.console.print(
                f"results: {self.out / 'results.json'}   plot: {self.out / 'curve.png'}"
            )
        return LoopResult(self.stages, self.out, self.model, self.tokenizer)

    def _stage(self, name: str, work: Any) -> None:
        """Run one stage unless its record exists; either way its record joins ``stages``."""
        directory = self.out / name
        record_file = directory / "round.json"
        if record_file.is_file():
            try:
                self.stages.append(json.loads(record_file.read_text()))
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{record_file} is not valid JSON ({exc}); delete it") from exc
            return
        if self.config.progress:
            self.console.rule(f"[bold]{name}")
        started = time.perf_counter()
        directory.mkdir(parents=True, exist_ok=True)
        self._load(self._latest_model())
        record: dict[str, Any] = {"stage": name, **work(directory)}
        record.setdefault("model", self._latest_model())
        previous = self.stages[-1] if self.stages else None
        if previous is not None and record.get("train") is None:
            record["eval"] = previous["eval"]  # the same model: its evaluation stands
            record["eval_reused"] = True
        else:
            record["eval"] = self._evaluate(directory)
        record["seconds"] = round(time.perf_counter() - started, 2)
        record = json.loads(json.dumps(record))  # as a resumed run reads it (lists, not tuples)
        record_file.write_text(json.dumps(record, indent=1) + "\n")
        self.stages.append(record)
        self._write_results()

    def _warm_up(self, directory: Path) -> dict[str, Any]:
        from palaestra.agents.scripted import OracleAgent
        from palaestra.trainers.sft import SFTTrainer

        config = self.config
        episodes = self._collect(
            OracleAgent, config.warmup_episodes, directory / "oracle.jsonl", seed=config.seed
        )
        trainer = SFTTrainer(
            config.sft_config(directory / "model"), model=self.model, tokenizer=self.tokenizer
        )
        summary = {"episodes": len(episodes), "successes": sum(t.success for t in episodes)}
        return self._train(trainer, episodes, directory, summary)

    def _round(self, number: int, directory: Path) -> dict[str, Any]:
        config = self.config
        seed = config.seed + 100_000 * number
        data: Any = None  # RL collects its own episodes, update by update
        summary: dict[str, Any] | None = None
        if config.algorithm == "stepdpo":
            data, summary = self._mine(directory, seed)
        elif config.algorithm not in RL_ALGORITHMS or config.is_sft_round(number):
            data = self._collect(
                self._policy(seed),
                config.tasks_per_round * config.group_size,
                directory / "train.jsonl",
                seed=seed,
                group_size=config.group_size,
            )
            summary = {"episodes": len(data), "successes": sum(t.success for t in data)}
        if config.is_sft_round(number) and config.algorithm != "sft":
            from palaestra.trainers.sft import SFTTrainer

            sft = config.sft_config(directory / "model")
            trainer: Any = SFTTrainer(sft, model=self.model, tokenizer=self.tokenizer)
            return {"algorithm": "sft", **self._train(trainer, data, directory, summary)}
        reference = "initial"  # the model this round starts from
        if config.reference == "start":
            reference = self._start_model()
        module, _, trainer_name = ALGORITHMS[config.algorithm]
        trainer_class = getattr(importlib.import_module(module), trainer_name)
        trainer_config = config.trainer_config(directory / "model", number, reference)
        if config.algorithm == "stepdpo":
            trainer = trainer_class(trainer_config, self.model, self.tokenizer)
        else:
            trainer = trainer_class(trainer_config, model=self.model, tokenizer=self.tokenizer)
        return {"algorithm": config.algorithm, **self._train(trainer, data, directory, summary)}

    def _train(
        self, trainer: Any, data: Any, directory: Path, summary: dict[str, Any] | None
    ) -> dict[str, Any]:
        """Train on ``data`` (None: the trainer collects) or load what a crashed run saved."""
        model_dir = directory / "model"
        saved = model_dir / "training.json"
        if saved.is_file():
            self._load(str(model_dir))
            steps = json.loads(saved.read_text()).get("steps")
            return {"data": summary, "train": {"steps": steps}, "model": str(model_dir)}
        try:
            result = trainer.train() if data is None else trainer.train(data)
        except NoTrainingDataError as exc:  # no success, no pair: the model stays as it is
            if self.config.progress:
                self.console.print(f"[yellow]not trained this round:[/] {exc}")
            return {"data": summary, "train": None, "skipped": str(exc)}
        self.model, self._loaded = trainer.model, str(model_dir)
        if summary is None:  # RL: what its updates played
            updates = getattr(result, "updates", [])
            summary = {
                "episodes": sum(int(u["episodes"]) for u in updates),
                "successes": round(sum(u["success_rate"] * u["episodes"] for u in updates)),
                "updates": len(updates),
                "horizons": sorted({int(u["horizon"]) for u in updates}),
            }
        losses = [h["loss"] for h in result.history if "loss" in h]
        train = {
            "steps": result.steps,
            "final_loss": losses[-1] if losses else None,
            "examples": getattr(result, "examples", None) or getattr(result, "pairs", 0),
            "seconds": round(result.seconds, 2),
        }
        if getattr(result, "tokens", 0):
            train["tokens_per_second"] = round(result.tokens_per_second, 1)
        return {"data": summary, "train": train, "model": str(model_dir)}

    def _mine(self, directory: Path, seed: int) -> tuple[list[Any], dict[str, Any]]:
        """Step pairs of the round: read back if this round mined them already."""
        from palaestra.core.types import write_jsonl
        from palaestra.trainers.stepwise import StepPair, mine_step_pairs

        config = self.config
        pairs_file = directory / "pairs.jsonl"
        summary_file = directory / "mining.json"
        if pairs_file.is_file() and summary_file.is_file():
            pairs = [
                StepPair.model_validate_json(line) for line in pairs_file.open() if line.strip()
            ]
            return pairs, json.loads(summary_file.read_text())
        policy = self._policy(seed)
        with (
            self.console.status(
                f"mining step pairs: {config.tasks_per_round} episodes, k={config.k}",
                spinner="dots",
            )
            if config.progress
            else contextlib.nullcontext()
        ):
            mined = mine_step_pairs(
                config.env,
                policy,
                config.tasks_per_round,
                k=config.k,
                verifier=self._verifier(seed),
                seed=seed,
                env_kwargs={**config.env_kwargs, "split": "train"},
                max_turns=config.max_turns,
                num_envs=config.num_envs,
            )
        (directory / "train.jsonl").unlink(missing_ok=True)
        write_jsonl(mined.trajectories, directory / "train.jsonl")
        pairs_file.write_text("".join(pair.model_dump_json() + "\n" for pair in mined.pairs))
        summary = {
            "episodes": len(mined.trajectories),
            "successes": sum(t.success for t in mined.trajectories),
            "states": mined.states,
            "candidates": mined.candidates,
            "duplicates": mined.duplicates,
            "pairs": len(mined.pairs),
            "mining_seconds": round(mined.seconds, 2),
        }
        summary_file.write_text(json.dumps(summary, indent=1) + "\n")
        return mined.pairs, summary

    def _verifier(self, seed: int) -> Any:
        from palaestra.trainers.verifiers import (
            EnvSignalVerifier,
            JudgeVerifier,
            MonteCarloVerifier,
        )

        config = self.config
        if config.verifier == "env":
            return EnvSignalVerifier()
        if config.verifier == "montecarlo":
            return MonteCarloVerifier(
                self._policy(seed + 1), n=config.verifier_samples, max_turns=config.max_turns or 8
            )
        from palaestra.agents.specs import resolve_agent

        judge = resolve_agent(config.verifier.removeprefix("judge:"), seed=seed)
        if not hasattr(judge, "act_batch"):
            raise ConfigError(f"verifier {config.verifier!r}: the judge must be a model agent")
        return JudgeVerifier(judge)  # type: ignore[arg-type]

    # ------------------------------------------------------------------------ rollouts, eval
    def _policy(self, seed: int, temperature: float | None = None) -> Any:
        from palaestra.agents.transformers_agent import TransformersAgent

        return TransformersAgent(
            self.model,
            self.tokenizer,
            temperature=self.config.temperature if temperature is None else temperature,
            max_new_tokens=self.config.max_new_tokens,
            seed=seed,
            name=f"transformers:{self._loaded}",  # the same after a resume: collect skips its work
        )

    def _collect(
        self,
        agent: Any,
        episodes: int,
        out: Path,
        *,
        seed: int,
        group_size: int = 1,
        split: str = "train",
    ) -> list[Trajectory]:
        from palaestra.rollout import collect

        config = self.config
        return collect(
            config.env,
            agent,
            episodes,
            seed=seed,
            group_size=group_size,
            env_kwargs={**config.env_kwargs, "split": split},
            max_turns=config.max_turns,
            num_envs=config.num_envs,
            out=out,
            progress=config.progress,
        )

    def _evaluate(self, directory: Path) -> dict[str, Any]:
        from palaestra.rollout import summarize

        config = self.config
        episodes = self._collect(
            self._policy(config.eval_seed, temperature=0.0),
            config.eval_episodes,
            directory / "eval.jsonl",
            seed=config.eval_seed,
            split="test",
        )
        summary = summarize(episodes).to_dict()
        if config.progress:
            low, high = summary["success_rate"], summary["success_ci95"]
            self.console.print(
                f"test success {low:.1%} (95% CI {high[0]:.1%}-{high[1]:.1%}) "
                f"over {summary['episodes']} episodes"
            )
        return summary

    # ------------------------------------------------------------------------- models, files
    def _claim_output_dir(self) -> None:
        """Write loop.json, or check that a resumed run keeps the settings it was started with."""
        self.out.mkdir(parents=True, exist_ok=True)
        settings_file = self.out / "loop.json"
        settings = self.config.to_dict()
        if settings_file.is_file():
            try:
                before = json.loads(settings_file.read_text())
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{settings_file} is not valid JSON ({exc})") from exc
            if changed := changed_settings(before, self.config):
                raise ConfigError(
                    f"{self.out} holds a run with other settings ({', '.join(changed)} differ); "
                    "resume it with the same settings (only rounds may grow) or use another output "
                    "directory"
                )
        settings_file.write_text(json.dumps(settings, indent=1) + "\n")

    def _latest_model(self) -> str:
        for stage in reversed(self.stages):
            if stage.get("train") is not None and stage.get("model"):
                return str(stage["model"])
        return self.config.model

    def _start_model(self) -> str:
        """The reference of ``reference='start'``: the starting model, or the warm-up's."""
        for stage in self.stages:
            if stage["stage"] == "warmup" and stage.get("train") is not None:
                return str(stage["model"])
        return self.config.model

    def _load(self, spec: str) -> None:
        """Make ``spec`` the model in memory, loading it unless it already is."""
        if self.model is not None and self._loaded in (None, spec):
            self._loaded = spec  # None: the caller's model, which is the starting one
            return
        from palaestra.agents.models import load_model_and_tokenizer

        status = self.console.status(f"loading {spec} ...")
        with status if self.config.progress else contextlib.nullcontext():
            self.model, self.tokenizer = load_model_and_tokenizer(spec, dtype="float32")
        self._loaded = spec

    def _write_results(self) -> None:
        results = {"config": self.config.to_dict(), "stages": self.stages}
        (self.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
        if self.stages:
            plot_success(self.stages, self.out / "curve.png", title=self._title())

    def _title(self) -> str:
        config = self.config
        return f"{config.algorithm} on {config.env} · {config.model}"

    def _table(self) -> Table:
        table = Table(title=self._title())
        for column in ("stage", "train data", "steps", "final loss", "test success (95% CI)", "s"):
            table.add_column(column, justify="left" if column == "stage" else "right")
        for stage in self.stages:
            data, train, test = stage.get("data") or {}, stage.get("train"), stage["eval"]
            low, high = test["success_ci95"]
            shown = ", ".join(
                f"{k} {v}" for k, v in data.items() if k in ("episodes", "successes", "pairs")
            )
            table.add_row(
                stage["stage"],
                shown or "-",
                str(train.get("steps", "-")) if train else "-",
                f"{train['final_loss']:.4f}"
                if train and train.get("final_loss") is not None
                else "-",
                f"{test['success_rate']:.1%} ({low:.0%}-{high:.0%})",
                f"{stage['seconds']:.0f}",
            )
        return table


def plot_success(stages: list[dict[str, Any]], path: Path, *, title: str = "") -> None:
    """Test success rate per stage with its 95% interval, and the train episodes' success."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [stage["stage"].replace("round-", "") for stage in stages]
    names = ["base" if name == "0" else name for name in names]
    rates = [stage["eval"]["success_rate"] for stage in stages]
    lower = [
        rate - stage["eval"]["success_ci95"][0] for rate, stage in zip(rates, stages, strict=True)
    ]
    upper = [
        stage["eval"]["success_ci95"][1] - rate for rate, stage in zip(rates, stages, strict=True)
    ]
    figure, axes = plt.subplots(figsize=(6, 4))
    positions = list(range(len(stages)))
    axes.errorbar(positions, rates, yerr=[lower, upper], marker="o", capsize=4, label="test")
    collected = [
        (i, s["data"]["successes"] / s["data"]["episodes"])
        for i, s in enumerate(stages)
        if s["stage"].startswith("round-") and (s.get("data") or {}).get("episodes")
    ]  # the policy's own episodes (the warm-up's are the oracle's)
    if collected:
        axes.plot(
            *zip(*collected, strict=True),
            marker="s",
            linestyle="--",
            label="train episodes collected",
        )
    axes.set_xticks(positions, names)
    axes.set_xlabel("stage (round)")
    axes.set_ylabel("success rate")
    axes.set_ylim(-0.02, 1.02)
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
