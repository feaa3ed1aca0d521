"""Multi-turn GRPO / RLOO / REINFORCE++: the loss by hand, masks, the horizon schedule, learning.

The env here is made for a 2-layer random model: a task asks for a colour word, and the answer
is right when it starts with red, green or blue (the stand-in for "one exact call solves it").
The random model almost never says one, so the learning test first gives it a few SFT steps on
oracle answers, which bring it to about 10%, and then RL alone must raise that.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import pytest
import torch

from palaestra.agents.scripted import ScriptedAgent
from palaestra.core.env import TextEnv
from palaestra.core.tools import Toolbox, tool
from palaestra.core.types import Verdict
from palaestra.errors import ConfigError
from palaestra.trainers.grpo import (
    GRPOConfig,
    GRPOTrainer,
    Rollout,
    horizon_at,
    recorded_logprobs,
)
from palaestra.trainers.losses import k3_kl, ppo_clip_loss

ENV = "GRPOSay-v0"
WORDS = ("red", "green", "blue")
WAIT = '<tool_call>{"name": "wait", "arguments": {}}</tool_call>'


@dataclass(frozen=True)
class Word:
    id: str


class Waiting:
    """The one tool: lets a scripted agent play on to the turn limit."""

    @tool
    def wait(self) -> str:
        """Let a turn pass."""
        return "a turn passed"


class SayEnv(TextEnv):
    """Answer with a colour word.

    ``rule="colour"``: solved when the answer starts with red, green or blue. ``rule="even"``:
    solved when the answer has an even number of characters, a coin flip for a random model,
    which gives the mechanics tests groups with mixed rewards.
    """

    default_max_turns = 2

    def __init__(self, *, rule: str = "colour", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rule = rule
        self.toolbox = Toolbox.of(Waiting)
        self._tools = Waiting()

    def _select_task(self, task_id: str | None) -> Word:
        return Word(task_id or WORDS[int(self.np_random.integers(len(WORDS)))])

    def _start(self, task: Word) -> tuple[str, dict[str, Any]]:
        return f"Say {task.id}.", {}

    def _instructions(self) -> str:
        return "Reply with one word."

    def _call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        return getattr(self._tools, name)(**arguments)

    def _verify(self, answer: str) -> Verdict:
        if self.rule == "colour":
            solved = answer.lower().startswith(WORDS)
        else:
            solved = len(answer) % 2 == 0
        return Verdict(score=float(solved), success=solved, reason="checked")

    def _oracle_actions(self) -> list[str]:
        return [self._task.id]


@pytest.fixture(scope="module", autouse=True)
def say_env():
    if ENV not in gym.registry:
        gym.register(ENV, entry_point=SayEnv, max_episode_steps=16)
    yield


@pytest.fixture(autouse=True)
def one_thread():
    """The tiny model's matrices are too small for a second thread to pay; on a busy CPU the
    hand-offs between threads cost far more than the work (a 40x slowdown measured)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def config(model_dir, **overrides) -> GRPOConfig:
    settings: dict[str, Any] = dict(
        model=str(model_dir),
        env=ENV,
        updates=2,
        tasks_per_update=2,
        group_size=4,
        horizons=(2,),
        max_new_tokens=3,
        num_envs=8,
        learning_rate=1e-2,
        batch_size=8,
        output_dir=None,
        progress=False,
    )
    return GRPOConfig(**(settings | overrides))


def tiny(model_dir) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(model_dir), AutoTokenizer.from_pretrained(model_dir)


# ----------------------------------------------------------------------------------- the loss
def test_ppo_clip_loss_by_hand():
    #              ratio 1.5  0.5   1.1   0.5   3 (masked)
    ratios = torch.tensor([[1.5, 0.5, 1.1, 0.5, 3.0]])
    old = torch.tensor([[-1.0, -2.0, -0.5, -3.0, -1.0]])
    new = (old + ratios.log()).requires_grad_(True)
    advantages = torch.tensor([[1.0, -1.0, 2.0, 1.0, 5.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0, 1.0, 0.0]])
    loss, metrics = ppo_clip_loss(new, old, advantages, mask, clip_epsilon=0.2)
    # min(rho A, clip(rho) A): 1.2 (clipped), -0.8 (clipped), 2.2, 0.5 (the pessimistic side)
    assert loss.item() == pytest.approx(-(1.2 - 0.8 + 2.2 + 0.5) / 4)
    assert metrics["clip_fraction"].item() == pytest.approx(0.5)
    k3 = [1 / r + math.log(r) - 1 for r in (1.5, 0.5, 1.1, 0.5)]  # exp(-d) + d - 1, d = log r
    assert metrics["kl_old"].item() == pytest.approx(sum(k3) / 4, rel=1e-5)
    loss.backward()
    # Clipped tokens pass no gradient; the others -A rho / 4; the masked one nothing.
    assert new.grad.tolist()[0] == pytest.approx([0.0, 0.0, -2 * 1.1 / 4, -0.5 / 4, 0.0])

    reference = old - 0.3
    with_kl, metrics = ppo_clip_loss(
        new, old, advantages, mask, clip_epsilon=0.2, reference_logprobs=reference, kl_coef=0.1
    )
    kl = k3_kl(new, reference)
    assert metrics["kl_ref"].item() == pytest.approx((kl * mask).sum().item() / 4)
    assert with_kl.item() == pytest.approx(loss.item() + 0.1 * metrics["kl_ref"].item())
    with pytest.raises(ConfigError, match="no reference log-probs"):
        ppo_clip_loss(new, old, advantages, mask, clip_epsilon=0.2, kl_coef=0.1)


