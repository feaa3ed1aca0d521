"""The losses: hand-computed values, and masks that keep observation tokens out."""

from __future__ import annotations

import math

import pytest
import torch

from palaestra.trainers.losses import dpo_loss, kto_loss, sequence_logprobs, sft_loss


def test_dpo_loss_equals_the_formula_by_hand():
    pc, pr = torch.tensor([-10.0, -4.0]), torch.tensor([-12.0, -3.0])
    rc, rr = torch.tensor([-11.0, -4.5]), torch.tensor([-11.5, -2.0])
    beta = 0.5
    loss, chosen, rejected = dpo_loss(pc, pr, rc, rr, beta=beta)
    # pair 0: h = (-10 + 11) - (-12 + 11.5) = 1.5;  pair 1: h = (-4 + 4.5) - (-3 + 2) = 1.5
    expected = -math.log(1 / (1 + math.exp(-beta * 1.5)))
    assert loss.tolist() == pytest.approx([expected, expected], abs=1e-6)
    assert chosen.tolist() == pytest.approx([0.5, 0.25]) and rejected.tolist() == pytest.approx(
        [-0.25, -0.5]
    )
    smoothed, _, _ = dpo_loss(pc, pr, rc, rr, beta=beta, label_smoothing=0.2)
    sig = 1 / (1 + math.exp(-0.75))
    assert smoothed[0].item() == pytest.approx(
        -0.8 * math.log(sig) - 0.2 * math.log(1 - sig), abs=1e-6
    )


def test_kto_loss_by_hand():
    policy, reference = torch.tensor([-5.0, -5.0]), torch.tensor([-6.0, -4.0])
    desirable = torch.tensor([True, False])
    loss, rewards = kto_loss(policy, reference, desirable, torch.tensor(0.3), beta=1.0)
    sigmoid = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    assert loss[0].item() == pytest.approx(1 - sigmoid(1.0 - 0.3))  # r = +1, desirable
    assert loss[1].item() == pytest.approx(1 - sigmoid(0.3 - (-1.0)))  # r = -1, undesirable
    assert rewards.tolist() == pytest.approx([1.0, -1.0])


class Tiny(torch.nn.Module):
    """A bigram model: enough for exact gradient checks."""

    def __init__(self, vocab=11):
        super().__init__()
        torch.manual_seed(0)
        self.table = torch.nn.Embedding(vocab, vocab)

    def forward(self, input_ids, attention_mask):
        return type("Out", (), {"logits": self.table(input_ids)})()


def batch(ids, mask):
    ids = torch.tensor([ids])
    return {
        "input_ids": ids,
        "attention_mask": torch.ones_like(ids),
        "loss_mask": torch.tensor([mask]),
    }


def gradients(loss_fn, model, data):
    model.zero_grad()
    loss_fn(model, data).backward()
    return model.table.weight.grad.clone()


@pytest.mark.parametrize("loss_fn", [sft_loss, lambda m, b: -sequence_logprobs(m, b).sum()])
def test_observation_tokens_never_reach_a_gradient(loss_fn):
    # Layout: [sys sys obs obs asst asst asst obs obs]: only positions 4-6 are the model's.
    mask = [0, 0, 0, 0, 1, 1, 1, 0, 0]
    model = Tiny()
    base = gradients(loss_fn, model, batch([1, 2, 3, 4, 5, 6, 7, 8, 9], mask))
    # Change the tokens after the last model token: nothing that predicts a model token changes.
    after = gradients(loss_fn, model, batch([1, 2, 3, 4, 5, 6, 7, 10, 10], mask))
    assert torch.equal(base, after)
    # The observation tokens themselves are never predicted: their rows get no gradient unless
    # they predict a model token (position 3 predicts position 4).
    rows = base.abs().sum(dim=1)
    assert rows[[1, 2, 8, 9]].sum() == 0 and rows[[4, 5, 6]].sum() > 0
