from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from palaestra.agents.transformers_agent import SamplingConfig, TransformersAgent
from palaestra.core.parsing import tool_response
from palaestra.core.types import AgentTurn, Message
from palaestra.errors import ConfigError

torch = pytest.importorskip("torch")

SYSTEM = (
    "You solve tasks with tools. Call a tool as "
    '<tool_call>{"name": ..., "arguments": {...}}</tool_call>.'
)
CALL = '<tool_call>{"name": "lookup", "arguments": {"key": "a"}}</tool_call>'
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Look a key up.",
            "parameters": {"type": "object", "properties": {"key": {"type": "string"}}},
        },
    }
]


def _conversations() -> list[list[dict[str, str]]]:
    """Conversations of quite different lengths, some with tool turns."""
    conversations = [
        [{"role": "user", "content": "hi"}],
        [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "What is 2+2?"}],
        [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "Look up a."},
            {"role": "assistant", "content": CALL},
            {"role": "tool", "content": tool_response("lookup", result=42)},
        ],
        [{"role": "user", "content": "Tell me a long story about " + "dragons and " * 30}],
        [{"role": "user", "content": "x"}],
        [
            {"role": "user", "content": "Call two tools."},
            {"role": "assistant", "content": CALL + CALL},
            {
                "role": "tool",
                "content": tool_response("lookup", result=1)
                + "\n"
                + tool_response("lookup", error="no such key"),
            },
        ],
        [{"role": "user", "content": "Count: " + " ".join(map(str, range(40)))}],
    ]
    return conversations


def _other(agent: TransformersAgent, **overrides: Any) -> TransformersAgent:
    """Another agent on the same loaded tiny model."""
    return TransformersAgent(agent.model, agent.tokenizer, sampling=agent.sampling, **overrides)


def _forward_logprobs(agent: TransformersAgent, turn: AgentTurn) -> list[float]:
    assert turn.prompt_ids is not None and turn.completion_ids is not None
    ids = torch.tensor([turn.prompt_ids + turn.completion_ids])
    with torch.inference_mode():
        logits = agent.model(ids).logits[0].float()
    start = len(turn.prompt_ids) - 1
    scores = torch.log_softmax(logits[start:-1], dim=-1)
    target = torch.tensor(turn.completion_ids)
    return scores.gather(1, target[:, None]).squeeze(1).tolist()


# -- batching ---------------------------------------------------------------------------------


def test_batched_greedy_replies_equal_one_at_a_time(tiny_agent: TransformersAgent) -> None:
    conversations = _conversations()
    batched = tiny_agent.respond_batch(conversations)
    singles = [tiny_agent.respond_batch([c])[0] for c in conversations]
    # Another batch composition, so each prompt meets different padding and neighbours.
    shuffled = conversations[3:] + conversations[:3]
    regrouped = _other(tiny_agent, batch_size=4).respond_batch(shuffled)
    regrouped = regrouped[-3:] + regrouped[:-3]
    assert len({len(t.prompt_ids or ()) for t in batched}) >= 5  # padding really differs
    for batch_turn, single, other in zip(batched, singles, regrouped, strict=True):
        assert batch_turn.prompt_ids == single.prompt_ids == other.prompt_ids
        assert batch_turn.completion_ids == single.completion_ids == other.completion_ids
        assert batch_turn.text == single.text == other.text
        assert batch_turn.logprobs == pytest.approx(single.logprobs, abs=1e-4)


def test_prompt_ids_are_the_chat_template_with_a_generation_prompt(
    tiny_agent: TransformersAgent,
) -> None:
    tokenizer = tiny_agent.tokenizer
    conversations = _conversations()
    turns = tiny_agent.respond_batch(conversations)
    for conversation, turn in zip(conversations, turns, strict=True):
        expected = tokenizer.apply_chat_template(
            conversation, add_generation_prompt=True, tokenize=True, return_dict=False
        )
        assert turn.prompt_ids == list(expected)
        assert tokenizer.decode(turn.prompt_ids).endswith("<|im_start|>assistant\n")
    # SmolLM2's template renders the tool role as it is.
    assert "<|im_start|>tool\n<tool_response>" in tokenizer.decode(turns[2].prompt_ids)


def test_message_records_and_dicts_give_the_same_reply(tiny_agent: TransformersAgent) -> None:
    conversation = _conversations()[2]
    records = [Message(**m) for m in conversation]  # type: ignore[arg-type]
    assert tiny_agent.respond_batch([records]) == tiny_agent.respond_batch([conversation])
    assert tiny_agent.act(conversation) == tiny_agent.respond_batch([conversation])[0].text
    assert tiny_agent.respond_batch([]) == []


