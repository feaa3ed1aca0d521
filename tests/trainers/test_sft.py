"""Rejection-sampling SFT and the engine it runs on: the tiny model on real ToolUse-v0 episodes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from ddp_probe import episodes

from palaestra.agents.chat import TokenizedChat
from palaestra.errors import ConfigError
from palaestra.trainers.data import collate
from palaestra.trainers.engine import TrainingArgs, fit_length, linear_warmup_decay
from palaestra.trainers.sft import SFTConfig, SFTTrainer

MESSAGES = [{"role": "user", "content": "Check me in, please."}]


@pytest.fixture(scope="module")
def data():
    """Oracle successes and random-agent failures of the same three ToolUse-v0 tasks."""
    return episodes(3)


def config(model_dir: Path, out: Path | None = None, **overrides) -> SFTConfig:
    settings = dict(
        model=str(model_dir),
        learning_rate=1e-2,
        batch_size=2,
        max_length=192,
        output_dir=None if out is None else str(out),
        progress=False,
    )
    return SFTConfig(**{**settings, **overrides})


def test_sft_lowers_the_loss_and_saves_a_model_that_reloads_and_generates(
    tiny_model_dir, tmp_path, data
):
    good, bad = data
    out = tmp_path / "sft"
    trainer = SFTTrainer(config(tiny_model_dir, out, epochs=4))
    result = trainer.train(good[:2] + bad)  # failures are left out: rejection sampling
    assert result.examples == 2 and result.steps == 4  # one batch a step: losses comparable
    losses = [h["loss"] for h in result.history]
    assert losses[-1] < losses[0] - 0.5, losses
    assert result.final_loss == losses[-1] and result.output_dir == out
    assert result.tokens > 0 and result.tokens_per_second > 0
    assert {"config.json", "model.safetensors", "tokenizer.json", "training.json"} <= {
        p.name for p in out.iterdir()
    }
    assert list((out / "tensorboard").glob("events.out.tfevents.*"))
    assert json.loads((out / "training.json").read_text())["steps"] == 4

    from palaestra.agents.transformers_agent import TransformersAgent

    agent = TransformersAgent(str(out), max_new_tokens=6, temperature=0.0, device="cpu")
    assert isinstance(agent.act(MESSAGES), str)
    for name, tensor in agent.model.state_dict().items():
        assert torch.equal(tensor, trainer.model.state_dict()[name]), name


def test_sft_is_deterministic_given_the_seed_whether_given_a_spec_or_a_model(tiny_model_dir, data):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    good, _ = data
    runs = []
    for loaded in (False, True):
        model = AutoModelForCausalLM.from_pretrained(tiny_model_dir) if loaded else None
        tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir) if loaded else None
        settings = config(tiny_model_dir, batch_size=1, max_steps=2, seed=3)
        trainer = SFTTrainer(settings, model=model, tokenizer=tokenizer)
        result = trainer.train(good)
        runs.append(([h["loss"] for h in result.history], trainer.model.state_dict()))
    assert runs[0][0] == runs[1][0]
    assert all(torch.equal(runs[0][1][k], runs[1][1][k]) for k in runs[0][1])


def test_gradient_accumulation_and_checkpointing(tiny_model_dir, data):
    good, _ = data
    accumulated = SFTTrainer(config(tiny_model_dir, batch_size=1, gradient_accumulation_steps=2))
    result = accumulated.train(good[:2] * 2)  # 4 examples, 2 per optimizer step
    assert result.steps == 2 and result.examples == 4

    norms = []
    for checkpointing in (False, True):
        settings = config(tiny_model_dir, max_steps=1, gradient_checkpointing=checkpointing)
        norms.append(SFTTrainer(settings).train(good[:2]).history[0]["grad_norm"])
    assert norms[0] == pytest.approx(norms[1], rel=1e-4)  # recomputed activations, same step


def test_lora_trains_only_the_adapter_and_saves_it(tiny_model_dir, tmp_path, data):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    good, _ = data
    out = tmp_path / "adapter"
    overrides = dict(lora=True, lora_r=4, merge_lora=False, epochs=2)
    trainer = SFTTrainer(config(tiny_model_dir, out, **overrides))
    trainer.train(good[:2])
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir).state_dict()
    changed = {
        name: not torch.equal(
            p, base[name.replace("base_model.model.", "").replace(".base_layer", "")]
        )
        for name, p in trainer.model.named_parameters()
        if "lora_" not in name
    }
    assert changed and not any(changed.values())  # every original weight is as it was
    lora_b = [p for name, p in trainer.model.named_parameters() if "lora_B" in name]
    assert lora_b and all(p.abs().sum() > 0 for p in lora_b)  # initialised at 0, now trained
    assert (out / "adapter_config.json").is_file() and not (out / "model.safetensors").exists()

    loaded = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_model_dir), out)
    ids = torch.tensor([[1, 2, 3, 4, 5]])
    with torch.no_grad():
        assert torch.allclose(loaded(ids).logits, trainer.model(ids).logits, atol=1e-5)
    assert loaded.generate(ids, max_new_tokens=3, do_sample=False).shape[1] > ids.shape[1]


def test_lora_merged_saves_a_plain_model(tiny_model_dir, tmp_path, data):
    from transformers import AutoModelForCausalLM

    good, _ = data
    out = tmp_path / "merged"
    trainer = SFTTrainer(config(tiny_model_dir, out, lora=True, lora_r=4, max_steps=1))
    trainer.train(good[:2])
    assert not hasattr(trainer.model, "peft_config")  # merged into a plain model
    saved = AutoModelForCausalLM.from_pretrained(out).state_dict()
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir).state_dict()
    differ = {name for name in base if not torch.equal(base[name], saved[name])}
    assert differ and all(name.endswith("proj.weight") for name in differ)  # linear layers only


def test_only_model_tokens_are_masked_in_and_observations_change_no_gradient(tiny_model_dir, data):
    good, _ = data
    trainer = SFTTrainer(config(tiny_model_dir, max_length=None))
    trajectory = max(good, key=lambda t: len(t.messages))
    sequence = trainer.engine.tokenize(trajectory)
    assert sequence is not None
    # The mask is 1 exactly on the assistant turns: their text and the end-of-turn token.
    replies = [m.content for m in trajectory.messages if m.role == "assistant"]
    assert len(sequence.turn_spans) == len(replies) >= 3
    assert sum(sequence.assistant_mask) == sum(e - s for s, e in sequence.turn_spans)
    for (start, end), reply in zip(sequence.turn_spans, replies, strict=True):
        assert set(sequence.assistant_mask[start:end]) == {1}
        assert trainer.tokenizer.decode(sequence.input_ids[start:end]) == reply + "<|im_end|>"
    masked_text = trainer.tokenizer.decode(
        [i for i, m in zip(sequence.input_ids, sequence.assistant_mask, strict=True) if m]
    )
    observations = [m.content for m in trajectory.messages if m.role == "tool"]
    assert all(o not in masked_text for o in observations)

    # An observation after the last model token (cut after turn 2, plus its tool reply) is
    # replaced by other tokens of the same length: the gradient does not move.
    cut = sequence.turn_spans[1][1] + 40
    head = TokenizedChat(sequence.input_ids[:cut], sequence.assistant_mask[:cut], [])
    other = TokenizedChat(
        head.input_ids[: cut - 40] + [(i * 7 + 11) % 1000 for i in range(40)],
        head.assistant_mask,
        [],
    )
    assert other.input_ids != head.input_ids and not any(head.assistant_mask[cut - 40 :])
    gradients = []
    for variant in (head, other):
        trainer.model.zero_grad()
        loss, _ = trainer.loss(trainer.model, collate([variant], trainer.engine.pad_id))
        loss.backward()
        gradients.append([p.grad.clone() for p in trainer.model.parameters()])
    assert all(torch.equal(a, b) for a, b in zip(*gradients, strict=True))


def test_sft_needs_successful_trajectories(tiny_model_dir, data):
    _, bad = data
    trainer = SFTTrainer(config(tiny_model_dir))
    with pytest.raises(ConfigError, match="no successful trajectory among the 3 given"):
        trainer.train(bad)
    with pytest.raises(ConfigError, match="raise max_length"):
        SFTTrainer(config(tiny_model_dir, max_length=8)).train(data[0])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("learning_rate", -1e-5, "learning_rate must be > 0, got -1e-05"),
        ("epochs", 0, "epochs must be at least 1, got 0"),
        ("gradient_accumulation_steps", 0, "gradient_accumulation_steps must be at least 1"),
        ("warmup_ratio", 1.0, r"warmup_ratio must be in \[0, 1\), got 1.0"),
        ("max_grad_norm", 0.0, "max_grad_norm must be > 0 \\(or None: no clipping\\)"),
        ("lora_dropout", 1.5, r"lora_dropout must be in \[0, 1\)"),
        ("lora_target_modules", (), "lora_target_modules is empty"),
        ("max_length", 1, "max_length must be at least 2 tokens"),
        ("mixed_precision", "fp8", "mixed_precision must be 'no', 'bf16' or 'fp16', got 'fp8'"),
        ("max_steps", 0, "max_steps must be at least 1"),
    ],
)
def test_bad_training_args_say_what_was_expected(field, value, message):
    with pytest.raises(ConfigError, match=message):
        TrainingArgs(**{field: value})
    with pytest.raises(ConfigError, match=message):
        SFTConfig(**{field: value})


def test_a_loaded_model_needs_its_tokenizer(tiny_model_dir):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    with pytest.raises(ConfigError, match="pass tokenizer="):
        SFTTrainer(config(tiny_model_dir), model=model)


def test_fit_length_keeps_the_start_and_drops_what_has_no_model_token():
    sequence = TokenizedChat([1, 2, 3, 4, 5, 6, 7], [0, 0, 1, 1, 0, 1, 1], [(2, 4), (5, 7)])
    assert fit_length(sequence, None) is sequence and fit_length(sequence, 7) is sequence
    cut = fit_length(sequence, 6)
    assert cut == TokenizedChat([1, 2, 3, 4, 5, 6], [0, 0, 1, 1, 0, 1], [(2, 4), (5, 6)])
    assert fit_length(sequence, 2) is None


def test_the_schedule_warms_up_then_decays_linearly():
    factors = [linear_warmup_decay(step, 2, 6) for step in range(6)]
    assert factors == pytest.approx([1 / 3, 2 / 3, 1.0, 0.75, 0.5, 0.25])
    assert [linear_warmup_decay(s, 0, 2) for s in range(2)] == [1.0, 0.5]
