"""`TransformersAgent`: batched local generation with a transformers causal LM.

Each conversation is rendered with the tokenizer's chat template and tokenized once; prompts are
sorted by length (so a batch holds similar lengths and wastes little padding), left-padded into
batches and generated together. Every reply keeps its prompt ids, its completion ids up to and
including the end-of-turn token, and the log-probability of each generated token under the raw
model distribution (temperature 1, no truncation), which is what policy-gradient losses need.
"""

from __future__ import annotations

import contextlib
import dataclasses
import inspect
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from palaestra.agents.base import BaseAgent, Messages, Tools, as_dicts, tools_per_conversation
from palaestra.agents.chat import ChatTokenizer
from palaestra.agents.models import load_model_and_tokenizer, prepare_tokenizer
from palaestra.agents.prefix_cache import PrefixCache, static_cache
from palaestra.core.types import AgentTurn
from palaestra.errors import AgentError, ConfigError

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

__all__ = ["SamplingConfig", "TransformersAgent"]

_MIN_PREFIX = 32  # shorter shared prefixes are not worth a cache entry


@dataclass(frozen=True)
class SamplingConfig:
    """How `TransformersAgent` generates.

    These settings are the whole sampling distribution: the model's own ``generation_config``
    defaults (top-k, repetition penalty) are overridden.
    """

    # Length
    max_new_tokens: int = 256
    """Most tokens generated per reply, the end-of-turn token included."""

    # Sampling
    temperature: float = 0.7
    """Softmax temperature; 0 means greedy decoding."""
    top_p: float = 1.0
    """Nucleus sampling: keep the smallest token set whose probability reaches ``top_p``."""
    seed: int | None = None
    """Seed of the agent's own random stream: the same seed and the same calls give the same
    replies. The global torch random state is left untouched either way."""

    # Batching
    batch_size: int = 8
    """Conversations generated together in one ``generate`` call."""

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ConfigError(
                f"max_new_tokens must be at least 1, got {self.max_new_tokens}; "
                "it bounds the length of each reply"
            )
        if self.temperature < 0:
            raise ConfigError(f"temperature must be >= 0 (0 means greedy), got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"top_p must be in (0, 1], got {self.top_p}; use 1.0 to disable it")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {self.batch_size}")

    @property
    def greedy(self) -> bool:
        """True when decoding is greedy (temperature 0)."""
        return self.temperature == 0