# -- completions and logprobs -----------------------------------------------------------------


def test_replies_end_at_the_end_of_turn_token_or_at_the_limit(
    tiny_agent: TransformersAgent,
) -> None:
    tokenizer = tiny_agent.tokenizer
    end_of_turn = tokenizer.convert_tokens_to_ids("<|im_end|>")
    limit = tiny_agent.sampling.max_new_tokens
    turns = tiny_agent.respond_batch(_conversations())
    stopped = 0
    for turn in turns:
        ids = turn.completion_ids
        assert ids and len(ids) <= limit
        assert end_of_turn not in ids[:-1]
        if ids[-1] == end_of_turn:
            stopped += 1
            assert turn.text == tokenizer.decode(ids[:-1])
        else:
            assert len(ids) == limit
            assert turn.text == tokenizer.decode(ids)
        assert "<|im_end|>" not in turn.text
    # The tiny model is built so that both endings occur; otherwise this test proves little.
    assert 0 < stopped < len(turns)


def test_logprobs_are_the_raw_model_distribution(tiny_agent: TransformersAgent) -> None:
    for turn in tiny_agent.respond_batch(_conversations()):
        assert turn.logprobs is not None and turn.completion_ids is not None
        assert len(turn.logprobs) == len(turn.completion_ids)
        assert all(math.isfinite(lp) and lp <= 0 for lp in turn.logprobs)
        assert turn.logprobs == pytest.approx(_forward_logprobs(tiny_agent, turn), abs=1e-4)


def test_logprobs_ignore_temperature_and_top_p(tiny_agent: TransformersAgent) -> None:
    sampler = _other(tiny_agent, temperature=0.5, top_p=0.9, seed=3)
    for turn in sampler.respond_batch(_conversations()):
        assert turn.logprobs == pytest.approx(_forward_logprobs(tiny_agent, turn), abs=1e-4)


def _logprobs_from_all_logits(
    agent: TransformersAgent, conversations: list[list[dict[str, str]]], seed: int, sample: bool
) -> list[tuple[list[int], list[float]]]:
    """Replies and logprobs the old way: one generate() call that keeps every step's logits."""
    prompts = sorted((agent.encode(c) for c in conversations), key=len, reverse=True)
    width = max(map(len, prompts))
    pad = agent.tokenizer.pad_token_id
    ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
    stops = sorted(agent.chat.stop_ids)
    with torch.random.fork_rng(), torch.inference_mode():
        torch.manual_seed(seed)
        out = agent.model.generate(
            input_ids=ids,
            attention_mask=mask,
            max_new_tokens=agent.sampling.max_new_tokens,
            **({"temperature": 1.0, "top_p": 1.0, "top_k": 0} if sample else {}),
            do_sample=sample,
            repetition_penalty=1.0,
            eos_token_id=stops,
            pad_token_id=pad,
            output_logits=True,
            return_dict_in_generate=True,
        )
    generated = out.sequences[:, width:]
    logits = torch.stack(out.logits, dim=1).float()  # [batch, steps, vocab]: all of it
    logprobs = torch.log_softmax(logits, dim=-1).gather(2, generated[..., None]).squeeze(2)
    replies = []
    for row, lps in zip(generated.tolist(), logprobs.tolist(), strict=True):
        n = next((i + 1 for i, t in enumerate(row) if t in stops), len(row))
        replies.append((row[:n], lps[:n]))
    return replies


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_logprobs_equal_those_of_every_step_kept_logits(
    tiny_agent: TransformersAgent, temperature: float
) -> None:
    conversations = _conversations()
    size = len(conversations)
    agent = _other(
        tiny_agent, temperature=temperature, seed=5, batch_size=size, prefix_cache_size=0
    )
    turns = sorted(agent.respond_batch(conversations), key=lambda t: -len(t.prompt_ids or ()))
    reference = _logprobs_from_all_logits(agent, conversations, 5, sample=temperature > 0)
    if temperature == 0:
        assert len({len(ids) for ids, _ in reference}) > 1  # some stop early, some run on
    for turn, (ids, lps) in zip(turns, reference, strict=True):
        assert turn.completion_ids == ids
        assert turn.logprobs == pytest.approx(lps, abs=1e-5)