def test_k3_is_zero_at_the_reference_and_positive_elsewhere():
    logprobs = torch.tensor([-1.0, -2.0, -0.1])
    assert k3_kl(logprobs, logprobs).tolist() == [0.0, 0.0, 0.0]
    assert (k3_kl(logprobs, logprobs + torch.tensor([0.5, -0.5, 1.0])) > 0).all()


class Bigram(torch.nn.Module):
    """Logits from the current token alone: each table row is the gradient of one position."""

    def __init__(self, vocab: int = 12) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.table = torch.nn.Embedding(vocab, vocab)

    def forward(self, input_ids, attention_mask):
        return type("Out", (), {"logits": self.table(input_ids)})()


def test_entropy_comes_with_the_logprobs_at_the_model_tokens():
    from palaestra.trainers.losses import token_logprobs, token_logprobs_and_entropy

    model = Bigram()
    with torch.no_grad():
        model.table.weight[3] = 0.0  # after token 3: uniform over 12, entropy log 12
        model.table.weight[4] = torch.tensor([50.0] + [0.0] * 11)  # after 4: almost certain
    ids = torch.tensor([[1, 3, 4, 0, 2]])
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    batch["loss_mask"] = torch.tensor([[0, 0, 1, 1, 0]])
    logprobs, mask, entropy = token_logprobs_and_entropy(model, batch)
    assert entropy.tolist()[0] == pytest.approx([math.log(12), 0.0], abs=1e-6)
    assert not entropy.requires_grad and logprobs.requires_grad
    expected, expected_mask = token_logprobs(model, batch)
    assert torch.equal(logprobs, expected) and torch.equal(mask, expected_mask)


@pytest.fixture(scope="module")
def trainer(tiny_model_dir):
    return GRPOTrainer(config(tiny_model_dir, env_kwargs={"rule": "even"}, kl_coef=0.05))


def test_observation_tokens_never_reach_a_gradient_of_the_rl_loss(trainer):
    from palaestra.agents.chat import TokenizedChat

    # [sys sys obs obs asst asst asst obs obs]: positions 4-6 are the model's.
    mask = [0, 0, 0, 0, 1, 1, 1, 0, 0]
    model = Bigram()

    def gradient(ids, advantages, old, reference):
        sequence = TokenizedChat(ids, mask, [(4, 7)])
        batch = trainer.collate([Rollout(sequence, advantages, old, reference)])
        model.zero_grad()
        loss, _ = trainer.loss(model, batch)
        loss.backward()
        return loss.item(), model.table.weight.grad.clone()

    advantages = [0, 0, 0, 0, 1.0, -0.5, 2.0, 0, 0]
    old = [0, 0, 0, 0, -2.0, -3.0, -1.0, 0, 0]
    reference = [0, 0, 0, 0, -2.5, -2.0, -1.5, 0, 0]
    ids = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    loss, base = gradient(ids, advantages, old, reference)
    # Whatever stands at the observation positions, in the ids after the last model token or
    # in the per-token values, changes nothing.
    noise = [9.0, -7.0, 3.0, 5.0, 0, 0, 0, 4.0, -6.0]
    plus = [a + n for a, n in zip(advantages, noise, strict=True)]
    for changed in (
        gradient([1, 2, 3, 4, 5, 6, 7, 11, 11], advantages, old, reference),
        gradient(ids, plus, old, reference),
        gradient(ids, advantages, [o + n for o, n in zip(old, noise, strict=True)], reference),
        gradient(ids, advantages, old, [r + n for r, n in zip(reference, noise, strict=True)]),
    ):
        assert changed[0] == loss and torch.equal(changed[1], base)
    # Only the tokens that predict a model token (ids 4, 5, 6 at positions 3-5) get a gradient.
    rows = base.abs().sum(dim=1)
    assert rows[[1, 2, 3, 7, 8, 9]].sum() == 0 and (rows[[4, 5, 6]] > 0).all()