class TransformersAgent(BaseAgent):
    """An agent that generates locally with a transformers causal LM.

    Args:
        model: a model name (``"smollm2"``, a checkpoint directory, a hub id) to load, or an
            already loaded model (then pass its ``tokenizer`` too; its pad token and padding side
            are set for batched generation).
        tokenizer: the tokenizer of an already loaded model.
        sampling: generation settings; default `SamplingConfig()`.
        device: where to load the model (by name only); default CUDA when available, else CPU.
        dtype: the dtype to load the model in (by name only); see `load_model_and_tokenizer`.
        name: the agent's name in trajectories; default ``"transformers:<model>"``.
        **overrides: `SamplingConfig` fields that replace those of ``sampling``, e.g.
            ``TransformersAgent("smollm2", max_new_tokens=64, seed=0)``.
    """

    def __init__(
        self,
        model: str | PreTrainedModel = "smollm2",
        tokenizer: PreTrainedTokenizerBase | None = None,
        *,
        sampling: SamplingConfig | None = None,
        device: str | torch.device | None = None,
        dtype: str | torch.dtype | None = None,
        name: str | None = None,
        prefix_cache_size: int = 8,
        **overrides: Any,
    ) -> None:
        self.sampling = _sampling(sampling, overrides)
        if prefix_cache_size < 0:
            raise ConfigError(
                f"prefix_cache_size must be >= 0 (0 turns it off), got {prefix_cache_size}"
            )
        # transformers' own annotations are too loose for a checker to follow generate().
        self.model: Any
        self.tokenizer: Any
        if isinstance(model, str):
            if tokenizer is not None:
                raise ConfigError(
                    "a tokenizer was passed with a model name; pass a loaded model with its "
                    "tokenizer, or a name alone"
                )
            self.model_name: str | None = model
            loaded = load_model_and_tokenizer(model, device=device, dtype=dtype)
            self.model, self.tokenizer = loaded
        else:
            if tokenizer is None:
                raise ConfigError("a loaded model needs its tokenizer: pass tokenizer=...")
            self.model, self.tokenizer = model, tokenizer
            self.model_name = getattr(model.config, "name_or_path", None) or type(model).__name__
            prepare_tokenizer(tokenizer, model)
        self.name = name or f"transformers:{self.model_name}"
        if self.tokenizer.chat_template is None:
            raise ConfigError(f"the tokenizer of {self.model_name!r} has no chat template")
        # The same rendering and tokenization the trainers use, so that training sees exactly
        # the token layout generation saw.
        self.chat = ChatTokenizer(self.tokenizer, self.model)
        self._stop_ids = sorted(self.chat.stop_ids)
        # System prompts are shared by every episode: their key/value cache is computed once.
        self._prefixes = PrefixCache(self.model, prefix_cache_size) if prefix_cache_size else None
        self._prefix_ids: dict[str, list[int] | None] = {}
        forward = inspect.signature(self.model.forward).parameters
        self._cache_argument = "cache" if "cache" in forward else "past_key_values"
        self._rng_state: tuple[Any, Any] | None = None

    # -- the agent protocol ---------------------------------------------------------------------

    def respond_batch(
        self, conversations: Sequence[Messages], tools: Sequence[Tools | None] | None = None
    ) -> list[AgentTurn]:
        """Generate one reply per conversation, in order, with ids and raw logprobs."""
        tools = tools_per_conversation(conversations, tools)
        prompts = [self.encode(c, t) for c, t in zip(conversations, tools, strict=True)]
        prefixes = [
            self._prefix_length(c, t, p)
            for c, t, p in zip(conversations, tools, prompts, strict=True)
        ]
        # Longest first: similar lengths share a batch, and running out of memory happens early.
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]), reverse=True)
        turns: list[AgentTurn | None] = [None] * len(prompts)
        size = self.sampling.batch_size
        with self._generation_mode():
            for start in range(0, len(order), size):
                batch = order[start : start + size]
                for index, turn in zip(
                    batch,
                    self._generate([prompts[i] for i in batch], [prefixes[i] for i in batch]),
                    strict=True,
                ):
                    turns[index] = turn
        return [turn for turn in turns if turn is not None]

    def encode(self, messages: Messages, tools: Tools | None = None) -> list[int]:
        """The prompt ids of a conversation, ending with the assistant generation prompt."""
        try:
            return self.chat.prompt_ids(as_dicts(messages), tools)
        except Exception as exc:
            raise AgentError(
                f"the chat template of {self.model_name!r} rejected the conversation: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    # -- internals ------------------------------------------------------------------------------

    def _prefix_length(self, messages: Messages, tools: Tools | None, prompt: list[int]) -> int:
        """How many leading prompt ids are the system prompt alone (0 when not worth caching)."""
        if self._prefixes is None:
            return 0
        dicts = as_dicts(messages)
        if not dicts or dicts[0]["role"] != "system":
            return 0
        key = json.dumps([dicts[0]["content"], tools if self.chat.template_takes_tools else None])
        if key not in self._prefix_ids:
            if len(self._prefix_ids) > 1024:
                self._prefix_ids.clear()
            system = [{"role": "system", "content": dicts[0]["content"]}]
            try:
                rendered = self.chat.render(system, tools, generation_prompt=False)
                self._prefix_ids[key] = self.chat.encode(rendered)
            except Exception:  # noqa: BLE001 - a template that needs more than a system message
                self._prefix_ids[key] = None
        prefix = self._prefix_ids[key]
        # Only a real prefix of the full prompt can be reused (templates that merge tokens
        # across the boundary, or rewrite the system message, are not).
        if prefix is None or len(prefix) < _MIN_PREFIX or prompt[: len(prefix)] != prefix:
            return 0
        return len(prefix)

    @contextlib.contextmanager
    def _generation_mode(self) -> Iterator[None]:
        """Eval mode, no autograd, and the agent's own random stream when it has a seed."""
        import torch

        was_training = self.model.training
        self.model.eval()
        try:
            with torch.inference_mode(), self._own_rng():
                yield
        finally:
            self.model.train(was_training)

    @contextlib.contextmanager
    def _own_rng(self) -> Iterator[None]:
        import torch

        seed = self.sampling.seed
        if seed is None:
            yield
            return
        device = self.model.device
        cuda = device.type == "cuda"
        devices = [device.index or 0] if cuda else []
        # generate() samples from the global generator; fork it so the caller's stream is untouched
        # and carry our own state from call to call.
        with torch.random.fork_rng(devices=devices):
            if self._rng_state is None:
                torch.manual_seed(seed)
            else:
                cpu_state, cuda_state = self._rng_state
                torch.set_rng_state(cpu_state)
                if cuda and cuda_state is not None:
                    torch.cuda.set_rng_state(cuda_state, device)
            yield
            self._rng_state = (
                torch.get_rng_state(),
                torch.cuda.get_rng_state(device) if cuda else None,
            )

    def _generate(self, prompts: list[list[int]], prefix_lengths: list[int]) -> list[AgentTurn]:
        import torch

        device = self.model.device
        pad_id = self.tokenizer.pad_token_id
        sampling = self.sampling
        if self._prefixes is not None and max(prefix_lengths) > 0:
            input_ids, attention, cache, width = self._prefixes.batch(
                prompts, prefix_lengths, pad_id, sampling.max_new_tokens
            )
        else:
            width = max(len(p) for p in prompts)
            input_ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
            attention = torch.zeros((len(prompts), width), dtype=torch.long)
            for row, prompt in enumerate(prompts):
                input_ids[row, width - len(prompt) :] = torch.tensor(prompt, dtype=torch.long)
                attention[row, width - len(prompt) :] = 1
            cache = static_cache(self.model, width + sampling.max_new_tokens)
        # Explicit values override the model's generation_config (often top-k 50 or a penalty).
        shape: dict[str, Any] = {"do_sample": False, "repetition_penalty": 1.0}
        if not sampling.greedy:
            shape = {**shape, "do_sample": True, "temperature": sampling.temperature}
            shape.update(top_p=sampling.top_p, top_k=0)
        recorder = _ChosenLogprobs()
        # A peft model's generate() runs its base model's forward, not its own: hook that one.
        scored = getattr(self.model, "get_base_model", lambda: self.model)()
        hook = scored.register_forward_hook(recorder.hook, with_kwargs=True)
        try:
            sequences = self.model.generate(
                input_ids=input_ids.to(device),
                attention_mask=attention.to(device),
                max_new_tokens=sampling.max_new_tokens,
                **shape,
                eos_token_id=self._stop_ids,
                pad_token_id=pad_id,
                **{self._cache_argument: cache},
                # Each call's cache has its own length: a compiled step would recompile per call.
                disable_compile=True,
            )
        except Exception as exc:
            raise AgentError(
                f"generation with {self.model_name!r} failed on a batch of {len(prompts)} "
                f"(longest prompt {width} tokens): {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            hook.remove()
        generated = sequences[:, width:]
        logprobs = recorder.finish(generated)
        stops = torch.tensor(self._stop_ids, device=generated.device)
        is_stop = torch.isin(generated, stops)
        # Finished rows are filled with the pad token (often the stop token itself), so a reply
        # ends at its first stop token.
        lengths = torch.where(
            is_stop.any(dim=1), is_stop.int().argmax(dim=1) + 1, generated.shape[1]
        ).tolist()
        ids = [row[:n] for row, n in zip(generated.tolist(), lengths, strict=True)]
        text_ids = [seq[:-1] if seq and seq[-1] in self._stop_ids else seq for seq in ids]
        texts = self.tokenizer.batch_decode(text_ids, skip_special_tokens=False)
        lps = [row[:n] for row, n in zip(logprobs.tolist(), lengths, strict=True)]
        return [
            AgentTurn(text=text, prompt_ids=prompt, completion_ids=seq, logprobs=lp)
            for text, prompt, seq, lp in zip(texts, prompts, ids, lps, strict=True)
        ]


class _ChosenLogprobs:
    """The raw log-probability of each sampled token, recorded step by step during generate().

    A forward hook on the model sees every step's logits as the model produced them, before any
    logits processor or warper of generate() (temperature, top-p, or those the model's
    generation_config adds) has touched them. The token sampled from a step's logits is known
    only at the next step, where it is the model's input, or, for the last step, in the output.
    So one step's log-softmax is held until then, and memory stays at ``batch x vocab`` however
    many steps run (keeping every step's logits costs ``batch x steps x vocab`` floats).
    """

    def __init__(self) -> None:
        self._pending: Any = None
        self._chosen: list[Any] = []

    def hook(self, module: Any, args: Any, kwargs: dict[str, Any], output: Any) -> None:
        """Forward hook (``with_kwargs=True``): settle the previous step, hold this one."""
        import torch

        if self._pending is not None:
            self._settle(kwargs["input_ids"][:, -1])
        logits = output.logits[:, -1].float()
        self._pending = logits - torch.logsumexp(logits, dim=-1, keepdim=True)

    def _settle(self, tokens: Any) -> None:
        self._chosen.append(self._pending.gather(1, tokens[:, None]).squeeze(1))
        self._pending = None

    def finish(self, generated: Any) -> Any:
        """``[batch, steps]`` log-probabilities of ``generated``, the ids generate() returned."""
        import torch

        if self._pending is not None and len(self._chosen) < generated.shape[1]:
            self._settle(generated[:, len(self._chosen)])
        if len(self._chosen) < generated.shape[1]:
            raise AgentError(
                f"the logprob hook saw {len(self._chosen)} of {generated.shape[1]} generation "
                "steps: generate() ran a forward other than the hooked model's"
            )
        return torch.stack(self._chosen[: generated.shape[1]], dim=1)


def _sampling(base: SamplingConfig | None, overrides: dict[str, Any]) -> SamplingConfig:
    known = {f.name for f in dataclasses.fields(SamplingConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(
            f"unknown TransformersAgent option(s) {', '.join(unknown)}; "
            f"sampling options are {', '.join(sorted(known))}"
        )
    return dataclasses.replace(base or SamplingConfig(), **overrides)
