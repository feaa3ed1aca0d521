"""The client's retry policy and error mapping, with a scripted HTTP transport (no server)."""

from __future__ import annotations

import httpx
import pytest

from palaestra.errors import (
    ConfigError,
    EnvServerError,
    EnvStateError,
    ServerBusyError,
    SessionNotFoundError,
    TaskError,
)
from palaestra.server.transport import HttpTransport, raise_server_error


def scripted(*outcomes):
    """An HttpTransport whose requests meet ``outcomes`` in turn (an exception or a response)."""
    transport = HttpTransport("http://test", timeout=1, connect_timeout=1, retries=2)
    calls = []

    def handler(request):
        calls.append(request)
        outcome = outcomes[min(len(calls), len(outcomes)) - 1]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    transport._client = httpx.Client(base_url="http://test", transport=httpx.MockTransport(handler))
    return transport, calls


def test_calls_that_change_nothing_are_retried():
    transport, calls = scripted(
        httpx.ReadError("reset by peer"), httpx.Response(200, json={"text": "ok"})
    )
    assert transport.call("s1", "render", None, "render") == {"text": "ok"}
    assert len(calls) == 2


@pytest.mark.parametrize("op", ["step", "reset", "fork", "close"])
@pytest.mark.parametrize(
    "fault",
    [httpx.ReadError("reset by peer"), httpx.ConnectError("refused"), httpx.ReadTimeout("")],
)
def test_steps_resets_and_forks_are_never_retried(op, fault):
    transport, calls = scripted(fault, httpx.Response(200, json={}))
    with pytest.raises(EnvServerError, match="step 4 of session s1"):
        transport.call("s1", op, {"action": "x"} if op == "step" else None, "step 4 of session s1")
    assert len(calls) == 1


def test_making_a_session_is_retried_only_when_nothing_was_sent():
    transport, calls = scripted(httpx.ConnectError("refused"), httpx.Response(201, json={"a": 1}))
    assert transport.request("POST", "/sessions", "create", retry="connect") == {"a": 1}
    assert len(calls) == 2
    transport, calls = scripted(httpx.ReadError("reset"), httpx.Response(201, json={"a": 1}))
    with pytest.raises(EnvServerError, match="connection to the env server"):
        transport.request("POST", "/sessions", "create", retry="connect")
    assert len(calls) == 1


def test_retries_give_up():
    transport, calls = scripted(httpx.ConnectError("refused"))
    with pytest.raises(EnvServerError, match="cannot reach the env server at http://test"):
        transport.request("GET", "/health", "health", retry="always")
    assert len(calls) == 3  # one try and two retries


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"type": "EnvStateError", "message": "m"}, EnvStateError),
        ({"type": "TaskError", "message": "m"}, TaskError),
        ({"type": "ConfigError", "message": "m"}, ConfigError),
        ({"type": "SessionNotFoundError", "message": "m"}, SessionNotFoundError),
        ({"type": "ServerBusyError", "message": "m"}, ServerBusyError),
        ({"type": "ValidationError", "message": "m"}, EnvServerError),
        ({"type": "InternalError", "message": "m"}, EnvServerError),
        ("a plain-text error body: m", EnvServerError),
    ],
)
def test_error_bodies_map_to_palaestra_exceptions(body, kind):
    with pytest.raises(kind, match="m") as raised:
        raise_server_error(body, "step 1 of session s")
    assert type(raised.value) is kind


def test_a_non_json_error_response_is_still_clear():
    transport, _ = scripted(httpx.Response(502, text="Bad Gateway"))
    with pytest.raises(EnvServerError, match="Bad Gateway"):
        transport.call("s1", "step", {"action": "x"}, "step 1")