def test_logprobs_ignore_processors_the_model_config_adds(tiny_agent: TransformersAgent) -> None:
    import copy

    model = copy.deepcopy(tiny_agent.model)
    # generate() runs processors built from the model's generation_config before any others;
    # banning repeated tokens changes the scores they see, not the raw distribution.
    model.generation_config.no_repeat_ngram_size = 1
    agent = TransformersAgent(model, tiny_agent.tokenizer, sampling=tiny_agent.sampling)
    turns = agent.respond_batch(_conversations())
    plain = tiny_agent.respond_batch(_conversations())
    assert any(t.completion_ids != u.completion_ids for t, u in zip(turns, plain, strict=True))
    for turn in turns:
        assert turn.completion_ids is not None
        assert len(set(turn.completion_ids)) == len(turn.completion_ids)
        assert turn.logprobs == pytest.approx(_forward_logprobs(agent, turn), abs=1e-4)


def test_logprobs_of_a_lora_model_are_its_own(tiny_agent: TransformersAgent) -> None:
    import copy

    peft = pytest.importorskip("peft")
    config = peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"])
    model = peft.get_peft_model(copy.deepcopy(tiny_agent.model), config)
    for name, weight in model.named_parameters():
        if "lora_B" in name:  # B starts at 0: make the adapter change the distribution
            torch.nn.init.normal_(weight, std=0.5)
    agent = TransformersAgent(model, tiny_agent.tokenizer, sampling=tiny_agent.sampling)
    turns = agent.respond_batch(_conversations())
    plain = tiny_agent.respond_batch(_conversations())
    for turn, base in zip(turns, plain, strict=True):
        assert turn.logprobs == pytest.approx(_forward_logprobs(agent, turn), abs=1e-4)
        if turn.completion_ids == base.completion_ids:
            assert turn.logprobs != pytest.approx(base.logprobs, abs=1e-4)


# -- sampling ---------------------------------------------------------------------------------


def test_a_seed_makes_sampling_reproducible(tiny_agent: TransformersAgent) -> None:
    conversations = _conversations()
    global_state = torch.get_rng_state()

    def two_calls(seed: int) -> list[list[int] | None]:
        agent = _other(tiny_agent, temperature=1.0, seed=seed)
        first = agent.respond_batch(conversations)
        second = agent.respond_batch(conversations)
        return [t.completion_ids for t in first + second]

    run = two_calls(7)
    assert two_calls(7) == run
    half = len(conversations)
    assert run[:half] != run[half:]  # the stream moves on between calls
    assert two_calls(8) != run
    assert torch.equal(torch.get_rng_state(), global_state)


def test_generation_restores_training_mode(tiny_agent: TransformersAgent) -> None:
    tiny_agent.model.train()
    try:
        tiny_agent.respond_batch(_conversations()[:1])
        assert tiny_agent.model.training
    finally:
        tiny_agent.model.eval()


# -- chat templates ---------------------------------------------------------------------------

