"""One tokenization path: masks cover exactly the model's tokens, for several template styles."""

from __future__ import annotations

import copy

import pytest

from palaestra.agents.chat import ChatTokenizer
from palaestra.errors import ConfigError

# A Llama-3 style template: headers, <|eot_id|> closes a turn, no newline after it.
LLAMA3 = (
    "{{ bos_token }}{% for m in messages %}"
    "{{ '<|start_header_id|>' + m['role'] + '<|end_header_id|>\\n\\n' "
    "+ m['content'] | trim + '<|eot_id|>' }}"
    "{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)
# A Mistral style template: [INST] blocks, the system folded into the first user turn, eos
# closes a turn, and no tool role (tool messages must become user messages).
MISTRAL = (
    "{{ bos_token }}"
    "{% set system = messages[0]['content'] if messages[0]['role'] == 'system' else '' %}"
    "{% for m in messages %}"
    "{% if m['role'] == 'tool' %}{{ raise_exception('no tool role') }}{% endif %}"
    "{% if m['role'] == 'user' %}{{ '[INST] ' "
    "+ (system + '\\n\\n' if loop.index0 == 1 and system else '') + m['content'] + ' [/INST]' }}"
    "{% elif m['role'] == 'assistant' %}{{ ' ' + m['content'] + eos_token }}{% endif %}"
    "{% endfor %}"
)

CONVERSATION = [
    {"role": "system", "content": "You book flights."},
    {"role": "user", "content": "Book FL-1 for me."},
    {
        "role": "assistant",
        "content": '<tool_call>{"name": "book", "arguments": {"flight": "FL-1"}}</tool_call>',
    },
    {
        "role": "tool",
        "content": '<tool_response>\n{"name": "book", "result": "ok"}\n</tool_response>',
    },
    {"role": "assistant", "content": "Done: you are on FL-1."},
]


@pytest.fixture(params=["smollm2", "llama3", "mistral"])
def chat(request, tiny_agent) -> ChatTokenizer:
    tokenizer = copy.deepcopy(tiny_agent.tokenizer)
    if request.param != "smollm2":
        tokenizer.add_special_tokens(
            {
                "additional_special_tokens": [
                    "<|start_header_id|>",
                    "<|end_header_id|>",
                    "<|eot_id|>",
                ]
            }
        )
        tokenizer.chat_template = LLAMA3 if request.param == "llama3" else MISTRAL
    return ChatTokenizer(tokenizer)


def masked_turns(chat: ChatTokenizer, tokenized) -> list[str]:
    return [chat.tokenizer.decode(tokenized.input_ids[s:e]) for s, e in tokenized.turn_spans]


def test_masked_tokens_decode_to_the_assistant_turns(chat):
    tokenized = chat.tokenize(CONVERSATION)
    turns = masked_turns(chat, tokenized)
    assistant = [m["content"] for m in CONVERSATION if m["role"] == "assistant"]
    assert len(turns) == 2
    for text, expected in zip(turns, assistant, strict=True):
        assert text.lstrip().startswith(expected), (text, expected)
        ending = text.lstrip()[len(expected) :]
        assert ending in {chat.tokenizer.decode([i]) for i in chat.stop_ids}, ending
    assert sum(tokenized.assistant_mask) == sum(e - s for s, e in tokenized.turn_spans)
    masked = [i for i, m in zip(tokenized.input_ids, tokenized.assistant_mask, strict=True) if m]
    assert chat.tokenizer.decode(masked).count(assistant[0]) == 1
    for secret in ("You book flights.", "Book FL-1 for me.", "<tool_response>"):
        assert secret not in chat.tokenizer.decode(masked)


def test_the_prompt_is_a_prefix_of_the_training_sequence(chat):
    tokenized = chat.tokenize(CONVERSATION)
    prompt = chat.prompt_ids(CONVERSATION[:4])
    assert tokenized.input_ids[: len(prompt)] == prompt
    assert tokenized.turn_spans[1][0] == len(prompt)


def test_generated_ids_replace_their_turns(chat):
    plain = chat.tokenize(CONVERSATION)
    generated = [chat.encode("<tool_call>" + "x" * 3), None]
    tokenized = chat.tokenize(CONVERSATION, completions=generated)
    start, end = tokenized.turn_spans[0]
    assert tokenized.input_ids[start:end] == generated[0]
    assert masked_turns(chat, tokenized)[1] == masked_turns(chat, plain)[1]
    with pytest.raises(ConfigError, match="recorded completions"):
        chat.tokenize(CONVERSATION, completions=[None])


def test_templates_that_rewrite_earlier_turns_are_refused(tiny_agent):
    tokenizer = copy.deepcopy(tiny_agent.tokenizer)
    # Drops every assistant turn but the last, as some reasoning templates do with thoughts.
    tokenizer.chat_template = (
        "{% for m in messages %}{% if m['role'] != 'assistant' or loop.last %}"
        "{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}"
        "{% endif %}{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
    )
    with pytest.raises(ConfigError, match="rewrites earlier turns"):
        ChatTokenizer(tokenizer).tokenize(CONVERSATION)
