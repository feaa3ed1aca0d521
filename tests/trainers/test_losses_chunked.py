"""Chunked scoring: the log-probs, entropies and gradients of the full logits, never making them.

`token_logprobs` scores the output layer a chunk of positions at a time and recomputes each
chunk's logits in the backward pass. Every check compares with the model's own full forward
(``model(...).logits``), whatever the model does to its logits.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from palaestra.errors import ConfigError  # noqa: E402
from palaestra.trainers.losses import (  # noqa: E402
    PLAIN_HEAD_MODEL_TYPES,
    scored_positions,
    token_logprobs,
    token_logprobs_and_entropy,
)


def make_batch(vocab: int, seed: int = 0) -> dict:
    """Three right-padded rows whose model-token spans differ, so rows score unequal columns."""
    generator = torch.Generator().manual_seed(seed)
    lengths, spans = [61, 40, 52], [[(5, 12), (30, 45)], [(8, 20)], [(22, 51)]]
    ids = torch.randint(3, vocab, (3, max(lengths)), generator=generator)
    attention, loss_mask = torch.zeros_like(ids), torch.zeros_like(ids)
    for row, (length, row_spans) in enumerate(zip(lengths, spans, strict=True)):
        ids[row, length:], attention[row, :length] = 0, 1
        for start, end in row_spans:
            loss_mask[row, start:end] = 1
    return {"input_ids": ids, "attention_mask": attention, "loss_mask": loss_mask}


def full_logits_scores(model, batch) -> tuple:
    """Log-probs and entropies at `scored_positions` from the model's full logits: the reference."""
    columns = scored_positions(batch)
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    logits = logits[:, columns - 1].float()
    logp = logits.log_softmax(-1)
    targets = batch["input_ids"][:, columns]
    chosen = logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    return chosen, -(logp.exp() * logp).sum(-1).detach()


def weighted_sum(logprobs, batch):
    """A loss in which every scored position has its own weight, so every gradient path counts."""
    weights = torch.linspace(0.5, 2.0, logprobs.numel()).view_as(logprobs)
    return (logprobs * weights).sum()


def gradients(model, loss) -> dict:
    model.zero_grad(set_to_none=True)
    loss.backward()
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}


def assert_same_as_full_logits(model, batch, chunk_size: int) -> None:
    ours, mask, entropy = token_logprobs_and_entropy(model, batch, chunk_size=chunk_size)
    ours_grads = gradients(model, weighted_sum(ours, batch))
    reference, reference_entropy = full_logits_scores(model, batch)
    reference_grads = gradients(model, weighted_sum(reference, batch))
    assert torch.equal(mask, batch["loss_mask"][:, scored_positions(batch)].float())
    torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(entropy, reference_entropy, rtol=1e-5, atol=1e-5)
    assert not entropy.requires_grad
    assert ours_grads.keys() == reference_grads.keys()
    assert any(g.abs().sum() > 0 for g in ours_grads.values())
    for name, grad in ours_grads.items():
        # Float32 sums in another order: agreement to a few parts in a million of the largest.
        scale = reference_grads[name].abs().max().item()
        torch.testing.assert_close(
            grad, reference_grads[name], rtol=1e-4, atol=3e-5 * scale, msg=f"gradient of {name}"
        )


class HeadCalls:
    """Rows of every call of the output layer (a hook), forward and backward recomputation."""

    def __init__(self, head) -> None:
        self.rows: list[int] = []
        self.handle = head.register_forward_hook(self.count)

    def count(self, module, args, out) -> None:
        self.rows.append(out[..., 0].numel())

    def __enter__(self) -> HeadCalls:
        return self

    def __exit__(self, *exc) -> None:
        self.handle.remove()


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).train()


@pytest.mark.parametrize("chunk_size", [1, 7, 10_000])
def test_chunked_values_entropies_and_gradients_equal_the_full_logits(tiny, chunk_size):
    assert_same_as_full_logits(tiny, make_batch(tiny.config.vocab_size), chunk_size)


def test_the_output_layer_only_ever_sees_a_chunk_and_recomputes_it_in_backward(tiny):
    batch = make_batch(tiny.config.vocab_size)
    scored = batch["input_ids"].shape[0] * scored_positions(batch).numel()
    with HeadCalls(tiny.lm_head) as calls:
        logprobs, _ = token_logprobs(tiny, batch, chunk_size=7)
        forward = list(calls.rows)
        weighted_sum(logprobs, batch).backward()
    tiny.zero_grad(set_to_none=True)
    # The model's own forward hands its output layer nothing; then chunks of at most 7 rows.
    assert forward[0] == 0 and max(forward) <= 7 and sum(forward) == scored
    backward = calls.rows[len(forward) :]
    assert max(backward) <= 7 and sum(backward) == scored  # each chunk once more, no more


