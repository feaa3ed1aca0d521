"""Step-wise DPO: pairs tokenized as generation saw them, trained with TRL's DPOTrainer."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest

from palaestra.agents import BaseAgent, OracleAgent
from palaestra.core.types import AgentTurn
from palaestra.errors import ConfigError
from palaestra.trainers.stepdpo import StepDPOConfig, StepDPOTrainer, pair_example
from palaestra.trainers.stepwise import MinedSteps, mine_step_pairs

pytest.importorskip("trl")
pytest.importorskip("peft")

RETAIL = {"domain": "retail", "difficulty": 1}  # the shortest system prompt: about 600 tokens


class GoldAmongSamples(BaseAgent):
    """The policy's samples, with the oracle's action in place of every third one."""

    name = "gold-among-samples"

    def __init__(self, policy, oracle) -> None:
        self.policy, self.oracle = policy, oracle

    def respond_batch(self, conversations, tools=None):
        sampled = self.policy.respond_batch(conversations, tools)
        gold = self.oracle.respond_batch(conversations, tools)
        # The gold turn keeps the ids of the prompt the policy sampled from, for the check below.
        gold = [
            AgentTurn(text=g.text, prompt_ids=s.prompt_ids)
            for s, g in zip(sampled, gold, strict=True)
        ]
        return [g if i % 3 == 0 else s for i, (s, g) in enumerate(zip(sampled, gold, strict=True))]


def mine(trainer: StepDPOTrainer, episodes: int = 1) -> MinedSteps:
    env = gym.make("ToolUse-v0", **RETAIL)
    env.reset(seed=0)
    policy = trainer.policy(temperature=1.0, max_new_tokens=12, seed=0)
    agent = GoldAmongSamples(policy, OracleAgent(env))
    task = env.unwrapped._task.id
    return mine_step_pairs("ToolUse-v0", agent, episodes, k=3, tasks=[task], env_kwargs=RETAIL)


def make_trainer(tiny_model_dir, tmp_path, **options) -> StepDPOTrainer:
    config = StepDPOConfig(
        model=str(tiny_model_dir),
        device="cpu",
        output_dir=str(tmp_path / "sport"),
        learning_rate=1e-2,
        progress=False,
        **options,
    )
    return StepDPOTrainer(config)


def test_pairs_are_tokenized_as_generation_saw_them(tiny_model_dir, tmp_path):
    trainer = make_trainer(tiny_model_dir, tmp_path)
    mined = mine(trainer)
    assert mined.pairs, "the oracle's call beats the tiny model's samples"
    stop = trainer.tokenizer.convert_tokens_to_ids("<|im_end|>")
    sampled = 0
    for pair in mined.pairs:
        example = pair_example(pair, trainer.chat)
        step = mined.trajectories[pair.episode].steps[pair.turn - 1]
        assert example["prompt_ids"] == step.prompt_ids, "the ids the policy generated from"
        assert example["chosen_ids"][-1] == stop and example["rejected_ids"][-1] == stop
        if pair.rejected_ids is not None:
            sampled += 1
            ids = pair.rejected_ids if pair.rejected_ids[-1] == stop else [*pair.rejected_ids, stop]
            assert example["rejected_ids"] == ids, "the sampled ids, closed if cut at the limit"
        text = trainer.tokenizer.decode(example["chosen_ids"][:-1])
        assert text == pair.chosen, "a turn's ids end at its end-of-turn token"
    assert sampled, "some rejected steps are the policy's samples"
    dataset, dropped = trainer.dataset(mined.pairs)
    assert dropped == 0 and dataset.column_names == ["prompt_ids", "chosen_ids", "rejected_ids"]
    short = StepDPOConfig(max_length=100, output_dir=None)
    cut = StepDPOTrainer(short, trainer.model, trainer.tokenizer).dataset(mined.pairs)
    assert len(cut[0]) == 0 and cut[1] == len(mined.pairs)


@pytest.mark.slow  # TRL's chunked log-probabilities are slow on a CPU
def test_a_round_lowers_the_loss_raises_the_margin_and_saves_a_model(tiny_model_dir, tmp_path):
    from palaestra.agents import TransformersAgent

    trainer = make_trainer(tiny_model_dir, tmp_path, max_steps=2, batch_size=2)
    policy = trainer.policy(temperature=1.0, max_new_tokens=8, seed=1)
    mined = mine(trainer)
    result = trainer.train(mined.pairs, eval_pairs=mined.pairs)
    assert result.steps == 2 and result.pairs == len(mined.pairs) and result.dropped == 0
    assert result.before["eval_loss"] == pytest.approx(0.6931, abs=1e-3), "policy = reference"
    assert result.after["eval_loss"] < result.before["eval_loss"] - 0.05
    assert result.after["eval_rewards/margins"] > result.before["eval_rewards/margins"] + 0.1
    assert [h["loss"] for h in result.history if "loss" in h][0] == pytest.approx(0.6931, abs=1e-3)
    assert policy.model is trainer.model, "the policy samples from the trained model"
    out = tmp_path / "sport"
    assert result.output_dir == out and (out / "model.safetensors").is_file()
    assert list((out / "tensorboard").glob("events.out.tfevents.*"))
    record = json.loads((out / "training.json").read_text())
    assert record["steps"] == 2 and record["config"]["beta"] == 0.1
    reloaded = TransformersAgent(str(out), device="cpu", max_new_tokens=4, temperature=0.0)
    assert isinstance(reloaded.act(mined.pairs[0].prompt_messages), str)


@pytest.mark.slow  # TRL's chunked log-probabilities are slow on a CPU
def test_a_lora_round_merges_its_adapter_into_the_policy(tiny_model_dir, tmp_path):
    import torch

    trainer = make_trainer(tiny_model_dir, tmp_path, lora=True, lora_r=4, max_steps=1)
    policy = trainer.policy(temperature=1.0, seed=0)
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    mined = mine(trainer)
    result = trainer.train(mined.pairs[:1])
    after = trainer.model.state_dict()
    assert result.steps == 1 and set(after) == set(before), "a plain model again, no adapter"
    assert policy.model is trainer.model
    assert any(not torch.equal(before[k], after[k]) for k in before), "the update was merged"


def test_no_pairs_and_bad_configs_raise_clear_errors(tiny_model_dir, tmp_path):
    trainer = make_trainer(tiny_model_dir, tmp_path)
    with pytest.raises(ConfigError, match="no pair to train on"):
        trainer.train([])
    with pytest.raises(ConfigError, match="ignores label_smoothing"):
        StepDPOConfig(label_smoothing=0.1)
    StepDPOConfig(loss_type="robust", label_smoothing=0.1)
    with pytest.raises(ConfigError, match="needs label_smoothing > 0"):
        StepDPOConfig(loss_type="exo_pair")
    with pytest.raises(ConfigError, match="loss_type must be one of"):
        StepDPOConfig(loss_type="dpo")
    with pytest.raises(ConfigError, match="beta must be > 0"):
        StepDPOConfig(beta=0)
    with pytest.raises(ConfigError, match=r"label_smoothing must be in \[0, 0.5\)"):
        StepDPOConfig(loss_type="robust", label_smoothing=0.5)
    with pytest.raises(ConfigError, match="batch_size must be at least 1"):
        StepDPOConfig(batch_size=0)
    with pytest.raises(ConfigError, match="max_length must be at least 2"):
        StepDPOConfig(max_length=1)
    with pytest.raises(ConfigError, match="mixed_precision must be"):
        StepDPOConfig(mixed_precision="int8")
    with pytest.raises(ConfigError, match="needs its tokenizer"):
        StepDPOTrainer(StepDPOConfig(), model=trainer.model)
