"""`OpenAIAgent`: any OpenAI-compatible ``/v1/chat/completions`` server (vLLM, hosted APIs).

Envs speak text: tool calls are ``<tool_call>`` tags in the assistant's reply and tool results are
``<tool_response>`` blocks in a ``tool`` message. Servers with native function calling want
structure instead, so with ``native_tools`` the history is translated on the way out (tagged calls
become ``tool_calls`` with ids, each response block a ``tool`` message with its ``tool_call_id``)
and the reply's ``tool_calls`` are written back as tags on the way in. History that does not
translate cleanly (a malformed call, a count mismatch) is sent as plain text.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

from palaestra.agents.base import BaseAgent, Messages, Tools, as_dicts, tools_per_conversation
from palaestra.core.parsing import parse_action
from palaestra.core.types import AgentTurn, ToolCall
from palaestra.errors import AgentError, ConfigError

__all__ = ["OpenAIAgent", "Usage", "to_openai_messages"]

_RESPONSE_BLOCK = re.compile(r"<tool_response>\s*(.*?)\s*</tool_response>", re.DOTALL)
_RETRY_STATUSES = frozenset({408, 409, 429}) | frozenset(range(500, 600))
_MAX_BACKOFF_S = 30.0


@dataclass
class Usage:
    """Token counts the server reported, summed over every request of an agent."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


