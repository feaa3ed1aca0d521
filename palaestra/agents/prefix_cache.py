"""Reusing the key/value cache of prompt prefixes that many conversations share.

Every episode of an env starts with the same system prompt (rules, tools): hundreds of tokens
that a model would otherwise re-encode for every turn of every episode. On a CPU that prefill,
not generation, is most of the cost. `PrefixCache` encodes each distinct prefix once and hands
`generate` a batched cache in which row ``i`` reads::

    [pad ... pad][prefix_i][pad ... pad][rest of prompt_i] -> generated tokens

Padding inside the sequence is masked out and positions come from the attention mask, so the
result is what the model computes on the unpadded prompt (tests compare with plain decoding).

Every generate call gets a static cache (`static_cache`), sized once for the prompt and the reply:
a growing cache concatenates its keys and values at every step, copying the whole cache (batch x
prompt length, for every layer) once per generated token, which at a batch of 8 long prompts costs
as much as reading the weights.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

__all__ = ["PrefixCache", "static_cache"]


def static_cache(model: Any, length: int) -> Any:
    """An empty key/value cache of ``length`` positions, written in place as generation runs."""
    from transformers import StaticCache

    return StaticCache(config=model.config, max_cache_len=length)


class PrefixCache:
    """Encoded prefixes, least recently used dropped first."""

    def __init__(self, model: Any, capacity: int) -> None:
        self.model = model
        self.capacity = capacity
        self._entries: OrderedDict[tuple[int, ...], list[tuple[Any, Any]]] = OrderedDict()

    def layers(self, prefix: tuple[int, ...]) -> list[tuple[Any, Any]]:
        """Per layer ``(keys, values)`` of shape ``[1, heads, len(prefix), dim]``."""
        if prefix in self._entries:
            self._entries.move_to_end(prefix)
            return self._entries[prefix]
        import torch

        with torch.inference_mode():
            out = self.model(
                input_ids=torch.tensor([prefix], device=self.model.device), use_cache=True
            )
        cache = getattr(out, "cache", None) or out.past_key_values
        layers = [(layer.keys, layer.values) for layer in cache.layers]
        self._entries[prefix] = layers
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)
        return layers

    def batch(
        self, prompts: list[list[int]], prefix_lengths: list[int], pad_id: int, new_tokens: int
    ) -> tuple[Any, Any, Any, int]:
        """``(input_ids, attention_mask, cache, width)`` for one generate call over ``prompts``.

        The cache holds the prefixes and room for the rest of the prompts and ``new_tokens``.
        """
        import torch

        room = max(prefix_lengths)
        rest = max(len(p) - n for p, n in zip(prompts, prefix_lengths, strict=True))
        width = room + rest
        input_ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        per_row = []
        for row, (prompt, length) in enumerate(zip(prompts, prefix_lengths, strict=True)):
            prefix, tail = prompt[:length], prompt[length:]
            if prefix:
                input_ids[row, room - length : room] = torch.tensor(prefix)
                mask[row, room - length : room] = 1
            input_ids[row, width - len(tail) :] = torch.tensor(tail)
            mask[row, width - len(tail) :] = 1
            per_row.append(self.layers(tuple(prefix)) if prefix else None)
        template = next(layers for layers in per_row if layers is not None)
        cache = static_cache(self.model, width + new_tokens)
        for index, (keys, values) in enumerate(template):
            stacked_keys, stacked_values = [], []
            for layers, length in zip(per_row, prefix_lengths, strict=True):
                if layers is None:
                    k = keys.new_zeros(1, keys.shape[1], room, keys.shape[3])
                    v = values.new_zeros(1, values.shape[1], room, values.shape[3])
                else:
                    k, v = layers[index]
                    if room > length:
                        k = torch.cat(
                            [k.new_zeros(1, k.shape[1], room - length, k.shape[3]), k], dim=2
                        )
                        v = torch.cat(
                            [v.new_zeros(1, v.shape[1], room - length, v.shape[3]), v], dim=2
                        )
                stacked_keys.append(k)
                stacked_values.append(v)
            cache.update(torch.cat(stacked_keys), torch.cat(stacked_values), index)
        device = self.model.device
        return input_ids.to(device), mask.to(device), cache, width
