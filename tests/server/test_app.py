"""The HTTP and WebSocket API: routes, status codes, error bodies, TTL, shutdown."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from palaestra.errors import EnvServerError
from palaestra.server import RemoteEnv, SessionManager
from palaestra.server.runner import BackgroundServer


@pytest.fixture
def http(server):
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield client
    server.manager.close_all()


def new_session(http, env_id="ToolUse-v0", **kwargs):
    response = http.post("/sessions", json={"env_id": env_id, "kwargs": kwargs})
    assert response.status_code == 201, response.text
    return response.json()["session_id"]


def ws_url(server, session):
    return f"ws://{server.host}:{server.port}/sessions/{session}/ws"


def assert_error(response, status, kind, match):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"type", "message"}
    assert body["type"] == kind
    assert match in body["message"]
    assert "Traceback" not in response.text


def test_health_and_envs(http):
    assert http.get("/health").json() == {
        "status": "ok",
        "sessions": 0,
        "max_sessions": 256,
        "ttl_s": 600.0,
        "grace_s": 30.0,
    }
    envs = {env["id"]: env for env in http.get("/envs").json()["envs"]}
    assert set(envs) == {
        "ToolUse-v0",
        "CodeInterpreter-v0",
        "WebNav-v0",
        "MLE-v0",
        "ThoughtGraph-v0",
    }
    assert envs["ToolUse-v0"]["max_episode_steps"] == 16
    assert envs["CodeInterpreter-v0"]["observation_max_length"] == 65_536


def test_openapi_page(http):
    page = http.get("/docs")
    assert page.status_code == 200 and "swagger" in page.text.lower()
    schema = http.get("/openapi.json").json()
    assert {"/sessions", "/sessions/{session_id}/step", "/envs", "/health"} <= set(schema["paths"])
    step = schema["components"]["schemas"]["StepRequest"]
    assert step["additionalProperties"] is False and "action" in step["required"]


def test_a_whole_episode_over_http(http):
    session = new_session(http)
    reset = http.post(f"/sessions/{session}/reset", json={"seed": 0}).json()
    assert reset["observation"] and reset["info"]["max_turns"] == 16
    step = http.post(f"/sessions/{session}/step", json={"action": "<tool_call>{</tool_call>"})
    assert step.status_code == 200 and step.json()["info"]["error"]["type"] == "malformed_tool_call"
    fork = http.post(f"/sessions/{session}/fork")
    assert fork.status_code == 201 and fork.json()["turn"] == 1
    done = http.post(f"/sessions/{session}/step", json={"action": "Done."}).json()
    assert done["terminated"] and "verdict" in done["info"]
    assert "[verdict]" in http.get(f"/sessions/{session}/render").json()["text"]
    assert http.delete(f"/sessions/{session}").status_code == 204
    assert http.get("/health").json()["sessions"] == 1  # the fork lives on
    assert_error(http.delete(f"/sessions/{session}"), 404, "SessionNotFoundError", session)


def test_error_statuses_and_bodies(http):
    assert_error(
        http.post("/sessions", json={"env_id": "Nope-v0"}), 404, "RegistrationError", "Nope-v0"
    )
    assert_error(
        http.post("/sessions", json={"env_id": "ToolUse-v0", "kwargs": {"colour": 1}}),
        422,
        "ConfigError",
        "colour",
    )
    assert_error(http.post("/sessions/missing/reset"), 404, "SessionNotFoundError", "missing")
    session = new_session(http)
    assert_error(
        http.post(f"/sessions/{session}/step", json={"action": "x"}), 409, "EnvStateError", "reset"
    )
    assert_error(
        http.post(f"/sessions/{session}/reset", json={"options": {"task_id": "nope"}}),
        422,
        "TaskError",
        "nope",
    )
    assert_error(http.get(f"/sessions/{session}/oracle"), 403, "ForbiddenError", "ground truth")
    assert_error(http.get("/no/such/route"), 404, "HTTPError", "Not Found")


@pytest.mark.parametrize(
    ("path", "body", "match"),
    [
        ("/sessions", {}, "env_id: Field required"),
        ("/sessions", {"env_id": "ToolUse-v0", "colour": 1}, "colour: Extra inputs"),
        ("/sessions", {"env_id": 7}, "env_id: Input should be a valid string"),
        ("/sessions/{session}/step", {}, "action: Field required"),
        ("/sessions/{session}/step", {"action": "x", "why": 1}, "why: Extra inputs"),
        ("/sessions/{session}/reset", {"seed": "3"}, "seed: Input should be a valid integer"),
        ("/sessions/{session}/reset", {"options": 3}, "options: Input should be a valid dict"),
        ("/sessions/{session}/reset", "{oops", "not valid JSON"),
    ],
)
def test_malformed_bodies_are_422_naming_the_field(http, path, body, match):
    session = new_session(http)
    url = path.format(session=session)
    if isinstance(body, str):
        response = http.post(url, content=body, headers={"content-type": "application/json"})
    else:
        response = http.post(url, json=body)
    assert_error(response, 422, "ValidationError", match)


def test_capacity_is_429():
    with BackgroundServer(max_sessions=2) as small, httpx.Client(base_url=small.base_url) as http:
        first = new_session(http)
        new_session(http)
        assert_error(
            http.post("/sessions", json={"env_id": "ToolUse-v0"}), 429, "ServerBusyError", "2"
        )
        http.post(f"/sessions/{first}/reset", json={"seed": 0})
        assert_error(http.post(f"/sessions/{first}/fork"), 429, "ServerBusyError", "maximum")
        http.delete(f"/sessions/{first}")
        new_session(http)


def test_idle_sessions_expire_after_the_ttl(clock):
    manager = SessionManager(["ToolUse-v0"], ttl_s=600, clock=clock)
    with (
        BackgroundServer(manager=manager) as short,
        httpx.Client(base_url=short.base_url) as http,
    ):
        kept, idle = new_session(http), new_session(http)
        for _ in range(3):  # keep one busy, let the other idle: 900 s in all
            clock.advance(300)
            http.post(f"/sessions/{kept}/reset", json={"seed": 0}).raise_for_status()
            manager.expire()  # what the server's sweeper calls; it may have run already
        assert_error(http.post(f"/sessions/{idle}/reset"), 404, "SessionNotFoundError", "expired")
        assert http.get("/health").json()["sessions"] == 1


def test_unexpected_failures_are_json_500s(http, server):
    session = new_session(http)
    http.post(f"/sessions/{session}/reset", json={"seed": 0})

    def broken(action):
        raise RuntimeError("disk on fire")

    server.manager._sessions[session].env.step = broken
    response = http.post(f"/sessions/{session}/step", json={"action": "x"})
    assert_error(response, 500, "InternalError", "RuntimeError: disk on fire")


def test_shutdown_closes_every_session_and_its_sandbox(host_processes_of):
    server = BackgroundServer(privileged=True).start()
    http = httpx.Client(base_url=server.base_url, timeout=60)
    session = new_session(http, "CodeInterpreter-v0", family="math")
    http.post(f"/sessions/{session}/reset", json={"seed": 0}).raise_for_status()
    code = "import subprocess\nsubprocess.Popen(['sleep', '1000'], start_new_session=True)"
    action = f"```python\n{code}\n```"
    http.post(f"/sessions/{session}/step", json={"action": action}).raise_for_status()
    env = server.manager._sessions[session].env
    container = env.sandbox._container
    uid = container.uid.uid if container.uid else None
    http.close()
    # A client mid-episode on a WebSocket when the server goes down.
    remote = RemoteEnv(server.base_url, "ToolUse-v0", timeout=5)
    remote.reset(seed=0)
    if uid is None:
        server.stop()
        pytest.skip("no dedicated sandbox uid on this machine (not root)")
    assert host_processes_of(uid), "the sandbox should be running"
    started = time.monotonic()
    server.stop()
    # A bound a loaded machine meets (the sandbox teardown is in it); a hang would miss it.
    assert time.monotonic() - started < 30, "open WebSockets must not hold up the shutdown"
    assert len(server.manager) == 0
    assert host_processes_of(uid) == [], "no sandbox process may outlive the server"
    with pytest.raises(EnvServerError, match=f"step 1 of session {remote.session_id}"):
        remote.step("hello")
    remote.close()


# ------------------------------------------------------------------------------ WebSocket
def ask(socket, message):
    socket.send(message if isinstance(message, str) else json.dumps(message))
    return json.loads(socket.recv(timeout=10))


def test_websocket_session(http, server):
    session = new_session(http)
    with connect(ws_url(server, session), compression=None) as socket:
        assert "observation" in ask(socket, {"op": "reset", "seed": 1})["result"]
        step = ask(socket, {"op": "step", "action": "<tool_call>{</tool_call>"})["result"]
        assert step["info"]["turn"] == 1
        # Bad messages get error replies; the connection and the session stay usable.
        error = ask(socket, "{not json")["error"]
        assert error["type"] == "ValidationError" and "not valid JSON" in error["message"]
        error = ask(socket, {"op": "step"})["error"]
        assert "step.action: Field required" in error["message"]
        error = ask(socket, {"op": "warp"})["error"]
        assert '"op": "warp"' in error["message"]
        socket.send(json.dumps({"op": "step", "action": "hi"}).encode())  # binary frames too
        assert json.loads(socket.recv(timeout=10))["result"]["terminated"]
        error = ask(socket, {"op": "step", "action": "again"})["error"]
        assert error == {
            "type": "EnvStateError",
            "message": "the episode has ended; call reset() to start a new one",
            "status": 409,
        }
        assert ask(socket, {"op": "reset"})["result"]["info"]["task_id"]


def test_one_websocket_per_session_and_closing_it_closes_the_session(http, server, wait_until):
    session = new_session(http)
    with connect(ws_url(server, session), compression=None) as socket:
        ask(socket, {"op": "reset", "seed": 0})
        with connect(ws_url(server, session), compression=None) as second:
            error = json.loads(second.recv(timeout=10))["error"]
            assert error["type"] == "SessionInUseError" and error["status"] == 409
        assert ask(socket, {"op": "render"})["result"]["text"]  # the first is unaffected
    wait_until(lambda: session not in server.manager.session_ids(), "closing it closes the session")


def test_websocket_to_an_unknown_session(server):
    with connect(ws_url(server, "missing"), compression=None) as socket:
        error = json.loads(socket.recv(timeout=10))["error"]
    assert error["type"] == "SessionNotFoundError" and "missing" in error["message"]


def test_a_resuming_websocket_takes_the_session_over(http, server, wait_until):
    session = new_session(http)
    with connect(ws_url(server, session), compression=None) as first:
        assert ask(first, {"op": "reset", "seed": 0, "id": 1})["id"] == 1
        with connect(f"{ws_url(server, session)}?resume=1", compression=None) as second:
            assert json.loads(second.recv(timeout=10)) == {"resumed": session}
            with pytest.raises(ConnectionClosed) as closed:  # the replaced one is closed
                first.recv(timeout=10)
            assert closed.value.rcvd.code == 1001
            # The kept reply for a repeated id; the next id runs.
            assert ask(second, {"op": "reset", "seed": 0, "id": 1})["id"] == 1
            step = ask(second, {"op": "step", "action": "<tool_call>{</tool_call>", "id": 2})
            assert step["result"]["info"]["turn"] == 1
        wait_until(lambda: session not in server.manager.session_ids(), "a goodbye closes it")
    with connect(f"{ws_url(server, session)}?resume=1", compression=None) as late:
        error = json.loads(late.recv(timeout=10))["error"]
    assert error["type"] == "SessionNotFoundError" and session in error["message"]
