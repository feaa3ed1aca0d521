"""The losses, as small pure functions on tensors (each tested on its own).

Log-probabilities are only ever taken at the tokens the model produced (``loss_mask``), across
every assistant turn of a trajectory: observation, user and system tokens never enter a loss.
Sequence losses (SFT, DPO, KTO) sum them; the policy-gradient loss (PPO-clip) weighs each token.
"""

from __future__ import annotations

from typing import Any

from palaestra.errors import ConfigError

__all__ = [
    "at_model_tokens",
    "dpo_loss",
    "k3_kl",
    "kto_loss",
    "ppo_clip_loss",
    "scored_positions",
    "sequence_logprobs",
    "sft_loss",
    "token_logprobs",
    "token_logprobs_and_entropy",
]


def token_logprobs(model: Any, batch: dict[str, Any]) -> tuple[Any, Any]:
    """``log p(token_t | tokens_<t)`` at the positions that predict a model token, and their mask.

    The output layer runs only at those positions (``logits_to_keep``): over a large vocabulary
    it is most of a forward pass, and most positions of an agent trajectory are observations.
    """
    logprobs, mask, _ = _score_model_tokens(model, batch, entropy=False)
    return logprobs, mask


def token_logprobs_and_entropy(model: Any, batch: dict[str, Any]) -> tuple[Any, Any, Any]:
    """`token_logprobs` and, at the same positions, the entropy of the next-token distribution.

    ``H = logsumexp(z) - sum_v softmax(z)_v z_v`` over the vocabulary, from the logits the
    log-probs already needed (no second forward); a metric, computed without gradients.
    """
    return _score_model_tokens(model, batch, entropy=True)


def scored_positions(batch: dict[str, Any]) -> Any:
    """The token positions whose log-probs `token_logprobs` returns, column by column."""
    return _predictors(batch) + 1


def at_model_tokens(values: Any, batch: dict[str, Any]) -> Any:
    """Per-token values ``[B, T]`` (value t belongs to token t) at the columns of `token_logprobs`.

    Aligns what was recorded per token (sampling-time log-probs, advantages) with the log-probs
    a forward pass scores now.
    """
    return values[:, scored_positions(batch)]


def _predictors(batch: dict[str, Any]) -> Any:
    """Positions whose next token is a model token in some row of the batch."""
    import torch

    wanted = batch["loss_mask"][:, 1:].bool().any(dim=0).nonzero().squeeze(-1)
    if wanted.numel() == 0:
        wanted = torch.zeros(1, dtype=torch.long, device=batch["input_ids"].device)
    return wanted


def _score_model_tokens(model: Any, batch: dict[str, Any], *, entropy: bool) -> tuple[Any, ...]:
    """Log-probs, mask and (when asked) entropies at the positions that predict model tokens."""
    import torch

    wanted = _predictors(batch)
    inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    if _keeps_logits(model):
        logits = model(**inputs, logits_to_keep=wanted).logits.float()
    else:
        logits = model(**inputs).logits[:, wanted, :].float()
    targets = batch["input_ids"][:, wanted + 1]
    chosen = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    normaliser = torch.logsumexp(logits, dim=-1)
    logprobs = chosen - normaliser
    mask = batch["loss_mask"][:, wanted + 1].to(logprobs.dtype)
    if not entropy:
        return logprobs, mask, None
    with torch.no_grad():
        entropies = normaliser - (torch.softmax(logits, dim=-1) * logits).sum(dim=-1)
    return logprobs, mask, entropies


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


def k3_kl(logprobs: Any, reference: Any) -> Any:
    """Per-token KL(pi || ref) estimate, ``exp(ref - new) - (ref - new) - 1`` (Schulman's k3).

    Unbiased for tokens sampled from pi, never negative, and of low variance (GRPO's KL term,
    Shao et al. 2024, eq. 4).
    """
    import torch

    delta = reference - logprobs
    return torch.exp(delta) - delta - 1


def ppo_clip_loss(
    logprobs: Any,
    old_logprobs: Any,
    advantages: Any,
    mask: Any,
    *,
    clip_epsilon: float,
    reference_logprobs: Any = None,
    kl_coef: float = 0.0,
) -> tuple[Any, dict[str, Any]]:
    """Token-level PPO-clip with a k3 KL penalty, averaged over the batch's model tokens.

    rho_t = exp(log pi(y_t) - log pi_old(y_t))
    l_t = -min(rho_t A_t, clip(rho_t, 1 - eps, 1 + eps) A_t) + kl_coef k3(pi, ref)_t
    L = sum_t m_t l_t / sum_t m_t            (every token counts once: DAPO, Yu et al. 2025)

    All tensors are ``[B, T]`` and aligned (see `at_model_tokens`); ``mask`` is 1 on the model's
    tokens. ``reference_logprobs`` may be None when ``kl_coef`` is 0. Returns the loss and
    metrics: ``clip_fraction`` (tokens whose clipped term is the one taken, so they pass no
    gradient), ``kl_old`` (k3 estimate of KL(pi || pi_old)), ``kl_ref`` (of KL(pi || ref), when
    given) and ``advantage`` (mean over tokens).
    """
    import torch

    tokens = mask.sum().clamp(min=1)

    def mean(values: Any) -> Any:
        return (values * mask).sum() / tokens

    ratio = torch.exp(logprobs - old_logprobs)
    unclipped = ratio * advantages
    clipped = torch.clamp(ratio, 1 - clip_epsilon, 1 + clip_epsilon) * advantages
    per_token = -torch.minimum(unclipped, clipped)
    metrics: dict[str, Any] = {}
    if reference_logprobs is not None:
        kl = k3_kl(logprobs, reference_logprobs)
        if kl_coef:
            per_token = per_token + kl_coef * kl
        metrics["kl_ref"] = mean(kl.detach())
    elif kl_coef:
        raise ConfigError("kl_coef is not 0 but no reference log-probs were given")
    with torch.no_grad():
        metrics["clip_fraction"] = mean((clipped < unclipped).to(mask.dtype))
        metrics["kl_old"] = mean(k3_kl(logprobs, old_logprobs))
        metrics["advantage"] = mean(advantages)
    return mean(per_token), metrics
