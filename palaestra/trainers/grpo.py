"""Multi-turn GRPO, RLOO and REINFORCE++: policy gradients from groups of episodes, no value model.

Each update runs, in this order (the methods below, top to bottom):

    collect    ``tasks_per_update`` groups of ``group_size`` episodes with the current model, every
               episode of a group from the identical initial state, cut at the current turn
               horizon; the agent records each turn's generated ids and their log-probs
    examples   per-turn rewards -> discounted returns -> advantages (`advantages`), spread over
               the tokens of each turn; the sampling policy's log-probs per token (recorded, or
               one forward pass without gradients when an episode lacks them); the reference's
               when ``kl_coef > 0``
    optimise   ``epochs_per_batch`` passes of token-level PPO-clip with a k3 KL penalty over
               shuffled mini-batches of the episodes (`losses.ppo_clip_loss`, on the `Engine`)
    log        reward, success rate, turns, tokens/s, KL, entropy and clip fraction, to the
               history and TensorBoard

Old log-probs are the sampling policy's at temperature 1 (the agent records the raw
distribution's, whatever temperature it samples at), which is what the ratio is computed
against. The three estimators (``advantage="grpo" | "rloo" | "reinforce++"``) differ only in the
baseline (`advantages`); `RLOOConfig` and `ReinforcePPConfig` preset them.

ScalingInter-RL (AgentGym-RL, Xi et al. 2025): the turn horizon grows in stages, ``horizons=(4,
8, 12)`` switching every ``updates_per_horizon`` updates, so the policy first learns to act well
in short interactions before long ones; one horizon is the fixed-horizon special case.

Generation on a server (``generation_url``, with ``lora=True``): an OpenAI-compatible server such
as vLLM plays the episodes while this process trains. Before each update's collection the
current adapter is saved under ``adapter_dir`` and loaded on the server under a fresh name
(``POST /v1/load_lora_adapter``), the previous one unloaded, and an `OpenAIAgent` collects with
that name as its model. The server returns text only, so old log-probs come from the trainer's
own forward pass. What the server must be started with and where sampler and trainer can differ:
`palaestra.trainers.sync`.

    trainer = GRPOTrainer(GRPOConfig(env="ToolUse-v0", horizons=(4, 8), updates=20, lora=True))
    result = trainer.train()          # collect -> optimise, `updates` times; then save
    result = trainer.train_on(trajectories)     # or: one update on groups collected elsewhere
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from palaestra.agents.chat import TokenizedChat
from palaestra.core.types import Trajectory
from palaestra.errors import ConfigError, NoTrainingDataError
from palaestra.trainers.advantages import ESTIMATORS, turn_advantages
from palaestra.trainers.data import collate
from palaestra.trainers.engine import Engine, TrainingArgs, TrainResult
from palaestra.trainers.losses import (
    at_model_tokens,
    ppo_clip_loss,
    scored_positions,
    token_logprobs,
    token_logprobs_and_entropy,
)

if TYPE_CHECKING:
    from palaestra.trainers.sync import LoRAServerSync

__all__ = [
    "GRPOConfig",
    "GRPOResult",
    "GRPOTrainer",
    "RLOOConfig",
    "ReinforcePPConfig",
    "Rollout",
    "horizon_at",
    "recorded_logprobs",
]


def horizon_at(update: int, horizons: Sequence[int], updates_per_horizon: int) -> int:
    """The turn limit of update ``update`` (0-based): stage ``update // updates_per_horizon``.

    The last horizon holds once reached: ``horizon_at(25, (4, 8, 12), 10) == 12``.
    """
    if update < 0:
        raise ConfigError(f"update must be >= 0, got {update}")
    if updates_per_horizon < 1:
        raise ConfigError(f"updates_per_horizon must be at least 1, got {updates_per_horizon}")
    return horizons[min(update // updates_per_horizon, len(horizons) - 1)]


@dataclass
class GRPOConfig(TrainingArgs):
    """Multi-turn GRPO (and RLOO, REINFORCE++): every `TrainingArgs` field, and the RL ones."""

    # Environment
    env: str = "ToolUse-v0"
    """A registered env id."""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """Extra ``gym.make`` keywords (``split``, ``domain``, ``difficulty``, ...)."""

    # Rollouts
    updates: int = 10
    """Collect-then-optimise iterations."""
    tasks_per_update: int = 4
    """Groups collected per update, each on a task drawn from its own seed."""
    group_size: int = 8
    """Episodes per group, all from the identical initial state (the G of GRPO)."""
    horizons: tuple[int, ...] = (4,)
    """Turn limit of each stage, growing (ScalingInter-RL): ``(4, 8, 12)``; one value: fixed."""
    updates_per_horizon: int | None = None
    """Updates per stage; None: the updates split evenly over the stages."""
    first_update: int = 0
    """The number of updates an outer loop ran before this run: the horizon stage and the task
    seeds continue from there (round r of `train_loop` starts at ``(r - 1) * updates``)."""
    temperature: float = 1.0
    """Sampling temperature while collecting (greedy groups would be G copies of one episode)."""
    max_new_tokens: int = 128
    """Most tokens generated per turn."""
    num_envs: int = 16
    """Episodes in flight at once (the generation batch)."""
    generation_url: str | None = None
    """An OpenAI-compatible server (vLLM) that generates the episodes, e.g.
    ``http://localhost:8000/v1``; it gets the policy as a LoRA adapter before each update (needs
    ``lora=True``; see `palaestra.trainers.sync`). None: the local model generates."""
    adapter_dir: str | None = None
    """Where adapters are written for the server to load (it must be able to read it); None:
    ``<output_dir>/adapters``."""

    # Advantages
    advantage: str = "grpo"
    """``"grpo"`` (group-normalised), ``"rloo"`` (leave-one-out) or ``"reinforce++"``
    (batch-normalised); see `palaestra.trainers.advantages`."""
    scale_advantages: bool = True
    """Divide by the std of the returns (grpo: the group's, reinforce++: the batch's); False is
    Dr. GRPO's unscaled difference. RLOO never divides."""
    gamma: float = 1.0
    """Discount of per-turn rewards: turn h is credited ``sum_k gamma^(k-h) r_k``; with a
    terminal reward and 1.0 every turn gets the episode's return."""

    # Policy loss
    clip_epsilon: float = 0.2
    """PPO clip range: the ratio to the sampling policy counts within ``[1 - eps, 1 + eps]``."""
    kl_coef: float = 0.0
    """Weight of the k3 KL penalty to the reference; 0 needs no reference model at all
    (as DAPO and Dr. GRPO train)."""
    reference: str = "initial"
    """The KL reference (when ``kl_coef > 0``): ``"initial"`` (the starting policy: a frozen
    copy, or with LoRA the model with its adapter off) or a model spec or path."""
    epochs_per_batch: int = 1
    """PPO epochs: passes over each collected batch. Every mini-batch after the first is
    off-policy, which is what the clipped ratio corrects for."""

    # Optimisation
    learning_rate: float = 1e-6
    """Peak AdamW learning rate (LoRA usually wants about 10x more)."""
    warmup_ratio: float = 0.0
    """Fraction of the run's optimizer steps spent warming the learning rate up."""
    lora_dropout: float = 0.0
    """Dropout on the adapter's input; 0 keeps the training forward identical to sampling, so
    the ratio on the first mini-batch is exactly 1."""

    # Output
    output_dir: str | None = "runs/grpo"
    """Where the model, ``training.json``, ``updates.jsonl``, ``rollouts.jsonl`` and
    ``tensorboard/`` go; None: nowhere."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.horizons, tuple):
            self.horizons = tuple(self.horizons)  # lists from JSON and the command line
        counts = {
            "updates": self.updates,
            "tasks_per_update": self.tasks_per_update,
            "group_size": self.group_size,
            "max_new_tokens": self.max_new_tokens,
            "num_envs": self.num_envs,
            "epochs_per_batch": self.epochs_per_batch,
        }
        for name, value in counts.items():
            if value < 1:
                raise ConfigError(f"{name} must be at least 1, got {value}")
        if self.epochs != 1:
            raise ConfigError(
                f"epochs={self.epochs} is not used by GRPO: set epochs_per_batch (passes over "
                "each collected batch) and updates (how many batches)"
            )
        if self.advantage not in ESTIMATORS:
            raise ConfigError(
                f"advantage must be one of {', '.join(ESTIMATORS)}; got {self.advantage!r}"
            )
        if self.advantage in ("grpo", "rloo") and self.group_size < 2:
            raise ConfigError(
                f"{self.advantage} compares the episodes of a group: group_size must be at "
                f"least 2, got {self.group_size} (reinforce++ works with 1)"
            )
        if not self.horizons or any(not isinstance(h, int) or h < 1 for h in self.horizons):
            raise ConfigError(
                f"horizons must be turn limits >= 1, like (4, 8, 12); got {self.horizons!r}"
            )
        if list(self.horizons) != sorted(self.horizons):
            raise ConfigError(f"horizons must grow from stage to stage, got {self.horizons!r}")
        if self.first_update < 0:
            raise ConfigError(f"first_update must be >= 0, got {self.first_update}")
        if self.updates_per_horizon is not None:
            if self.updates_per_horizon < 1:
                raise ConfigError(
                    f"updates_per_horizon must be at least 1 (or None), got "
                    f"{self.updates_per_horizon}"
                )
        elif self.updates < len(self.horizons):
            raise ConfigError(
                f"{len(self.horizons)} horizons need at least as many updates; got {self.updates}"
            )
        if self.temperature <= 0:
            raise ConfigError(
                f"temperature must be > 0 (greedy episodes of a group are identical and their "
                f"advantages all 0), got {self.temperature}"
            )
        if not 0 < self.clip_epsilon < 1:
            raise ConfigError(f"clip_epsilon must be in (0, 1), got {self.clip_epsilon}")
        if self.kl_coef < 0:
            raise ConfigError(f"kl_coef must be >= 0 (0: no KL penalty), got {self.kl_coef}")
        if not 0 <= self.gamma <= 1:
            raise ConfigError(f"gamma must be in [0, 1], got {self.gamma}")
        if not self.reference.strip():
            raise ConfigError("reference is empty: use 'initial' or a model path or spec")
        if self.generation_url is not None:
            if not self.generation_url.startswith(("http://", "https://")):
                raise ConfigError(
                    f"generation_url must start with http:// or https://, got "
                    f"{self.generation_url!r}"
                )
            if not self.lora:
                raise ConfigError(
                    "generation_url needs lora=True: the server receives the policy after each "
                    "update as a LoRA adapter it loads from disk; sending full weights would "
                    "need a weight-transfer path (a broadcast into the server's workers) that is "
                    "not built. Set lora=True, or generation_url=None to generate locally"
                )
            if self.adapter_path is None:
                raise ConfigError(
                    "generation_url needs a directory the server can read adapters from: set "
                    "adapter_dir (or output_dir, under which adapters/ is used)"
                )

    @property
    def adapter_path(self) -> Path | None:
        """Where adapters for the generation server go (None without an output place)."""
        if self.adapter_dir is not None:
            return Path(self.adapter_dir)
        return None if self.output_dir is None else Path(self.output_dir) / "adapters"

    @property
    def stage_length(self) -> int:
        """Updates per horizon stage (``updates_per_horizon`` or an even split)."""
        return self.updates_per_horizon or math.ceil(self.updates / len(self.horizons))

    def horizon(self, update: int) -> int:
        """The turn limit of update ``update`` (0-based, counted from ``first_update``)."""
        return horizon_at(self.first_update + update, self.horizons, self.stage_length)


@dataclass
class RLOOConfig(GRPOConfig):
    """`GRPOConfig` with the leave-one-out baseline (Ahmadian et al. 2024)."""

    advantage: str = "rloo"
    """The estimator: leave-one-out (see `GRPOConfig`)."""
    output_dir: str | None = "runs/rloo"
    """Where the model and logs go; None: nowhere."""


@dataclass
class ReinforcePPConfig(GRPOConfig):
    """`GRPOConfig` with REINFORCE++'s batch-normalised advantages (Hu 2025)."""

    advantage: str = "reinforce++"
    """The estimator: batch-normalised (see `GRPOConfig`)."""
    output_dir: str | None = "runs/reinforcepp"
    """Where the model and logs go; None: nowhere."""