_NO_TOOL_ROLE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'tool' %}{{ raise_exception('tool role not supported') }}{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def _agent_with_template(agent: TransformersAgent, template: str) -> TransformersAgent:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(agent.tokenizer.name_or_path)
    tokenizer.chat_template = template
    sampling = SamplingConfig(max_new_tokens=2, temperature=0)
    return TransformersAgent(agent.model, tokenizer, sampling=sampling)


def test_tool_messages_become_user_messages_when_the_template_refuses_them(
    tiny_agent: TransformersAgent,
) -> None:
    agent = _agent_with_template(tiny_agent, _NO_TOOL_ROLE)
    turns = agent.respond_batch(_conversations()[:3])
    prompt = agent.tokenizer.decode(turns[2].prompt_ids)
    assert "<|im_start|>user\n<tool_response>" in prompt
    assert "<|im_start|>tool" not in prompt
    assert agent.chat._tool_role == "user"  # decided once, not retried for every conversation


def test_tools_reach_templates_that_render_them(tiny_agent: TransformersAgent) -> None:
    conversation = _conversations()[1]
    template = (
        "{% if tools %}{{ '<|im_start|>system\nTools:' }}"
        "{% for tool in tools %}{{ ' ' + tool['function']['name'] }}{% endfor %}"
        "{{ '<|im_end|>\n' }}{% endif %}" + _NO_TOOL_ROLE
    )
    agent = _agent_with_template(tiny_agent, template)
    with_tools = agent.respond_batch([conversation], [TOOLS])[0]
    without = agent.respond_batch([conversation], [None])[0]
    assert "Tools: lookup" in agent.tokenizer.decode(with_tools.prompt_ids)
    assert "Tools:" not in agent.tokenizer.decode(without.prompt_ids)


def test_templates_without_tools_get_the_same_prompt_either_way(
    tiny_agent: TransformersAgent,
) -> None:
    conversation = _conversations()[1]
    with_tools, without = tiny_agent.respond_batch([conversation, conversation], [TOOLS, None])
    assert with_tools.prompt_ids == without.prompt_ids


# -- configuration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("max_new_tokens", 0, "max_new_tokens must be at least 1"),
        ("temperature", -0.1, "temperature must be >= 0"),
        ("top_p", 0.0, r"top_p must be in \(0, 1\]"),
        ("batch_size", 0, "batch_size must be at least 1"),
    ],
)
def test_sampling_config_rejects_bad_values(option: str, value: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SamplingConfig(**{option: value})


def test_options_override_the_sampling_config(tiny_agent: TransformersAgent) -> None:
    agent = _other(tiny_agent, max_new_tokens=3, seed=1)
    assert agent.sampling.max_new_tokens == 3 and agent.sampling.seed == 1
    assert agent.sampling.batch_size == tiny_agent.sampling.batch_size
    with pytest.raises(ConfigError, match="unknown TransformersAgent option.*max_tokens"):
        _other(tiny_agent, max_tokens=3)


def test_tools_must_match_the_conversations(tiny_agent: TransformersAgent) -> None:
    with pytest.raises(ConfigError, match="got 1 tool lists for 2 conversations"):
        tiny_agent.respond_batch(_conversations()[:2], [TOOLS])


def test_names(tiny_agent: TransformersAgent, tiny_model_dir: Path) -> None:
    assert tiny_agent.model_name == str(tiny_model_dir)
    assert tiny_agent.name == f"transformers:{tiny_model_dir}"
    assert _other(tiny_agent, name="policy").name == "policy"


# -- the real default model -------------------------------------------------------------------


def test_smollm2_answers_a_simple_question(smollm2_dir: Path) -> None:
    agent = TransformersAgent("smollm2", max_new_tokens=24, temperature=0.0)
    assert agent.name == "transformers:smollm2"
    question = [{"role": "user", "content": "What is the capital of France?"}]
    turn = agent.respond_batch([question])[0]
    assert "Paris" in turn.text
    assert turn.completion_ids and turn.completion_ids[-1] == agent.tokenizer.eos_token_id


def _episode_conversations() -> list[list[dict[str, str]]]:
    """First-turn and later-turn conversations of real envs, with different system prompts."""
    import gymnasium as gym

    import palaestra  # noqa: F401

    conversations = []
    for domain, seed in (("retail", 0), ("calendar", 1), ("retail", 2), ("travel", 3)):
        env = gym.make("ToolUse-v0", domain=domain)
        obs, info = env.reset(seed=seed)
        chat = [
            {"role": "system", "content": info["instructions"]},
            {"role": "user", "content": obs},
        ]
        conversations.append(chat)
        action = env.unwrapped.oracle_actions()[0]
        obs, *_ = env.step(action)
        conversations.append(
            [*chat, {"role": "assistant", "content": action}, {"role": "tool", "content": obs}]
        )
    return conversations


def test_cached_system_prompts_change_nothing(tiny_agent: TransformersAgent) -> None:
    conversations = _episode_conversations()
    plain = _other(tiny_agent, prefix_cache_size=0).respond_batch(conversations)
    cached_agent = _other(tiny_agent, prefix_cache_size=2)  # fewer slots than prompts: eviction too
    cached = cached_agent.respond_batch(conversations)
    again = cached_agent.respond_batch(conversations[::-1])[::-1]
    for a, b, c in zip(plain, cached, again, strict=True):
        assert a.completion_ids == b.completion_ids == c.completion_ids
        assert a.prompt_ids == b.prompt_ids
        assert a.logprobs is not None and b.logprobs is not None
        assert max(abs(x - y) for x, y in zip(a.logprobs, b.logprobs, strict=True)) < 1e-3
    assert cached_agent._prefixes is not None and len(cached_agent._prefixes._entries) == 2
    for conversation, turn in zip(conversations, cached, strict=True):
        assert turn.prompt_ids is not None
        assert cached_agent._prefix_length(conversation, None, turn.prompt_ids) > 0
