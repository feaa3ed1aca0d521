"""Multi-turn KTO on real ToolUse-v0 episodes labelled by success, tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from ddp_probe import episodes

from palaestra.agents.chat import TokenizedChat
from palaestra.errors import ConfigError
from palaestra.trainers.kto import KTOConfig, KTOTrainer, mismatched
from palaestra.trainers.losses import sequence_logprobs


@pytest.fixture(scope="module")
def data():
    good, bad = episodes(3)
    return good + bad


def config(model_dir: Path, **overrides) -> KTOConfig:
    settings = dict(
        model=str(model_dir),
        learning_rate=3e-3,
        batch_size=6,
        max_length=160,
        output_dir=None,
        progress=False,
    )
    return KTOConfig(**{**settings, **overrides})


def test_kto_lowers_the_loss_raises_successes_and_lowers_failures(tiny_model_dir, data):
    trainer = KTOTrainer(config(tiny_model_dir, epochs=4))
    examples = trainer.examples(data)
    assert [e.desirable for e in examples] == [True] * 3 + [False] * 3
    trainer.score_reference(examples)
    initial = torch.tensor([e.reference for e in examples])

    result = trainer.train(data)
    history = result.history
    assert result.steps == 4 and history[0]["loss"] == pytest.approx(0.5, abs=1e-3)  # r = z = 0
    assert history[-1]["loss"] < history[0]["loss"] - 0.1
    assert history[0]["reward_margin"] == pytest.approx(0.0, abs=1e-3)
    assert history[-1]["reward_margin"] > 0.5
    with torch.no_grad():
        change = sequence_logprobs(trainer.model, trainer.collate(examples)) - initial
    assert (change[:3] > 0).all() and (change[3:] < 0).all(), change  # each one moved its way


def test_the_kl_partner_is_another_task_prompt_followed_by_these_turns(tiny_model_dir, data):
    trainer = KTOTrainer(config(tiny_model_dir, max_length=None))
    examples = trainer.examples(data)
    for example in examples:
        own, kl = example.sequence, example.kl_sequence
        cut = own.turn_spans[0][0]
        assert kl.input_ids[:cut] == own.input_ids[:cut]  # this trajectory's task ...
        assert kl.input_ids[cut:] != own.input_ids[cut:]  # ... and another one's turns
        for start, end in kl.turn_spans:
            assert set(kl.assistant_mask[start:end]) == {1}
        assert sum(kl.assistant_mask) == sum(e - s for s, e in kl.turn_spans)

    a = TokenizedChat([1, 2, 3, 4, 5, 6], [0, 0, 1, 1, 0, 1], [(2, 4), (5, 6)])
    b = TokenizedChat([7, 8, 9, 10, 11], [0, 0, 0, 1, 1], [(3, 5)])
    assert mismatched(a, b) == TokenizedChat([1, 2, 10, 11], [0, 0, 1, 1], [(2, 4)])
    assert mismatched(b, a) == TokenizedChat(
        [7, 8, 9, 3, 4, 5, 6], [0, 0, 0, 1, 1, 0, 1], [(3, 5), (6, 7)]
    )


def test_kto_needs_usable_trajectories(tiny_model_dir, data):
    with pytest.raises(ConfigError, match="no usable trajectory among the 0 given"):
        KTOTrainer(config(tiny_model_dir)).train([])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("beta", 0.0, "beta must be > 0, got 0.0"),
        ("desirable_weight", 0.0, "desirable_weight must be > 0, got 0.0"),
        ("undesirable_weight", -1.0, "undesirable_weight must be > 0, got -1.0"),
        ("reference", "", "reference is empty"),
        ("batch_size", 0, "batch_size must be at least 1, got 0"),
    ],
)
def test_bad_kto_configs_say_what_was_expected(field, value, message):
    with pytest.raises(ConfigError, match=message):
        KTOConfig(**{field: value})
