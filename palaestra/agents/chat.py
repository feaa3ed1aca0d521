"""Conversations to token ids, one way for all: prompts to generate from, sequences to train on.

`ChatTokenizer` renders a conversation with the model's chat template. For training it marks
which tokens the model produced: every assistant turn from its first token through its
end-of-turn token, and nothing of the system, user or tool messages (nor the template's own
tokens around a turn). It does not assume ChatML: an assistant turn is the text the template adds
between the prompt that asks for it (``add_generation_prompt=True``) and the conversation that
contains it. Turns and the template pieces between them are tokenized separately, for prompts
and training sequences alike, so the prompt a model generated from is exactly the start of the
sequence it is trained on.

When a trajectory carries the token ids the model generated, those ids replace the re-tokenized
text of their turns, so a trainer scores exactly what was sampled.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from palaestra.errors import ConfigError

__all__ = ["ChatTokenizer", "TokenizedChat", "end_of_turn_ids"]

_PROBE = "palaestra-end-of-turn-probe"


@dataclass(frozen=True)
class TokenizedChat:
    """A conversation as token ids, with a 1 on every token the model produced."""

    input_ids: list[int]
    assistant_mask: list[int]
    turn_spans: list[tuple[int, int]]
    """``[start, end)`` of each assistant turn in ``input_ids``, in order."""

    def __len__(self) -> int:
        return len(self.input_ids)


def end_of_turn_ids(tokenizer: Any, model: Any | None = None) -> set[int]:
    """The eos tokens plus the token the chat template closes an assistant turn with."""
    stops: set[int] = set()
    sources = [tokenizer.eos_token_id]
    if model is not None:
        sources.append(getattr(model.generation_config, "eos_token_id", None))
    for source in sources:
        if isinstance(source, int):
            stops.add(source)
        elif source is not None:
            stops.update(int(i) for i in source)
    # Render a known assistant reply and read the first token after it: that is the end-of-turn
    # marker whatever the template calls it (<|im_end|>, <|eot_id|>, <end_of_turn>, </s>).
    probe = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": _PROBE}]
    try:
        rendered = tokenizer.apply_chat_template(probe, tokenize=False)
    except Exception:  # noqa: BLE001 - a template that cannot render the probe
        return stops
    if not isinstance(rendered, str) or _PROBE not in rendered:
        return stops
    after = rendered[rendered.rindex(_PROBE) + len(_PROBE) :].lstrip()
    after_ids = tokenizer(after, add_special_tokens=False)["input_ids"]
    control = set(tokenizer.all_special_ids) | set(tokenizer.get_added_vocab().values())
    if after_ids and after_ids[0] in control:
        stops.add(int(after_ids[0]))
    return stops


class ChatTokenizer:
    """Chat template rendering and tokenization for one tokenizer (and its model's stop tokens)."""

    def __init__(self, tokenizer: Any, model: Any | None = None) -> None:
        if tokenizer.chat_template is None:
            raise ConfigError(f"the tokenizer {type(tokenizer).__name__} has no chat template")
        self.tokenizer = tokenizer
        template = tokenizer.chat_template
        text = template if isinstance(template, str) else " ".join(map(str, template.values()))
        self.template_takes_tools = "tools" in text
        self.stop_ids = end_of_turn_ids(tokenizer, model)
        self._stop_texts = sorted(
            {tokenizer.decode([i]) for i in self.stop_ids} - {""}, key=len, reverse=True
        )
        self._tool_role: str | None = None  # "tool", or "user" when the template refuses it

    # ---------------------------------------------------------------------------------- render
    def render(
        self,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] | None = None,
        *,
        generation_prompt: bool,
    ) -> str:
        """The conversation as the template writes it."""
        dicts = self._normalise(messages)
        kwargs: dict[str, Any] = {}
        if self.template_takes_tools and tools:
            kwargs["tools"] = [t for t in tools if t is not None]
        if self._tool_role is None and any(m["role"] == "tool" for m in dicts):
            try:
                text = self._apply(dicts, generation_prompt, kwargs)
                self._tool_role = "tool"
                return text
            except Exception:  # noqa: BLE001 - the template refuses the tool role: use user
                self._tool_role = "user"
                dicts = self._normalise(messages)
        return self._apply(dicts, generation_prompt, kwargs)

    def _normalise(self, messages: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
        dicts = [{"role": m["role"], "content": m["content"]} for m in messages]
        if self._tool_role == "user":
            dicts = [{**m, "role": "user"} if m["role"] == "tool" else m for m in dicts]
        return dicts

    def _apply(
        self, messages: list[dict[str, str]], generation_prompt: bool, kwargs: dict[str, Any]
    ) -> str:
        text = self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=generation_prompt, **kwargs
        )
        if not isinstance(text, str):
            raise ConfigError("the chat template did not render text")
        return text

    def encode(self, text: str) -> list[int]:
        """Token ids of rendered text (the template already wrote any special tokens)."""
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def prompt_ids(
        self, messages: Sequence[dict[str, Any]], tools: Sequence[dict[str, Any]] | None = None
    ) -> list[int]:
        """The ids a model continues from: the conversation and the assistant generation prompt.

        Tokenized piece by piece, as `tokenize` does, so a prompt is exactly the start of the
        training sequence of the conversation it begins.
        """
        return [i for text, _ in self._segments(messages, tools, True) for i in self.encode(text)]

    def _segments(
        self,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] | None,
        generation_prompt: bool,
    ) -> list[tuple[str, bool]]:
        """The rendered text cut into template pieces and assistant turns (True), in order.

        Each piece is tokenized on its own: a token never spans a turn's edge, so a turn's
        tokens do not depend on what follows it (the next prompt, or the end of the text).
        """
        text = self.render(messages, tools, generation_prompt=generation_prompt)
        pieces, previous = [], 0
        for start, end in self._assistant_characters(messages, tools, text):
            pieces += [(text[previous:start], False), (text[start:end], True)]
            previous = end
        pieces.append((text[previous:], False))
        return [(piece, is_turn) for piece, is_turn in pieces if piece]

    # -------------------------------------------------------------------------------- training
    def tokenize(
        self,
        messages: Sequence[dict[str, Any]],
        tools: Sequence[dict[str, Any]] | None = None,
        completions: Sequence[Sequence[int] | None] | None = None,
    ) -> TokenizedChat:
        """Ids of the whole conversation and the mask of the model's tokens.

        Args:
            messages: The conversation, ``{"role", "content"}`` dicts.
            tools: The tool schemas the model saw.
            completions: For each assistant turn, the ids the model generated (or None): they
                replace that turn's re-tokenized text.
        """
        pieces = self._segments(messages, tools, False)
        turns = sum(1 for _, is_turn in pieces if is_turn)
        if completions is not None and len(completions) != turns:
            raise ConfigError(
                f"{len(completions)} recorded completions for {turns} assistant turns"
            )
        ids: list[int] = []
        token_spans: list[tuple[int, int]] = []
        for text, is_turn in pieces:
            generated = (
                completions[len(token_spans)] if completions is not None and is_turn else None
            )
            piece = list(generated) if generated else self.encode(text)
            if is_turn:
                token_spans.append((len(ids), len(ids) + len(piece)))
            ids.extend(piece)
        mask = [0] * len(ids)
        for start, end in token_spans:
            mask[start:end] = [1] * (end - start)
        return TokenizedChat(ids, mask, token_spans)

    def _assistant_characters(
        self, messages: Sequence[dict[str, Any]], tools: Sequence[dict[str, Any]] | None, text: str
    ) -> list[tuple[int, int]]:
        """``[start, end)`` in ``text`` of each assistant turn, end-of-turn marker included."""
        spans = []
        for index, message in enumerate(messages):
            if message["role"] != "assistant":
                continue
            before = self.render(messages[:index], tools, generation_prompt=True)
            through = self.render(messages[: index + 1], tools, generation_prompt=False)
            if not text.startswith(before) or not text.startswith(through):
                raise ConfigError(
                    "the chat template does not render a conversation as a prefix of its "
                    "continuation (it rewrites earlier turns), so turns cannot be located: "
                    f"{json.dumps(before[-60:])} is not where turn {index} starts"
                )
            block = through[len(before) :]
            # The model's turn ends at its end-of-turn token; what the template adds after it
            # (a newline, the next header) is not generated.
            end = len(block)
            for stop in self._stop_texts:
                found = block.rfind(stop)
                if found != -1:
                    end = found + len(stop)
                    break
            spans.append((len(before), len(before) + end))
        return spans
