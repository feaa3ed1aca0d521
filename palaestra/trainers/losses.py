"""The losses, as small pure functions on tensors (each tested on its own).

Log-probabilities are only ever taken at the tokens the model produced (``loss_mask``), across
every assistant turn of a trajectory: observation, user and system tokens never enter a loss.
Sequence losses (SFT, DPO, KTO) sum them; the policy-gradient loss (PPO-clip) weighs each token.
"""

from __future__ import annotations

from typing import Any

from palaestra.errors import ConfigError

__all__ = [
    "HEAD_CHUNK_SIZE",
    "PLAIN_HEAD_MODEL_TYPES",
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


HEAD_CHUNK_SIZE = 256
"""Positions (rows of the batch times scored columns) the output layer scores at once.

A chunk's float32 logits are ``HEAD_CHUNK_SIZE x vocabulary x 4`` bytes (50 MB for SmolLM2's
49152 tokens) and live only while that chunk is scored, in the forward pass and again in the
backward; the unchunked ``batch x positions x vocabulary`` tensor is never made.
"""

PLAIN_HEAD_MODEL_TYPES = frozenset(
    {"gemma", "llama", "mistral", "olmo2", "phi3", "qwen2", "qwen3", "smollm3"}
)
"""Model types whose causal-LM logits are exactly the output layer applied to what it is given.

Only these are scored in chunks (each is checked against its own forward in the tests). Others
fall back to taking the model's logits: Gemma 2 and 3 soft-cap their logits
(``final_logit_softcapping``), Cohere multiplies them by ``logit_scale`` and Granite divides them
by ``logits_scaling``, none of which the output layer alone would reproduce.
"""


def token_logprobs(
    model: Any, batch: dict[str, Any], *, chunk_size: int = HEAD_CHUNK_SIZE
) -> tuple[Any, Any]:
    """``log p(token_t | tokens_<t)`` at the positions that predict a model token, and their mask.

    The output layer runs only at those positions (``logits_to_keep``): over a large vocabulary
    it is most of a forward pass, and most positions of an agent trajectory are observations.
    It runs on ``chunk_size`` positions at a time, each chunk's logits recomputed in the backward
    pass rather than kept, for the models of `PLAIN_HEAD_MODEL_TYPES` (plain, LoRA through peft,
    or under DistributedDataParallel); any other model is scored from its full logits.
    """
    logprobs, mask, _ = _score_model_tokens(model, batch, entropy=False, chunk_size=chunk_size)
    return logprobs, mask


def token_logprobs_and_entropy(
    model: Any, batch: dict[str, Any], *, chunk_size: int = HEAD_CHUNK_SIZE
) -> tuple[Any, Any, Any]:
    """`token_logprobs` and, at the same positions, the entropy of the next-token distribution.

    ``H = logsumexp(z) - sum_v softmax(z)_v z_v`` over the vocabulary, from the logits the
    log-probs already needed (no second forward); a metric, computed without gradients.
    """
    return _score_model_tokens(model, batch, entropy=True, chunk_size=chunk_size)


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


def _score_model_tokens(
    model: Any, batch: dict[str, Any], *, entropy: bool, chunk_size: int
) -> tuple[Any, ...]:
    """Log-probs, mask and (when asked) entropies at the positions that predict model tokens."""
    if chunk_size < 1:
        raise ConfigError(f"chunk_size must be at least 1 position, got {chunk_size}")
    wanted = _predictors(batch)
    inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
    targets = batch["input_ids"][:, wanted + 1]
    head = _plain_output_layer(model)
    if head is not None:
        hidden = _output_layer_inputs(model, head, inputs, wanted)
        logprobs, entropies = _chunked_scores(head, hidden, targets, chunk_size, entropy=entropy)
    else:
        if _keeps_logits(model):
            logits = model(**inputs, logits_to_keep=wanted).logits
        else:
            logits = model(**inputs).logits[:, wanted, :]
        logprobs, entropies = _scores(logits, targets, entropy=entropy)
    mask = batch["loss_mask"][:, wanted + 1].to(logprobs.dtype)
    return logprobs, mask, entropies


def _scores(logits: Any, targets: Any, *, entropy: bool) -> tuple[Any, Any]:
    """Log-probs of ``targets`` under ``logits [..., V]`` and (when asked) entropies, in float32."""
    import torch

    logits = logits.float()
    chosen = logits.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    normaliser = torch.logsumexp(logits, dim=-1)
    logprobs = chosen - normaliser
    if not entropy:
        return logprobs, None
    with torch.no_grad():
        entropies = normaliser - (torch.softmax(logits, dim=-1) * logits).sum(dim=-1)
    return logprobs, entropies


def _chunked_scores(
    head: Any, hidden: Any, targets: Any, chunk_size: int, *, entropy: bool
) -> tuple[Any, Any]:
    """`_scores` of ``head(hidden)``, ``chunk_size`` rows of ``hidden [B, P, H]`` at a time.

    Under autograd each chunk is checkpointed: its forward keeps only its hidden rows, and the
    backward recomputes the chunk's logits, so at most one chunk's logits exist at any moment.
    """
    import torch
    from torch.utils.checkpoint import checkpoint

    rows, columns = targets.shape
    flat_hidden, flat_targets = hidden.flatten(0, -2), targets.reshape(-1)
    pieces = []
    for start in range(0, rows * columns, chunk_size):
        end = start + chunk_size
        part = (head, flat_hidden[start:end], flat_targets[start:end])
        if torch.is_grad_enabled():
            pieces.append(checkpoint(_score_chunk, *part, entropy, use_reentrant=False))
        else:
            pieces.append(_score_chunk(*part, entropy))
    logprobs = torch.cat([p[0] for p in pieces]).view(rows, columns)
    if not entropy:
        return logprobs, None
    return logprobs, torch.cat([p[1] for p in pieces]).view(rows, columns)


def _score_chunk(head: Any, hidden: Any, targets: Any, entropy: bool) -> tuple[Any, Any]:
    return _scores(head(hidden), targets, entropy=entropy)


def _output_layer_inputs(model: Any, head: Any, inputs: dict[str, Any], wanted: Any) -> Any:
    """The hidden states ``[B, P, H]`` the model feeds its output layer at positions ``wanted``.

    The model runs its own forward (so DistributedDataParallel and peft see the call they need
    to sync gradients and apply adapters); a hook on the output layer takes its input and hands
    it an empty slice instead, so the forward computes no logits at all.
    """
    taken: list[Any] = []

    def take(module: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
        taken.append(args[0])
        return (args[0][..., :0, :], *args[1:])

    handle = head.register_forward_pre_hook(take)
    try:
        model(**inputs, logits_to_keep=wanted)
    finally:
        handle.remove()
    return taken[0]


def _plain_output_layer(model: Any) -> Any:
    """The output layer when `_chunked_scores` reproduces the model's logits, else None."""
    import torch

    if isinstance(model, torch.nn.parallel.DistributedDataParallel):
        model = model.module
    peft_config = getattr(model, "active_peft_config", None)
    if peft_config is not None:
        if peft_config.is_prompt_learning:  # virtual tokens shift the positions
            return None
        model = model.get_base_model()
    config = getattr(model, "config", None)
    if getattr(config, "model_type", None) not in PLAIN_HEAD_MODEL_TYPES:
        return None
    return model.get_output_embeddings()


def _keeps_logits(model: Any) -> bool:
    import inspect

    forward = getattr(model, "forward", None)
    try:
        return "logits_to_keep" in inspect.signature(forward).parameters  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def sequence_logprobs(
    model: Any, batch: dict[str, Any], *, chunk_size: int = HEAD_CHUNK_SIZE
) -> Any:
    """``sum_t log p(y_t | ...)`` over the model's tokens of each sequence: shape ``[B]``."""
    logprobs, mask = token_logprobs(model, batch, chunk_size=chunk_size)
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