@dataclass
class Rollout:
    """One episode as a training example: its tokens and, per token, what the loss needs.

    Per-token lists have one value per token of ``sequence`` (0.0 on tokens the model did not
    write); value t belongs to token t.
    """

    sequence: TokenizedChat
    advantages: list[float]
    old_logprobs: list[float] | None = None
    """The sampling policy's log-probs; None until computed (not recorded)."""
    reference_logprobs: list[float] | None = None


@dataclass
class GRPOResult(TrainResult):
    """A `TrainResult` for the whole run, and what each update did."""

    updates: list[dict[str, float]] = field(default_factory=list)
    """Per update: ``update``, ``horizon``, ``reward``, ``success_rate``, ``turns``, ``truncated``,
    ``episodes``, ``trained_episodes``, ``rollout_tokens_per_second``, ``steps`` and the step
    means of ``loss``, ``kl_old``, ``kl_ref``, ``entropy``, ``clip_fraction``."""

    @property
    def success_rates(self) -> list[float]:
        """The collected episodes' success rate, update by update."""
        return [u["success_rate"] for u in self.updates]


def recorded_logprobs(trajectory: Trajectory, sequence: TokenizedChat) -> list[float] | None:
    """The sampling-time log-probs of the sequence's model tokens, per token; None if unknown.

    A turn's recorded log-probs are used only where the sequence holds exactly the ids they
    belong to (tokenization kept the generated ids); otherwise the whole episode is None.
    """
    values = [0.0] * len(sequence)
    for (start, end), step in zip(sequence.turn_spans, trajectory.steps, strict=False):
        ids, logprobs = step.completion_ids, step.logprobs
        if ids is None or logprobs is None or len(logprobs) != len(ids):
            return None
        if sequence.input_ids[start:end] != ids[: end - start]:
            return None
        values[start:end] = logprobs[: end - start]
    return values


