"""Multi-turn DPO on real ToolUse-v0 pairs (oracle successes, random-agent failures), tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from ddp_probe import episodes

from palaestra.agents.chat import TokenizedChat
from palaestra.errors import ConfigError
from palaestra.trainers.dpo import DPOConfig, DPOTrainer, Pair
from palaestra.trainers.losses import sequence_logprobs


@pytest.fixture(scope="module")
def data():
    good, bad = episodes(3)
    return good + bad


def config(model_dir: Path, **overrides) -> DPOConfig:
    settings = dict(
        model=str(model_dir),
        learning_rate=3e-3,
        batch_size=3,
        max_length=160,
        output_dir=None,
        progress=False,
    )
    return DPOConfig(**{**settings, **overrides})


def implicit_margins(trainer: DPOTrainer, pairs: list[Pair]) -> torch.Tensor:
    """log r(chosen) - log r(rejected) of each pair under the trainer's current model."""
    batch = trainer.collate(pairs)
    with torch.no_grad():
        logps = sequence_logprobs(trainer.model.eval(), batch)
    n = len(pairs)
    return (logps[:n] - batch["reference_chosen"]) - (logps[n:] - batch["reference_rejected"])


def test_dpo_lowers_the_loss_and_raises_the_margin(tiny_model_dir, tmp_path, data):
    trainer = DPOTrainer(config(tiny_model_dir, epochs=4, output_dir=str(tmp_path / "dpo")))
    pairs = trainer.pairs(data)
    assert len(pairs) == 3  # one success and one failure of each task
    trainer.score_reference(pairs)
    before = implicit_margins(trainer, pairs)
    assert torch.allclose(before, torch.zeros(3), atol=1e-4)  # the reference is the policy

    result = trainer.train(data)
    history = result.history
    assert result.steps == 4 and history[0]["loss"] == pytest.approx(0.6931, abs=1e-3)
    assert history[-1]["loss"] < history[0]["loss"] - 0.1
    assert history[-1]["reward_margin"] > history[0]["reward_margin"]
    assert history[-1]["reward_accuracy"] == 1.0
    after = implicit_margins(trainer, pairs)
    assert (after > 0.5).all(), after  # every chosen trajectory gained on its rejected one
    assert (tmp_path / "dpo" / "model.safetensors").is_file()


def test_the_reference_can_be_initial_a_path_or_a_loaded_model(tiny_model_dir, data):
    from transformers import AutoModelForCausalLM

    scores = []
    for reference in ("initial", str(tiny_model_dir)):
        trainer = DPOTrainer(config(tiny_model_dir, reference=reference))
        pairs = trainer.pairs(data)
        trainer.score_reference(pairs)
        scores.append([v for p in pairs for v in (p.reference_chosen, p.reference_rejected)])
    loaded = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    with torch.no_grad():
        loaded.lm_head.weight.mul_(0.5)  # a different model: different reference log-probs
    trainer = DPOTrainer(config(tiny_model_dir), reference=loaded)
    pairs = trainer.pairs(data)
    trainer.score_reference(pairs)
    scores.append([v for p in pairs for v in (p.reference_chosen, p.reference_rejected)])
    assert scores[0] == pytest.approx(scores[1], abs=1e-3)
    assert scores[2] != pytest.approx(scores[0], abs=1e-3)
    assert all(value < 0 for value in scores[0])


def test_dpo_with_lora_raises_the_margin(tiny_model_dir, data):
    trainer = DPOTrainer(config(tiny_model_dir, lora=True, lora_r=4, learning_rate=3e-2, epochs=3))
    result = trainer.train(data)
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    assert result.history[-1]["reward_margin"] > 0


def test_accumulating_two_batches_of_one_pair_is_one_batch_of_two(tiny_model_dir, data):
    steps = []
    for batch_size, accumulation in ((2, 1), (1, 2)):
        settings = config(
            tiny_model_dir, batch_size=batch_size, gradient_accumulation_steps=accumulation
        )
        trainer = DPOTrainer(settings)
        steps.append(trainer.train(data[:2] + data[3:5]).history)  # two pairs
    assert len(steps[0]) == len(steps[1]) == 1
    for key in ("loss", "grad_norm", "reward_margin"):
        # float32 sums over hundreds of tokens: equal to about 1e-5 whatever the batch layout
        assert steps[0][0][key] == pytest.approx(steps[1][0][key], rel=1e-4, abs=1e-5), key


def test_observations_after_the_last_model_token_change_no_gradient(tiny_model_dir, data):
    trainer = DPOTrainer(config(tiny_model_dir, max_length=None))
    pair = trainer.pairs(data)[0]

    def with_observation(sequence: TokenizedChat, tokens: list[int]) -> TokenizedChat:
        # A tool reply after the last turn: context the model never produced (mask 0).
        ids, mask = sequence.input_ids + tokens, sequence.assistant_mask + [0] * len(tokens)
        return TokenizedChat(ids, mask, sequence.turn_spans)

    observation = trainer.engine.chat.encode("<|im_start|>tool\nFlight FL-142 is on time.")
    other = [(i * 13 + 5) % 2000 for i in range(len(observation))]
    gradients = []
    for tokens in (observation, other):
        variant = Pair(
            with_observation(pair.chosen, tokens), with_observation(pair.rejected, tokens), -5, -9
        )
        trainer.model.zero_grad()
        loss, _ = trainer.loss(trainer.model, trainer.collate([variant]))
        loss.backward()
        gradients.append([p.grad.clone() for p in trainer.model.parameters()])
    assert all(g.abs().sum() > 0 for g in gradients[0][-1:])
    assert all(torch.equal(a, b) for a, b in zip(*gradients, strict=True))


def test_dpo_needs_pairs(tiny_model_dir, data):
    trainer = DPOTrainer(config(tiny_model_dir))
    successes = [t for t in data if t.success]
    with pytest.raises(ConfigError, match="no preference pair among 3 trajectories of 3 tasks"):
        trainer.train(successes)
    with pytest.raises(ConfigError, match="raise max_length"):
        DPOTrainer(config(tiny_model_dir, max_length=8)).train(data)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("beta", 0.0, "beta must be > 0, got 0.0"),
        ("beta", -0.1, "beta must be > 0, got -0.1"),
        ("label_smoothing", 0.5, r"label_smoothing must be in \[0, 0.5\), got 0.5"),
        ("label_smoothing", -0.1, r"label_smoothing must be in \[0, 0.5\), got -0.1"),
        ("reference", " ", "reference is empty"),
        ("max_pairs_per_task", 0, "max_pairs_per_task must be at least 1"),
        ("learning_rate", -1.0, "learning_rate must be > 0"),
    ],
)
def test_bad_dpo_configs_say_what_was_expected(field, value, message):
    with pytest.raises(ConfigError, match=message):
        DPOConfig(**{field: value})