def largest_allocation(run) -> int:
    """The most CPU memory (bytes) one op, with the ops it calls, allocates and keeps in ``run()``.

    torch's profiler counts it per op: an output of ``batch x positions x vocab`` floats shows.
    """
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        run()
    return max(e.cpu_memory_usage for e in prof.events())


def test_no_batch_by_positions_by_vocabulary_tensor_is_made(tiny):
    batch = make_batch(tiny.config.vocab_size)
    rows, columns = batch["input_ids"].shape[0], scored_positions(batch).numel()
    full_logits_bytes = rows * columns * tiny.config.vocab_size * 4

    def step(chunk_size: int):
        def run():
            logprobs, _ = token_logprobs(tiny, batch, chunk_size=chunk_size)
            weighted_sum(logprobs, batch).backward()

        return run

    # One chunk as large as the batch is the unchunked computation: the measure sees its logits.
    assert largest_allocation(step(rows * columns)) >= full_logits_bytes
    chunked = largest_allocation(step(16))
    tiny.zero_grad(set_to_none=True)
    # What is left as largest is a weight's gradient (vocab x 32 floats), a fifth of the logits.
    assert chunked < full_logits_bytes / 2


def test_scoring_without_gradients_is_chunked_and_equal(tiny):
    batch = make_batch(tiny.config.vocab_size, seed=1)
    with torch.no_grad(), HeadCalls(tiny.lm_head) as calls:
        ours, _ = token_logprobs(tiny, batch, chunk_size=5)
        reference, _ = full_logits_scores(tiny, batch)
    torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-5)
    assert max(calls.rows[:-1]) <= 5  # the last call is the reference's full forward


def test_lora_models_are_chunked_with_the_same_values_and_adapter_gradients(tiny_model_dir):
    peft = pytest.importorskip("peft")
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    adapter = peft.LoraConfig(
        r=4,
        lora_alpha=8,
        lora_dropout=0.0,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
        init_lora_weights=False,  # random B: every adapter matrix gets a gradient
    )
    model = peft.get_peft_model(model, adapter).train()
    batch = make_batch(model.config.vocab_size, seed=2)
    with HeadCalls(model.get_base_model().lm_head) as calls:
        assert_same_as_full_logits(model, batch, chunk_size=9)
    assert calls.rows[0] == 0 and max(calls.rows[1:-1]) <= 9  # chunked, then the reference
    assert all("lora_" in name for name, p in model.named_parameters() if p.requires_grad)


def tiny_config(model_type: str, **extra):
    return transformers.AutoConfig.for_model(
        model_type,
        vocab_size=160,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        head_dim=16,
        max_position_embeddings=128,
        pad_token_id=0,
        bos_token_id=1,
        eos_token_id=2,
        **extra,
    )


def random_model(config):
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = transformers.AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    with torch.no_grad():  # wide logits: soft-capping and scaling change them a lot
        model.get_output_embeddings().weight.mul_(20.0)
    return model.train()


@pytest.mark.parametrize("model_type", sorted(PLAIN_HEAD_MODEL_TYPES))
def test_every_plain_head_architecture_is_chunked_and_exact(model_type):
    model = random_model(tiny_config(model_type))
    with HeadCalls(model.get_output_embeddings()) as calls:
        assert_same_as_full_logits(model, make_batch(160, seed=3), chunk_size=11)
    assert calls.rows[0] == 0 and max(calls.rows[1:-1]) <= 11


@pytest.mark.parametrize(
    ("model_type", "extra"),
    [
        ("gemma2", {"final_logit_softcapping": 3.0}),
        ("cohere", {"logit_scale": 0.25}),
        ("granite", {"logits_scaling": 4.0}),
    ],
)
def test_models_that_transform_their_logits_fall_back_to_the_full_logits(model_type, extra):
    model = random_model(tiny_config(model_type, **extra))
    batch = make_batch(160, seed=4)
    with HeadCalls(model.get_output_embeddings()) as calls:
        assert_same_as_full_logits(model, batch, chunk_size=11)
    assert calls.rows[0] == 3 * scored_positions(batch).numel()  # one call, every position


def test_a_chunk_size_below_one_is_refused(tiny):
    with pytest.raises(ConfigError, match="chunk_size must be at least 1 position, got 0"):
        token_logprobs(tiny, make_batch(tiny.config.vocab_size), chunk_size=0)