# ------------------------------------------------------------------------- horizon schedule
def test_the_horizon_grows_every_k_updates_and_then_holds():
    assert [horizon_at(u, (4, 8, 12), 2) for u in range(8)] == [4, 4, 8, 8, 12, 12, 12, 12]
    assert [horizon_at(u, (6,), 3) for u in range(4)] == [6, 6, 6, 6]
    even = GRPOConfig(horizons=(1, 2, 3), updates=7, output_dir=None)  # no K: an even split
    assert even.stage_length == 3 and [even.horizon(u) for u in range(7)] == [1] * 3 + [2] * 3 + [3]


def test_collected_episodes_are_cut_at_the_horizon_of_each_stage(trainer, tiny_model_dir):
    settings = config(tiny_model_dir, horizons=(1, 2, 4), updates_per_horizon=2, updates=6)
    waiter = ScriptedAgent([WAIT])  # never answers: only the turn limit ends an episode
    seeds = set()
    for update, expected in enumerate([1, 1, 2, 2, 4, 4]):
        assert settings.horizon(update) == expected
        trajectories = trainer.collect(update, settings.horizon(update), agent=waiter)
        assert len(trajectories) == 8
        assert [t.num_turns for t in trajectories] == [expected] * 8
        assert all(t.truncated and not t.success for t in trajectories)
        groups = {t.seed for t in trajectories}
        assert len(groups) == 2 and not groups & seeds, "new tasks every update"
        seeds |= groups


# --------------------------------------------------------------------- examples and ratios
def test_recorded_logprobs_are_the_training_forward_so_the_first_ratio_is_one(trainer):
    trajectories = trainer.collect(0, 2)
    sequences = [trainer.engine.tokenize(t) for t in trajectories]
    recorded = [recorded_logprobs(t, s) for t, s in zip(trajectories, sequences, strict=True)]
    scored = trainer.token_scores(sequences, trainer.model)
    for sequence, sampled, now in zip(sequences, recorded, scored, strict=True):
        assert sampled is not None and len(sampled) == len(sequence)
        assert [v != 0 for v in sampled] == [bool(m) for m in sequence.assistant_mask]
        assert now == pytest.approx(sampled, abs=1e-4)

    rollouts = trainer.examples(trajectories)
    assert rollouts, "the even rule gives groups with mixed rewards"
    assert all(r.old_logprobs in recorded for r in rollouts), "taken from the recording"
    _, metrics = trainer.loss(trainer.model, trainer.collate(rollouts))
    assert metrics["kl_old"].item() < 1e-8 and metrics["clip_fraction"].item() == 0
    assert metrics["kl_ref"].item() < 1e-8, "the reference is the starting policy"


def test_episodes_without_recorded_logprobs_are_scored_and_credited_per_group(trainer):
    replies = itertools.cycle(["red", "nope"])  # each group of 4: two successes, two failures
    trajectories = trainer.collect(0, 2, agent=ScriptedAgent(lambda messages: next(replies)))
    rollouts = trainer.examples(trajectories)
    assert len(rollouts) == 8, "nothing dropped: every group has mixed rewards"
    # even rule: "red" (3 characters) fails, "nope" (4) succeeds; GRPO: +-0.5 / (std + eps)
    spread = 0.5 / (math.sqrt(1 / 3) + 1e-4)  # group of (1, 1, 0, 0): sample std sqrt(1/3)
    for rollout, trajectory in zip(rollouts, trajectories, strict=True):
        mask = rollout.sequence.assistant_mask
        sign = 1 if trajectory.success else -1
        assert rollout.advantages == pytest.approx([sign * spread * m for m in mask])
        assert rollout.old_logprobs is not None
        assert [v < 0 for v in rollout.old_logprobs] == [bool(m) for m in mask]
    scored = trainer.token_scores([r.sequence for r in rollouts], trainer.model)
    assert [r.old_logprobs for r in rollouts] == scored


