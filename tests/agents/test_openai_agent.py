from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from palaestra.agents.openai_agent import OpenAIAgent, to_openai_messages
from palaestra.core.parsing import parse_action, tool_response
from palaestra.core.types import ToolCall
from palaestra.errors import AgentError, ConfigError

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
CALL_A = ToolCall(name="lookup", arguments={"key": "a"})
CALL_B = ToolCall(name="lookup", arguments={"key": "b"})


@dataclass
class Reply:
    """What the scripted server answers: a JSON payload (or raw bytes) with a status."""

    status: int = 200
    payload: Any = None
    raw: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def completion(content: str | None = "", tool_calls: list[dict[str, Any]] | None = None) -> Any:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": "cmpl-1",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16},
    }


def echo(body: dict[str, Any]) -> Reply:
    """Default answer: repeat the last message, after a delay that scrambles finishing order."""
    last = body["messages"][-1]["content"]
    delay = 0.1 if last[-1:] in "02468" else 0.02
    return Reply(payload=completion(f"echo: {last}"), delay=delay)


class ScriptedServer:
    """A real HTTP server on 127.0.0.1 speaking /v1/chat/completions from a script."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: deque[Reply] = deque()
        self.respond: Callable[[dict[str, Any]], Reply] = echo
        self._lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with outer._lock:
                    outer.requests.append(
                        {"path": self.path, "headers": dict(self.headers), "body": body}
                    )
                    reply = outer.script.popleft() if outer.script else None
                    outer.in_flight += 1
                    outer.most_in_flight = max(outer.most_in_flight, outer.in_flight)
                reply = reply or outer.respond(body)
                time.sleep(reply.delay)
                with outer._lock:
                    outer.in_flight -= 1
                data = reply.raw if reply.raw is not None else json.dumps(reply.payload).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (the timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    running = ScriptedServer()
    yield running
    running.close()


@pytest.fixture
def make_agent(server: ScriptedServer) -> Iterator[Callable[..., OpenAIAgent]]:
    agents: list[OpenAIAgent] = []

    def make(**options: Any) -> OpenAIAgent:
        options = {"api_key": "sk-test", "backoff": 0.01, **options}
        agent = OpenAIAgent(options.pop("base_url", server.base_url), "test-model", **options)
        agents.append(agent)
        return agent

    yield make
    for agent in agents:
        agent.close()


def _tool_turn(*calls: ToolCall, text: str = "") -> list[dict[str, str]]:
    results = [tool_response(c.name, result={"value": c.arguments["key"]}) for c in calls]
    return [
        {"role": "system", "content": "Use the tools."},
        {"role": "user", "content": "Look things up."},
        {"role": "assistant", "content": text + "".join(c.to_text() for c in calls)},
        {"role": "tool", "content": "\n".join(results)},
    ]


# -- what is sent -----------------------------------------------------------------------------


def test_native_request_carries_structured_tool_calls(
    server: ScriptedServer, make_agent: Callable[..., OpenAIAgent]
) -> None:
    agent = make_agent(temperature=0.2, max_tokens=64, seed=5)
    agent.respond_batch([_tool_turn(CALL_A)], [TOOLS])
    (request,) = server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer sk-test"
    body = request["body"]
    assert body["model"] == "test-model" and body["tools"] == TOOLS
    assert (body["temperature"], body["max_tokens"], body["seed"]) == (0.2, 64, 5)
    assert body["messages"] == [
        {"role": "system", "content": "Use the tools."},
        {"role": "user", "content": "Look things up."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1_0",
                    "type": "function",
                    "function": {"name": "lookup", "arguments": '{"key": "a"}'},
                }
            ],
        },
        {
            "role": "tool",
            "tool_call_id": "call_1_0",
            "content": '{"name": "lookup", "result": {"value": "a"}}',
        },
    ]


def test_several_calls_get_one_tool_message_each_in_order() -> None:
    conversation = _tool_turn(CALL_A, CALL_B, text="Let me check. ")
    conversation += [{"role": "assistant", "content": CALL_B.to_text()}]
    conversation += [{"role": "tool", "content": tool_response("lookup", error="no such key")}]
    messages = to_openai_messages(conversation, native_tools=True)
    assistant = messages[2]
    assert assistant["content"] == "Let me check."
    assert [c["id"] for c in assistant["tool_calls"]] == ["call_1_0", "call_1_1"]
    assert [(m["role"], m["tool_call_id"]) for m in messages[3:5]] == [
        ("tool", "call_1_0"),
        ("tool", "call_1_1"),
    ]
    assert json.loads(messages[4]["content"]) == {"name": "lookup", "result": {"value": "b"}}
    assert messages[5]["tool_calls"][0]["id"] == "call_2_0"
    assert messages[6] == {
        "role": "tool",
        "tool_call_id": "call_2_0",
        "content": '{"name": "lookup", "error": "no such key"}',
    }


@pytest.mark.parametrize(
    ("assistant", "observation"),
    [
        # A malformed call: the env answered with a plain-text error.
        ('<tool_call>{"name": "lookup", </tool_call>', "Your tool call is not valid JSON."),
        # Two calls but one response block.
        (CALL_A.to_text() + CALL_B.to_text(), tool_response("lookup", result=1)),
        # A final answer followed by a user message, not a tool message.
        ("The answer is 4.", None),
    ],
)
def test_history_that_does_not_translate_is_sent_as_text(
    assistant: str, observation: str | None
) -> None:
    conversation = [
        {"role": "user", "content": "task"},
        {"role": "assistant", "content": assistant},
        {"role": "tool", "content": observation}
        if observation is not None
        else {"role": "user", "content": "go on"},
    ]
    messages = to_openai_messages(conversation, native_tools=True)
    assert messages[1] == {"role": "assistant", "content": assistant}
    assert messages[2] == {"role": "user", "content": conversation[2]["content"]}
    assert all("tool_calls" not in m for m in messages)


def test_without_native_tools_everything_is_text(
    server: ScriptedServer, make_agent: Callable[..., OpenAIAgent]
) -> None:
    agent = make_agent(native_tools=False)
    conversation = _tool_turn(CALL_A)
    agent.respond_batch([conversation], [TOOLS])
    body = server.requests[0]["body"]
    assert "tools" not in body
    assert body["messages"][2] == {"role": "assistant", "content": CALL_A.to_text()}
    assert body["messages"][3] == {"role": "user", "content": conversation[3]["content"]}


def test_conversations_without_tools_are_sent_as_text(
    server: ScriptedServer, make_agent: Callable[..., OpenAIAgent]
) -> None:
    make_agent().respond_batch([_tool_turn(CALL_A)], [None])
    body = server.requests[0]["body"]
    assert "tools" not in body and "seed" not in body
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "user"]


def test_api_key_comes_from_the_environment_or_is_not_sent(
    server: ScriptedServer, make_agent: Callable[..., OpenAIAgent], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    make_agent(api_key=None).act([{"role": "user", "content": "hi"}])
    monkeypatch.delenv("OPENAI_API_KEY")
    make_agent(api_key=None).act([{"role": "user", "content": "hi"}])
    assert server.requests[0]["headers"]["Authorization"] == "Bearer sk-from-env"
    assert "Authorization" not in server.requests[1]["headers"]


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/", "/v1/chat/completions"])
def test_base_url_forms_reach_the_same_endpoint(suffix: str) -> None:
    with OpenAIAgent("http://127.0.0.1:9" + suffix, "m") as agent:
        assert agent.url == "http://127.0.0.1:9/v1/chat/completions"


def test_bad_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="must start with http"):
        OpenAIAgent("localhost:8000", "m")
    with pytest.raises(ConfigError, match="concurrency=0"):
        OpenAIAgent("http://localhost:8000", "m", concurrency=0)


# -- what comes back --------------------------------------------------------------------------


def test_structured_tool_calls_come_back_as_tool_call_text(
    server: ScriptedServer, make_agent: Callable[..., OpenAIAgent]
) -> None:
    calls = [
        {"id": "x1", "type": "function", "function": CALL_A.to_openai("x1")["function"]},
        {"id": "x2", "type": "function", "function": {"name": "lookup", "arguments": {"key": "b"}}},
    ]
    server.script.append(Reply(payload=completion("Checking both.", calls)))
    text = make_agent().act(_tool_turn(CALL_A), TOOLS)
    parsed = parse_action(text, max_chars=10_000)
    assert parsed.error is None
    assert parsed.text == "Checking both."
    assert [(c.name, c.arguments) for c in parsed.tool_calls] == [
        ("lookup", {"key": "a"}),
        ("lookup", {"key": "b"}),
    ]


def test_bad_call_arguments_reach_the_env_as_a_malformed_call(
    server: ScriptedServer, make_agent: Callable[..., OpenAIAgent]
) -> None:
    calls = [{"id": "x", "type": "function", "function": {"name": "lookup", "arguments": "{oops"}}]
    server.script.append(Reply(payload=completion(None, calls)))
    text = make_agent().act([{"role": "user", "content": "hi"}], TOOLS)
    parsed = parse_action(text, max_chars=10_000)
    assert parsed.error is not None and parsed.error.type == "malformed_tool_call"


def test_batches_come_back_in_order_and_usage_is_counted(
    server: ScriptedServer, make_agent: Callable[..., OpenAIAgent]
) -> None:
    agent = make_agent(concurrency=4)
    conversations = [[{"role": "user", "content": f"question {i}"}] for i in range(10)]
    replies = agent.act_batch(conversations)
    assert replies == [f"echo: question {i}" for i in range(10)]
    # Requests overlap, up to the concurrency asked for (counted by the server, not timed).
    assert 2 <= server.most_in_flight <= 4
    assert len(server.requests) == 10
    assert (agent.usage.requests, agent.usage.prompt_tokens, agent.usage.completion_tokens) == (
        10,
        110,
        50,
    )
    turn = agent.respond_batch(conversations[:1])[0]
    assert turn.prompt_ids is None and turn.completion_ids is None and turn.logprobs is None


# -- failures ---------------------------------------------------------------------------------


def test_server_errors_are_retried(
    server: ScriptedServer, make_agent: Callable[..., OpenAIAgent]
) -> None:
    server.script.extend([Reply(status=500), Reply(status=429, headers={"Retry-After": "0"})])
    assert make_agent(max_retries=2).act([{"role": "user", "content": "hi"}]) == "echo: hi"
    assert len(server.requests) == 3


def test_persistent_server_errors_raise_after_the_retries(
    server: ScriptedServer, make_agent: Callable[..., OpenAIAgent]
) -> None:
    server.respond = lambda body: Reply(status=503, payload={"error": {"message": "overloaded"}})
    agent = make_agent(max_retries=2)
    with pytest.raises(
        AgentError, match=r"answered HTTP 503 after 3 attempt\(s\): overloaded"
    ) as e:
        agent.act([{"role": "user", "content": "hi"}])
    assert agent.url in str(e.value) and "\n" not in str(e.value)
    assert len(server.requests) == 3


def test_client_errors_are_not_retried(
    server: ScriptedServer, make_agent: Callable[..., OpenAIAgent]
) -> None:
    server.script.append(Reply(status=400, payload={"error": {"message": "bad model"}}))
    with pytest.raises(AgentError, match=r"HTTP 400 after 1 attempt\(s\): bad model"):
        make_agent().act([{"role": "user", "content": "hi"}])
    assert len(server.requests) == 1


def test_the_api_key_never_appears_in_errors(
    server: ScriptedServer, make_agent: Callable[..., OpenAIAgent]
) -> None:
    message = {"error": {"message": "Incorrect API key provided: sk-secret-123"}}
    server.script.append(Reply(status=401, payload=message))
    with pytest.raises(AgentError, match=r"HTTP 401") as caught:
        make_agent(api_key="sk-secret-123").act([{"role": "user", "content": "hi"}])
    assert "sk-secret-123" not in str(caught.value) and "***" in str(caught.value)


@pytest.mark.parametrize(
    "reply",
    [
        Reply(raw=b"<html>not json</html>"),
        Reply(payload={"choices": []}),
        Reply(payload={"object": "error"}),
        Reply(payload={"choices": [{"message": {"content": ["not", "text"]}}]}),
    ],
)
def test_malformed_bodies_raise(
    server: ScriptedServer, make_agent: Callable[..., OpenAIAgent], reply: Reply
) -> None:
    server.script.append(reply)
    with pytest.raises(AgentError, match=r"malformed response from http://127\.0\.0\.1:\d+/v1/"):
        make_agent().act([{"role": "user", "content": "hi"}])


def test_connection_refused_raises(make_agent: Callable[..., OpenAIAgent]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    agent = make_agent(base_url=f"http://127.0.0.1:{port}", max_retries=1)
    with pytest.raises(AgentError, match=rf"request to http://127.0.0.1:{port}/v1/\S+ failed"):
        agent.act([{"role": "user", "content": "hi"}])


def test_timeouts_raise(server: ScriptedServer, make_agent: Callable[..., OpenAIAgent]) -> None:
    server.respond = lambda body: Reply(payload=completion("late"), delay=1.0)
    with pytest.raises(AgentError, match=r"timed out after 1 attempt\(s\)"):
        make_agent(timeout=0.2, max_retries=0).act([{"role": "user", "content": "hi"}])


# -- end to end: an OpenAI-style server solving ToolUse-v0 tasks through structured calls -------


def test_openai_agent_solves_tool_use_tasks_through_a_real_server(
    server: ScriptedServer, make_agent: Callable[..., OpenAIAgent]
) -> None:
    import gymnasium as gym

    from palaestra.rollout import collect

    env = gym.make("ToolUse-v0", split="test")
    plans: dict[str, list[str]] = {}
    task_ids = []
    for seed in range(3):
        obs, info = env.reset(seed=seed)
        plans[obs] = env.unwrapped.oracle_actions()
        task_ids.append(info["task_id"])

    def oracle_server(body: dict[str, Any]) -> Reply:
        messages = body["messages"]
        task = next(m["content"] for m in messages if m["role"] == "user")
        turn = sum(m["role"] == "assistant" for m in messages)
        parsed = parse_action(plans[task][turn], max_chars=10_000)
        calls = [c.to_openai(f"call_{turn}_{i}") for i, c in enumerate(parsed.tool_calls)]
        return Reply(payload=completion(parsed.text or None, calls or None))

    server.respond = oracle_server
    agent = make_agent()
    trajectories = collect(
        "ToolUse-v0", agent, 3, env_kwargs={"split": "test"}, tasks=task_ids, num_envs=3
    )
    assert [t.success for t in trajectories] == [True, True, True]
    tool_messages = [
        m for r in server.requests for m in r["body"]["messages"] if m["role"] == "tool"
    ]
    assert tool_messages and all(m["tool_call_id"].startswith("call_") for m in tool_messages)
    assert all(r["body"]["tools"] for r in server.requests)