class OpenAIAgent(BaseAgent):
    """An agent backed by an OpenAI-compatible chat-completions server.

    Args:
        base_url: the server, e.g. ``http://localhost:8000/v1`` (``/v1`` is added when missing).
        model: the model name the server knows.
        api_key: bearer token; default ``$OPENAI_API_KEY``; none is sent when both are unset.
        temperature: sampling temperature sent with each request.
        max_tokens: most tokens per reply.
        seed: sent as ``seed`` when set (servers that support it sample reproducibly).
        timeout: seconds to wait for one response.
        max_retries: retries after a 429, a 5xx, a timeout or a dropped connection.
        backoff: seconds before the first retry, doubled for each further one (a numeric
            ``Retry-After`` header from the server takes precedence).
        native_tools: send the tools and structured tool calls (see the module docstring);
            otherwise send plain text with tool messages as user messages.
        concurrency: requests in flight at once.
        name: the agent's name in trajectories; default ``"openai:<model>"``.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        temperature: float = 0.7,
        max_tokens: int = 1024,
        seed: int | None = None,
        timeout: float = 120.0,
        max_retries: int = 3,
        backoff: float = 1.0,
        native_tools: bool = True,
        concurrency: int = 8,
        name: str | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"base_url must start with http:// or https://, got {base_url!r}")
        if concurrency < 1 or max_retries < 0 or max_tokens < 1 or timeout <= 0:
            raise ConfigError(
                "concurrency and max_tokens must be >= 1, max_retries >= 0 and timeout > 0; got "
                f"concurrency={concurrency}, max_tokens={max_tokens}, max_retries={max_retries}, "
                f"timeout={timeout}"
            )
        self.url = _endpoint(base_url)
        self.model_name = model
        self.name = name or f"openai:{model}"
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.seed = seed
        self.max_retries = max_retries
        self.backoff = backoff
        self.native_tools = native_tools
        self.concurrency = concurrency
        self.usage = Usage()
        self._usage_lock = threading.Lock()
        self._key, headers = credentials(api_key)
        self._client = httpx.Client(
            headers=headers,
            timeout=timeout,
            limits=httpx.Limits(max_connections=concurrency),
        )
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="openai-agent")

    def respond_batch(
        self, conversations: Sequence[Messages], tools: Sequence[Tools | None] | None = None
    ) -> list[AgentTurn]:
        """Send every conversation (``concurrency`` at a time); replies come back in order."""
        tools = tools_per_conversation(conversations, tools)
        bodies = [self.request_body(c, t) for c, t in zip(conversations, tools, strict=True)]
        return list(self._pool.map(self._complete, bodies))

    def request_body(self, messages: Messages, tools: Tools | None = None) -> dict[str, Any]:
        """The JSON body sent for one conversation."""
        schemas = [t for t in tools or () if t is not None]
        native = self.native_tools and bool(schemas)
        body: dict[str, Any] = {
            "model": self.model_name,
            "messages": to_openai_messages(messages, native_tools=native),
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        if self.seed is not None:
            body["seed"] = self.seed
        if native:
            body["tools"] = schemas
        return body

    def close(self) -> None:
        """Release the connection pool and the worker threads."""
        self._pool.shutdown(wait=True)
        self._client.close()

    def __enter__(self) -> OpenAIAgent:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- one request ----------------------------------------------------------------------------

    def _complete(self, body: dict[str, Any]) -> AgentTurn:
        response = self._post(body)
        try:
            data = response.json()
            message = data["choices"][0]["message"]
            content = message.get("content") or ""
            calls = message.get("tool_calls") or []
            if not isinstance(content, str) or not isinstance(calls, list):
                raise TypeError("content must be a string and tool_calls a list")
            text = _reply_text(content, calls)
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise self._error(
                f"malformed response from {self.url} (status {response.status_code}): "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        self._record_usage(data.get("usage"))
        return AgentTurn(text=text)

    def _post(self, body: dict[str, Any]) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = self._client.post(self.url, json=body)
            except httpx.TransportError as exc:
                if attempt >= self.max_retries:
                    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
                    raise self._error(
                        f"request to {self.url} {kind} after {attempt + 1} attempt(s): "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc
                delay = self.backoff * 2**attempt
            else:
                if response.is_success:
                    return response
                if response.status_code not in _RETRY_STATUSES or attempt >= self.max_retries:
                    raise self._error(
                        f"{self.url} answered HTTP {response.status_code} after {attempt + 1} "
                        f"attempt(s): {error_detail(response)}"
                    )
                delay = _retry_after(response, self.backoff * 2**attempt)
            time.sleep(min(delay, _MAX_BACKOFF_S))
            attempt += 1

    def _error(self, message: str) -> AgentError:
        return AgentError(" ".join(redact(message, self._key).split()))

    def _record_usage(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        with self._usage_lock:
            self.usage.requests += 1
            self.usage.prompt_tokens += int(usage.get("prompt_tokens") or 0)
            self.usage.completion_tokens += int(usage.get("completion_tokens") or 0)


def to_openai_messages(messages: Messages, *, native_tools: bool) -> list[dict[str, Any]]:
    """Translate an env conversation into chat-completions messages.

    With ``native_tools``, an assistant message whose tool calls parse, followed by a tool message
    with exactly one ``<tool_response>`` block per call, becomes ``tool_calls`` (ids
    ``call_<turn>_<i>``) and one ``tool`` message per call. Anything else, and every tool message
    without ``native_tools``, is sent as text (tool messages as ``user``).
    """
    dicts = as_dicts(messages)
    out: list[dict[str, Any]] = []
    turn = 0
    index = 0
    while index < len(dicts):
        message = dicts[index]
        role, content = message["role"], message.get("content") or ""
        if role == "assistant":
            turn += 1
            following = dicts[index + 1] if index + 1 < len(dicts) else None
            structured = (
                _structured_turn(content, following, turn) if native_tools and following else None
            )
            if structured is not None:
                out.extend(structured)
                index += 2
                continue
            out.append({"role": "assistant", "content": content})
        elif role == "tool":
            out.append({"role": "user", "content": content})
        else:
            out.append({"role": role, "content": content})
        index += 1
    return out


def _structured_turn(
    content: str, following: dict[str, Any], turn: int
) -> list[dict[str, Any]] | None:
    if following.get("role") != "tool":
        return None
    parsed = parse_action(content, max_chars=len(content) + 1)
    if parsed.error is not None or not parsed.tool_calls:
        return None
    observation = following.get("content") or ""
    blocks = _RESPONSE_BLOCK.findall(observation)
    if len(blocks) != len(parsed.tool_calls) or _RESPONSE_BLOCK.sub("", observation).strip():
        return None
    calls = [call.to_openai(f"call_{turn}_{i}") for i, call in enumerate(parsed.tool_calls)]
    assistant = {"role": "assistant", "content": parsed.text or None, "tool_calls": calls}
    results = [
        {"role": "tool", "tool_call_id": call["id"], "content": block}
        for call, block in zip(calls, blocks, strict=True)
    ]
    return [assistant, *results]


def _reply_text(content: str, tool_calls: list[Any]) -> str:
    """The reply as the env reads it: the content, then one ``<tool_call>`` tag per call."""
    parts = [content] if content.strip() else []
    for call in tool_calls:
        function = call["function"]
        name = function["name"]
        raw = function.get("arguments") or "{}"
        try:
            arguments = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            arguments = raw
        if isinstance(arguments, dict):
            parts.append(ToolCall(name=str(name), arguments=arguments).to_text())
        else:
            # Bad arguments are the model's mistake, not the server's: pass them on as written,
            # so the env tells the model what was wrong.
            body = json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)
            parts.append(f"<tool_call>{body}</tool_call>")
    return "\n".join(parts)


def api_root(base_url: str) -> str:
    """A server's ``/v1`` root: ``http://h:8000`` and ``http://h:8000/v1/`` give ``.../v1``."""
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"base_url must start with http:// or https://, got {base_url!r}")
    url = base_url.rstrip("/")
    return url if url.endswith("/v1") else url + "/v1"


def credentials(api_key: str | None) -> tuple[str | None, dict[str, str]]:
    """The bearer key and the headers that send it.

    The key is ``api_key``, else ``$OPENAI_API_KEY``; None (and no header) when both are unset.
    """
    key = (api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")) or None
    return key, {"Authorization": f"Bearer {key}"} if key else {}


def redact(message: str, key: str | None) -> str:
    """``message`` without ``key``: servers sometimes echo the credentials they rejected."""
    return message.replace(key, "***") if key else message


def _endpoint(base_url: str) -> str:
    url = base_url.rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    return api_root(url) + "/chat/completions"


def _retry_after(response: httpx.Response, default: float) -> float:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return default


def error_detail(response: httpx.Response) -> str:
    """The server's error message on one line (its JSON ``error.message``, else the body)."""
    try:
        error = response.json().get("error")
        detail = error.get("message") if isinstance(error, dict) else error
    except (ValueError, AttributeError):
        detail = None
    text = str(detail) if detail else response.text
    line = " ".join(text.split())
    return line[:200] + ("..." if len(line) > 200 else "") if line else "(empty body)"