# --------------------------------------------------------------------------------- the run
def test_a_run_with_lora_and_a_kl_reference_logs_and_saves(tiny_model_dir, tmp_path):
    out = tmp_path / "grpo"
    settings = config(
        tiny_model_dir,
        env_kwargs={"rule": "even"},
        horizons=(1, 2),
        lora=True,
        kl_coef=0.1,
        epochs_per_batch=2,
        batch_size=4,
        output_dir=str(out),
    )
    seen: list[dict[str, float]] = []
    trainer = GRPOTrainer(settings)
    result = trainer.train(on_update=seen.append)
    assert seen == result.updates and [u["horizon"] for u in result.updates] == [1, 2]
    assert all(u["turns"] <= u["horizon"] for u in result.updates)
    assert result.steps == sum(u["steps"] for u in result.updates) > 0
    first = result.history[0]
    assert first["kl_ref"] == pytest.approx(0, abs=1e-6), "LoRA starts at the reference"
    assert {"loss", "kl_old", "entropy", "clip_fraction"} <= set(first)
    assert result.history[-1]["kl_ref"] > 0, "and moves away from it"
    lines = (out / "updates.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == result.updates
    assert len((out / "rollouts.jsonl").read_text().splitlines()) == 16
    assert (out / "model.safetensors").is_file() and list((out / "tensorboard").iterdir())
    assert not hasattr(trainer.model, "peft_config"), "the adapter was merged"


def test_one_update_on_episodes_collected_elsewhere(trainer, tiny_model_dir):
    from palaestra.errors import NoTrainingDataError

    played = trainer.collect(0, 2)  # the module's trainer plays; a fresh one learns
    model, tokenizer = tiny(tiny_model_dir)
    fresh = GRPOTrainer(config(tiny_model_dir, batch_size=4), model=model, tokenizer=tokenizer)
    result = fresh.train_on(played)
    (record,) = result.updates
    assert "horizon" not in record and record["episodes"] == len(played)
    assert result.steps == record["steps"] == math.ceil(record["trained_episodes"] / 4) > 0
    failures = trainer.collect(1, 2, agent=ScriptedAgent(["red"]))  # odd: all fail, even rule
    with pytest.raises(NoTrainingDataError, match="non-zero advantage"):
        fresh.train_on(failures)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"advantage": "ppo"}, "advantage must be one of grpo, rloo, reinforce"),
        ({"group_size": 1}, "group_size must be at least 2"),
        ({"horizons": ()}, "horizons must be turn limits"),
        ({"horizons": (8, 4)}, "horizons must grow"),
        ({"temperature": 0.0}, "temperature must be > 0"),
        ({"clip_epsilon": 1.5}, r"clip_epsilon must be in \(0, 1\)"),
        ({"kl_coef": -0.1}, "kl_coef must be >= 0"),
        ({"gamma": 2.0}, r"gamma must be in \[0, 1\]"),
        ({"epochs": 3}, "set epochs_per_batch"),
        ({"updates": 0}, "updates must be at least 1"),
    ],
)
def test_bad_settings_say_what_was_expected(tiny_model_dir, overrides, message):
    with pytest.raises(ConfigError, match=message):
        config(tiny_model_dir, **overrides)
    if overrides == {"group_size": 1}:
        config(tiny_model_dir, advantage="reinforce++", group_size=1)  # no group needed


# ---------------------------------------------------------------------------------- learning
def success_rate(model, tokenizer, seed: int, episodes: int = 96) -> float:
    from palaestra.agents.transformers_agent import TransformersAgent
    from palaestra.rollout import collect

    agent = TransformersAgent(
        model, tokenizer, temperature=1.0, max_new_tokens=3, seed=seed, batch_size=48
    )
    played = collect(ENV, agent, episodes, seed=seed, num_envs=48)
    return sum(t.success for t in played) / len(played)


@pytest.mark.parametrize("estimator", ["grpo", "rloo", "reinforce++"])
def test_rl_raises_the_success_rate_of_a_tiny_model(tiny_model_dir, estimator):
    from palaestra.rollout import collect
    from palaestra.trainers.sft import SFTConfig, SFTTrainer

    model, tokenizer = tiny(tiny_model_dir)
    # Warm-up: a few SFT steps on oracle answers bring the model from ~0 to about 10%.
    oracle = ScriptedAgent(lambda messages: messages[1]["content"].split()[1].rstrip("."))
    answers = collect(ENV, lambda env: oracle, tasks=list(WORDS) * 2)
    warm = SFTConfig(
        model=str(tiny_model_dir),
        learning_rate=3e-2,
        batch_size=6,
        epochs=10,
        warmup_ratio=0.0,
        output_dir=None,
        progress=False,
    )
    sft = SFTTrainer(warm, model=model, tokenizer=tokenizer)
    sft.train(answers)
    model = sft.model
    before = success_rate(model, tokenizer, seed=10_000)
    assert 0.02 <= before <= 0.3, f"the warm-up should leave room to learn: {before:.2f}"

    settings = config(
        tiny_model_dir,
        advantage=estimator,
        updates=12,
        tasks_per_update=4,
        group_size=8,
        batch_size=32,  # one mini-batch per epoch: the first epoch is on-policy
        epochs_per_batch=2,
        learning_rate=3e-2,
        num_envs=32,
    )
    trainer = GRPOTrainer(settings, model=model, tokenizer=tokenizer)
    result = trainer.train()
    assert result.history[0]["kl_old"] < 1e-6 and result.history[0]["clip_fraction"] == 0

    after = success_rate(trainer.model, tokenizer, seed=20_000)
    assert after >= before + 0.4, f"{estimator}: success {before:.2f} -> {after:.2f}"
