"""The losses, as small pure functions on tensors (each tested on its own).

Log-probabilities are always summed over the tokens the model produced (``loss_mask``), across
every assistant turn of a trajectory: observation, user and system tokens never enter a loss.
"""

from __future__ import annotations

from typing import Any

__all__ = ["dpo_loss", "kto_loss", "sequence_logprobs", "sft_loss", "token_logprobs"]


def token_logprobs(model: Any, batch: dict[str, Any]) -> tuple[Any, Any]:
    """``log p(token_t | tokens_<t)`` at the positions that predict a model token, and their mask.

    The output layer runs only at those positions (``logits_to_keep``): over a large vocabulary
    it is most of a forward pass, and most positions of an agent trajectory are observations.
    """
    import torch

    wanted = batch["loss_mask"][:, 1:].bool().any(dim=0).nonzero().squeeze(-1)  # predictors
    if wanted.numel() == 0:
        wanted = torch.zeros(1, dtype=torch.long, device=batch["input_ids"].device)
    inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    if _keeps_logits(model):
        logits = model(**inputs, logits_to_keep=wanted).logits.float()
    else:
        logits = model(**inputs).logits[:, wanted, :].float()
    targets = batch["input_ids"][:, wanted + 1]
    chosen = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    logprobs = chosen - torch.logsumexp(logits, dim=-1)
    return logprobs, batch["loss_mask"][:, wanted + 1].to(logprobs.dtype)


def _keeps_logits(model: Any) -> bool:
    import inspect

    forward = getattr(model, "forward", None)
    try:
        return "logits_to_keep" in inspect.signature(forward).parameters  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def sequence_logprobs(model: Any, batch: dict[str, Any]) -> Any:
    """``sum_t log p(y_t | ...)`` over the model's tokens of each sequence: shape ``[B]``."""
    logprobs, mask = token_logprobs(model, batch)
    return (logprobs * mask).sum(dim=-1)


def sft_loss(model: Any, batch: dict[str, Any]) -> Any:
    """Mean negative log-likelihood of the model's tokens (the rest is context only)."""
    logprobs, mask = token_logprobs(model, batch)
    return -(logprobs * mask).sum() / mask.sum().clamp(min=1)


def dpo_loss(
    policy_chosen: Any,
    policy_rejected: Any,
    reference_chosen: Any,
    reference_rejected: Any,
    *,
    beta: float,
    label_smoothing: float = 0.0,
) -> tuple[Any, Any, Any]:
    """DPO (Rafailov et al. 2023, eq. 7), with conservative label smoothing (cDPO).

    h = (log pi(y_w) - log ref(y_w)) - (log pi(y_l) - log ref(y_l))
    loss = -(1 - eps) log sigmoid(beta h) - eps log sigmoid(-beta h)

    Returns the per-pair loss and the implicit rewards ``beta (log pi - log ref)`` of the chosen
    and rejected sequences (their difference is the margin).
    """
    import torch.nn.functional as F

    chosen_rewards = beta * (policy_chosen - reference_chosen)
    rejected_rewards = beta * (policy_rejected - reference_rejected)
    logits = chosen_rewards - rejected_rewards
    loss = -(1 - label_smoothing) * F.logsigmoid(logits) - label_smoothing * F.logsigmoid(-logits)
    return loss, chosen_rewards.detach(), rejected_rewards.detach()


def kto_loss(
    policy: Any,
    reference: Any,
    desirable: Any,
    kl: Any,
    *,
    beta: float,
    desirable_weight: float = 1.0,
    undesirable_weight: float = 1.0,
) -> tuple[Any, Any]:
    """KTO (Ethayarajh et al. 2024, eq. 8) on whole trajectories.

    r = log pi(y) - log ref(y);  z = max(0, KL estimate), not differentiated
    loss = w_d (1 - sigmoid(beta (r - z))) for desirable y, w_u (1 - sigmoid(beta (z - r))) else

    Returns the per-sequence loss and the rewards ``beta r``.
    """
    import torch

    ratio = policy - reference
    z = kl.detach().clamp(min=0)
    value = torch.where(
        desirable, torch.sigmoid(beta * (ratio - z)), torch.sigmoid(beta * (z - ratio))
    )
    weight = torch.where(
        desirable,
        torch.full_like(ratio, desirable_weight),
        torch.full_like(ratio, undesirable_weight),
    )
    return weight * (1 - value), (beta * ratio).detach()