class GRPOTrainer:
    """Multi-turn policy-gradient training in an env: collect groups, optimise, repeat.

    Args:
        config: The run's settings; the estimator is ``config.advantage``.
        model: A loaded model, a model spec or path (default: ``config.model``).
        tokenizer: The loaded model's tokenizer (loaded with the model from a spec).
        reference: A loaded KL reference model; overrides ``config.reference``.
    """

    def __init__(
        self,
        config: GRPOConfig | None = None,
        *,
        model: Any = None,
        tokenizer: Any = None,
        reference: Any = None,
    ) -> None:
        self.config = config or GRPOConfig()
        self.engine = Engine(self.config, model, tokenizer)
        self.reference = self._load_reference(reference)
        self.server: LoRAServerSync | None = None
        """The adapter sync to ``config.generation_url`` (None: the local model generates)."""
        if self.config.generation_url is not None and self.engine.is_main_process:
            from palaestra.trainers.sync import LoRAServerSync

            path = self.config.adapter_path
            assert path is not None  # the config checks it
            self.server = LoRAServerSync(self.config.generation_url, path)

    @property
    def model(self) -> Any:
        """The policy; after `train`, the trained model."""
        return self.engine.model

    @property
    def tokenizer(self) -> Any:
        """The policy's tokenizer."""
        return self.engine.tokenizer

    # ------------------------------------------------------------------------------------ run
    def train(self, on_update: Callable[[dict[str, float]], None] | None = None) -> GRPOResult:
        """``config.updates`` rounds of collect -> examples -> optimise -> log; then save.

        ``on_update`` is called with each update's record as it finishes.
        """
        config, engine = self.config, self.engine
        engine.begin(self.planned_steps(config.updates))
        records: list[dict[str, float]] = []
        results: list[TrainResult] = []
        for update in range(config.updates):
            horizon = config.horizon(update)
            started = time.perf_counter()
            trajectories = self.collect(update, horizon)
            collect_seconds = time.perf_counter() - started
            examples = self.examples(trajectories)
            result = self.optimise(examples)
            records.append(
                self.log(
                    config.first_update + update,
                    horizon,
                    trajectories,
                    examples,
                    collect_seconds,
                    result,
                )
            )
            results += [result] if result is not None else []
            if on_update is not None:
                on_update(records[-1])
        return engine.end(_summary(records, results))  # type: ignore[return-value]

    def train_on(self, trajectories: Sequence[Trajectory]) -> GRPOResult:
        """One update on episodes collected elsewhere (in groups: same seed and task), then save.

        What an outer loop that collects each round itself calls; no horizon applies here.
        Raises `NoTrainingDataError` when no episode teaches anything.
        """
        trajectories = list(trajectories)
        examples = self.examples(trajectories)
        if not examples:
            raise NoTrainingDataError(
                f"none of the {len(trajectories)} episodes has a non-zero advantage: every group "
                "all succeeded or all failed (or was cut short by an error); play larger groups, "
                "at a higher temperature, or on tasks of the right difficulty"
            )
        self.engine.begin(self.planned_steps(1, len(examples)))
        result = self.optimise(examples)
        assert result is not None
        record = self.log(0, None, trajectories, examples, 0.0, result)
        return self.engine.end(_summary([record], [result]))  # type: ignore[return-value]

    def planned_steps(self, updates: int, episodes: int | None = None) -> int:
        """The learning-rate schedule's length: optimizer steps of ``updates`` updates.

        ``episodes`` per update defaults to all that an update plays (none left out), so the
        plan is never shorter than the run.
        """
        config = self.config
        episodes = episodes or config.tasks_per_update * config.group_size
        per_process = math.ceil(episodes / self.engine.accelerator.num_processes)
        batches = math.ceil(per_process / config.batch_size)
        per_epoch = math.ceil(batches / config.gradient_accumulation_steps)
        return updates * config.epochs_per_batch * per_epoch

    # -------------------------------------------------------------------------------- collect
    def collect(self, update: int, horizon: int, agent: Any = None) -> list[Trajectory]:
        """The update's groups, played by the current model (or ``agent``) up to ``horizon`` turns.

        Group g of update u resets with seed ``seed + u * tasks_per_update + g``: every update
        meets new draws of tasks. Processes split the groups and share what they played. With
        ``generation_url`` (and no ``agent``), the server plays them with the adapter as it is
        now (`serve_adapter`).
        """
        from accelerate.utils import gather_object

        from palaestra.rollout import collect

        config, accelerator = self.config, self.engine.accelerator
        update += config.first_update
        first = config.seed + update * config.tasks_per_update
        sampling_seed = config.seed + update * accelerator.num_processes + accelerator.process_index
        served = None
        if agent is None and config.generation_url is not None:
            served = self.serve_adapter(update)
        with accelerator.split_between_processes(list(range(config.tasks_per_update))) as mine:
            played: list[Trajectory] = []
            if mine:
                policy = agent or self._policy(served, sampling_seed)
                try:
                    played = collect(
                        config.env,
                        policy,
                        len(mine) * config.group_size,
                        group_size=config.group_size,
                        max_turns=horizon,
                        seed=first + mine[0],
                        env_kwargs=config.env_kwargs,
                        num_envs=config.num_envs,
                    )
                finally:
                    if served is not None:
                        policy.close()
        if accelerator.num_processes > 1:
            played = gather_object(played)
        return played

    def serve_adapter(self, update: int) -> str:
        """Hand the current adapter to the generation server; the name to request it by.

        The main process saves and loads it (`LoRAServerSync.push`); every process gets the name.
        """
        from accelerate.utils import broadcast_object_list

        accelerator = self.engine.accelerator
        name = [self.server.push(self.engine.model, update) if self.server is not None else ""]
        if accelerator.num_processes > 1:
            broadcast_object_list(name)
        return name[0]

    def _policy(self, served: str | None, sampling_seed: int) -> Any:
        """The agent that plays an update: the server's adapter ``served``, or the local model."""
        config = self.config
        if served is not None:
            from palaestra.agents.openai_agent import OpenAIAgent

            assert config.generation_url is not None
            # No seed: a seeded request gives every episode of a group the same reply.
            return OpenAIAgent(
                config.generation_url,
                served,
                temperature=config.temperature,
                max_tokens=config.max_new_tokens,
                concurrency=config.num_envs,
                name=f"grpo:{served}",
            )
        from palaestra.agents.transformers_agent import TransformersAgent

        return TransformersAgent(
            self.engine.model,  # the very model being trained: no weight copy
            self.engine.tokenizer,
            temperature=config.temperature,
            max_new_tokens=config.max_new_tokens,
            batch_size=config.num_envs,
            seed=sampling_seed,
        )

    # ------------------------------------------------------------------------------- examples
    def examples(self, trajectories: Sequence[Trajectory]) -> list[Rollout]:
        """The episodes that teach something, tokenized, with advantages and log-probs per token.

        Left out: episodes an infrastructure failure cut short (they say nothing about the
        policy) and episodes whose every advantage is 0 (a group that all succeeded or all
        failed: no policy gradient, as DAPO drops them). Sampling-time log-probs come from the
        recording; an episode without them (a scripted agent, a server that returned none) is
        scored by the current model without gradients, which before any step of the update is
        the policy that sampled it.
        """
        config, engine = self.config, self.engine
        played = [t for t in trajectories if t.error is None and t.steps]
        keys = [(t.seed, t.task_id) for t in played]
        if config.advantage == "rloo":  # a leave-one-out baseline needs another episode
            sizes = Counter(keys)
            played = [t for t, k in zip(played, keys, strict=True) if sizes[k] > 1]
            keys = [(t.seed, t.task_id) for t in played]
        advantages = turn_advantages(
            [[step.reward for step in t.steps] for t in played],
            keys,
            estimator=config.advantage,
            gamma=config.gamma,
            scale=config.scale_advantages,
        )
        rollouts = []
        for trajectory, per_turn in zip(played, advantages, strict=True):
            sequence = engine.tokenize(trajectory)
            if sequence is None or not any(per_turn[: len(sequence.turn_spans)]):
                continue
            spread = [0.0] * len(sequence)
            for (start, end), value in zip(sequence.turn_spans, per_turn, strict=False):
                spread[start:end] = [value] * (end - start)
            rollouts.append(Rollout(sequence, spread, recorded_logprobs(trajectory, sequence)))
        unscored = [r for r in rollouts if r.old_logprobs is None]
        if unscored:
            scores = self.token_scores([r.sequence for r in unscored], engine.model)
            for rollout, score in zip(unscored, scores, strict=True):
                rollout.old_logprobs = score
        if config.kl_coef and rollouts:
            with self._reference_model() as reference:
                scores = self.token_scores([r.sequence for r in rollouts], reference)
            for rollout, score in zip(rollouts, scores, strict=True):
                rollout.reference_logprobs = score
        return rollouts

    def token_scores(self, sequences: Sequence[TokenizedChat], model: Any) -> list[list[float]]:
        """Per-token log-probs of each sequence's model tokens (0.0 elsewhere), no gradients."""
        import torch

        accelerator, width = self.engine.accelerator, self.config.batch_size * 2
        was_training = model.training
        model.eval()
        scores: list[list[float]] = []
        with torch.no_grad(), accelerator.autocast():
            for start in range(0, len(sequences), width):
                chunk = sequences[start : start + width]
                batch = collate(chunk, self.engine.pad_id)
                batch = {k: v.to(accelerator.device) for k, v in batch.items()}
                logprobs, mask = token_logprobs(model, batch)
                full = torch.zeros(batch["input_ids"].shape, device=logprobs.device)
                full[:, scored_positions(batch)] = (logprobs * mask).float()
                scores += [row[: len(s)] for row, s in zip(full.tolist(), chunk, strict=True)]
        model.train(was_training)
        return scores

    # ------------------------------------------------------------------------------- optimise
    def optimise(self, rollouts: list[Rollout]) -> TrainResult | None:
        """``epochs_per_batch`` passes of PPO-clip over the rollouts; None when there are none."""
        if not rollouts:
            return None
        return self.engine.train(
            rollouts,
            self.collate,
            self.loss,
            name="grpo",
            key_metric="clip_fraction",
            epochs=self.config.epochs_per_batch,
        )

    def collate(self, rollouts: list[Rollout]) -> dict[str, Any]:
        """A right-padded batch with advantages and log-probs as ``[B, T]`` per-token tensors."""
        import torch

        batch = collate([r.sequence for r in rollouts], self.engine.pad_id)

        def per_token(rows: list[list[float]]) -> Any:
            tensor = torch.zeros(batch["input_ids"].shape, dtype=torch.float32)
            for i, row in enumerate(rows):
                tensor[i, : len(row)] = torch.tensor(row, dtype=torch.float32)
            return tensor

        batch["advantages"] = per_token([r.advantages for r in rollouts])
        batch["old_logprobs"] = per_token([r.old_logprobs or [] for r in rollouts])
        if self.config.kl_coef:
            batch["reference_logprobs"] = per_token([r.reference_logprobs or [] for r in rollouts])
        return batch

    def loss(self, model: Any, batch: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        """Token-level PPO-clip with a k3 KL penalty (`losses.ppo_clip_loss`), and the entropy.

        rho_t = pi(y_t) / pi_old(y_t);  A_t = the advantage of the turn token t belongs to
        L = mean over model tokens of [-min(rho_t A_t, clip(rho_t, 1 +- eps) A_t) + beta k3_t]
        """
        logprobs, mask, entropy = token_logprobs_and_entropy(model, batch)
        reference = batch.get("reference_logprobs")
        loss, metrics = ppo_clip_loss(
            logprobs,
            at_model_tokens(batch["old_logprobs"], batch),
            at_model_tokens(batch["advantages"], batch),
            mask,
            clip_epsilon=self.config.clip_epsilon,
            reference_logprobs=None if reference is None else at_model_tokens(reference, batch),
            kl_coef=self.config.kl_coef,
        )
        metrics["entropy"] = (entropy * mask).sum() / mask.sum().clamp(min=1)
        return loss, metrics

    # ------------------------------------------------------------------------------------ log
    def log(
        self,
        update: int,
        horizon: int | None,
        trajectories: Sequence[Trajectory],
        rollouts: Sequence[Rollout],
        collect_seconds: float,
        result: TrainResult | None,
    ) -> dict[str, float]:
        """The update's record: to TensorBoard, ``updates.jsonl`` and the returned history."""
        import json

        count = max(1, len(trajectories))
        completion = sum(t.completion_tokens for t in trajectories)
        record: dict[str, float] = {
            "update": update + 1,
            **({"horizon": horizon} if horizon is not None else {}),
            "episodes": len(trajectories),
            "reward": sum(sum(s.reward for s in t.steps) for t in trajectories) / count,
            "success_rate": sum(t.success for t in trajectories) / count,
            "turns": sum(t.num_turns for t in trajectories) / count,
            "truncated": sum(t.truncated for t in trajectories) / count,
            "errors": sum(t.error is not None for t in trajectories),
            "trained_episodes": len(rollouts),
            "rollout_seconds": collect_seconds,
            "rollout_tokens_per_second": completion / collect_seconds if collect_seconds else 0.0,
            "steps": result.steps if result else 0,
        }
        if result is not None and result.history:
            for name in ("loss", "kl_old", "kl_ref", "entropy", "clip_fraction", "grad_norm"):
                values = [h[name] for h in result.history if name in h]
                if values:
                    record[name] = sum(values) / len(values)
            record["train_tokens_per_second"] = result.tokens_per_second
        self.engine.log({f"rollout/{k}": v for k, v in record.items() if k != "update"}, update + 1)
        if self.config.output_dir is not None and self.engine.is_main_process:
            from palaestra.core.types import write_jsonl

            out = Path(self.config.output_dir)
            out.mkdir(parents=True, exist_ok=True)
            with (out / "updates.jsonl").open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record) + "\n")
            write_jsonl(trajectories, out / "rollouts.jsonl")
        return record

    # ------------------------------------------------------------------------------ reference
    def _load_reference(self, given: Any) -> Any:
        """The KL reference model, or None when no separate model is needed."""
        config = self.config
        if not config.kl_coef:
            return None
        if given is not None:
            return given.to(self.engine.accelerator.device).eval().requires_grad_(False)
        if config.reference == "initial":
            if config.lora:
                return None  # the policy with its adapter switched off
            return copy.deepcopy(self.engine.model).eval().requires_grad_(False)
        from palaestra.agents.models import load_model_and_tokenizer

        loaded, tokenizer = load_model_and_tokenizer(
            config.reference, device=self.engine.accelerator.device, dtype="float32"
        )
        if tokenizer.get_vocab() != self.engine.tokenizer.get_vocab():
            raise ConfigError(f"the reference model {config.reference!r} has a different tokenizer")
        return loaded.eval().requires_grad_(False)

    @contextlib.contextmanager
    def _reference_model(self) -> Iterator[Any]:
        if self.reference is not None:
            yield self.reference
            return
        with self.engine.model.disable_adapter():  # LoRA: the base weights are the reference
            yield self.engine.model


def _summary(records: list[dict[str, float]], results: list[TrainResult]) -> GRPOResult:
    """The run's result from each update's record and each optimisation's result."""
    history = [step for result in results for step in result.history]
    return GRPOResult(
        steps=len(history),
        final_loss=history[-1]["loss"] if history else float("nan"),
        history=history,
        examples=sum(r.examples for r in results),
        seconds=sum(r.seconds for r in results),
        tokens=sum(r.tokens for r in results),
        updates=records,
    )
