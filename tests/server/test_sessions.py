"""`SessionManager` without HTTP: lifecycle, errors, capacity, TTL, WebSocket messages."""

from __future__ import annotations

import json
import threading
import time

import gymnasium as gym
import pytest

from palaestra.errors import (
    ConfigError,
    EnvStateError,
    ForbiddenError,
    RegistrationError,
    ServerBusyError,
    SessionInUseError,
    SessionNotFoundError,
    TaskError,
)
from palaestra.server.sessions import SessionManager


@pytest.fixture
def manager():
    made = SessionManager(["ToolUse-v0"], max_sessions=4, ttl_s=60)
    yield made
    made.close_all()


def test_lifecycle_matches_a_local_env(manager):
    local = gym.make("ToolUse-v0").unwrapped
    session = manager.create("ToolUse-v0").session_id
    assert manager.reset(session, seed=3) == local.reset(seed=3)
    action = local.oracle_actions()[0]
    assert manager.step(session, action) == local.step(action)
    assert manager.render(session) == local.render()
    branch = manager.fork(session).session_id
    assert manager.render(branch) == manager.render(session)
    manager.step(branch, "I give up.")
    assert manager.render(branch) != manager.render(session)
    manager.close(session)
    manager.close(branch)
    assert len(manager) == 0
    with pytest.raises(SessionNotFoundError, match=session):
        manager.step(session, "hello")


def test_env_list_reports_limits():
    manager = SessionManager(["palaestra:ToolUse-v0"])
    [info] = manager.envs()
    assert info.id == "ToolUse-v0" and info.max_episode_steps == 16
    assert info.observation_max_length > 0 and info.action_max_length > 0


def test_env_errors_keep_their_palaestra_types(manager):
    with pytest.raises(RegistrationError, match="CodeInterpreter-v0"):
        manager.create("CodeInterpreter-v0")  # registered, but not served here
    with pytest.raises(RegistrationError, match="Nope-v0"):
        manager.create("Nope-v0")
    with pytest.raises(ConfigError, match="does not accept these arguments.*colour"):
        manager.create("ToolUse-v0", {"colour": "red"})
    with pytest.raises(ConfigError, match="max_turns"):
        manager.create("ToolUse-v0", {"max_turns": -1})
    assert len(manager) == 0, "a failed create holds no slot"
    session = manager.create("ToolUse-v0").session_id
    with pytest.raises(EnvStateError, match="reset"):
        manager.step(session, "hello")
    with pytest.raises(TaskError):
        manager.reset(session, options={"task_id": "no-such-task"})
    with pytest.raises(ConfigError, match="unknown reset option"):
        manager.reset(session, options={"tsak_id": "x"})


def test_capacity_is_a_distinct_error(manager):
    sessions = [manager.create("ToolUse-v0").session_id for _ in range(3)]
    manager.reset(sessions[0], seed=0)
    manager.fork(sessions[0])  # forks count too
    with pytest.raises(ServerBusyError, match="maximum of 4 sessions"):
        manager.create("ToolUse-v0")
    with pytest.raises(ServerBusyError):
        manager.fork(sessions[0])
    manager.close(sessions[1])
    manager.create("ToolUse-v0")


def test_idle_sessions_expire_but_busy_ones_do_not():
    manager = SessionManager(["ToolUse-v0"], ttl_s=0.05)
    idle = manager.create("ToolUse-v0").session_id
    busy = manager.create("ToolUse-v0").session_id
    session = manager._sessions[busy]
    with session.lock:  # a step in progress
        time.sleep(0.1)
        assert manager.expire() == 1
    assert manager.session_ids() == [busy]
    with pytest.raises(SessionNotFoundError, match="expired after 0.05 s idle"):
        manager.reset(idle)
    manager.reset(busy)  # using a session keeps it alive
    assert manager.expire() == 0
    manager.close_all()


def test_oracle_needs_a_privileged_manager(manager):
    session = manager.create("ToolUse-v0").session_id
    manager.reset(session, seed=0)
    with pytest.raises(ForbiddenError, match="privileged"):
        manager.oracle_actions(session)
    privileged = SessionManager(["ToolUse-v0"], privileged=True)
    other = privileged.create("ToolUse-v0").session_id
    privileged.reset(other, seed=0)
    assert privileged.oracle_actions(other)[0].startswith("<tool_call>")
    privileged.close_all()


def test_bad_configuration_is_refused():
    with pytest.raises(ConfigError, match="max_sessions"):
        SessionManager(max_sessions=0)
    with pytest.raises(ConfigError, match="ttl_s"):
        SessionManager(ttl_s=0)
    with pytest.raises(ConfigError, match="grace_s"):
        SessionManager(grace_s=-1)
    with pytest.raises(RegistrationError, match="Nope-v0"):
        SessionManager(["Nope-v0"])


def test_one_session_steps_one_call_at_a_time(manager):
    session = manager.create("ToolUse-v0", {"max_turns": 1000}).session_id
    manager.reset(session, seed=1)
    turns, errors = [], []

    def worker():
        try:
            for _ in range(50):
                turns.append(manager.step(session, "<tool_call>{bad</tool_call>")[4]["turn"])
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(turns) == list(range(1, 401))


def reply(manager, session, message):
    text = message if isinstance(message, str) else json.dumps(message)
    return json.loads(manager.handle_message(session, text))


def test_websocket_messages(manager):
    session = manager.create("ToolUse-v0").session_id
    result = reply(manager, session, {"op": "reset", "seed": 2})["result"]
    assert result["observation"] and result["info"]["task_id"]
    step = reply(manager, session, {"op": "step", "action": "<tool_call>{</tool_call>"})["result"]
    assert step["info"]["error"]["type"] == "malformed_tool_call" and step["reward"] == 0.0
    step = reply(manager, session, {"op": "step", "action": {"name": 3}})["result"]
    assert step["info"]["error"] is not None
    assert reply(manager, session, {"op": "render"})["result"]["text"]
    fork = reply(manager, session, {"op": "fork"})["result"]
    assert fork["session_id"] != session and fork["turn"] == 2
    assert reply(manager, session, {"op": "close"})["result"] == {"closed": True}
    assert manager.session_ids() == [fork["session_id"]]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("{not json", "not valid JSON"),
        ('"step"', "op"),
        ({"op": "dance"}, "dance"),
        ({"op": "step"}, "step.action: Field required"),
        ({"op": "step", "action": "x", "extra": 1}, "extra: Extra inputs are not permitted"),
        ({"op": "reset", "seed": "seven"}, "reset.seed"),
        ({"op": "reset", "options": [1]}, "reset.options"),
    ],
)
def test_bad_websocket_messages_get_validation_errors(manager, message, expected):
    session = manager.create("ToolUse-v0").session_id
    error = reply(manager, session, message)["error"]
    assert error["type"] == "ValidationError" and error["status"] == 422
    assert expected in error["message"]
    # The session is untouched and still usable.
    assert "result" in reply(manager, session, {"op": "reset", "seed": 0})


def test_websocket_errors_carry_type_message_and_status(manager):
    session = manager.create("ToolUse-v0").session_id
    error = reply(manager, session, {"op": "step", "action": "hi"})["error"]
    assert error == {
        "type": "EnvStateError",
        "message": "call reset() before step()",
        "status": 409,
    }
    error = reply(manager, "nope", {"op": "render"})["error"]
    assert error["type"] == "SessionNotFoundError" and error["status"] == 404
    error = reply(manager, session, {"op": "oracle"})["error"]
    assert error["type"] == "ForbiddenError" and error["status"] == 403


def test_unexpected_env_failures_become_internal_errors(manager):
    session = manager.create("ToolUse-v0").session_id
    manager.reset(session, seed=0)

    def broken(action):
        raise RuntimeError("disk on fire")

    manager._sessions[session].env.step = broken
    error = reply(manager, session, {"op": "step", "action": "x"})["error"]
    assert error == {
        "type": "InternalError",
        "message": "RuntimeError: disk on fire",
        "status": 500,
    }


def test_opaque_actions_get_the_local_error():
    from palaestra.server.client import encode_action

    class Gizmo:
        def __repr__(self):
            return "<gizmo>"

    manager = SessionManager(["ToolUse-v0"])
    session = manager.create("ToolUse-v0").session_id
    manager.reset(session, seed=0)
    local = gym.make("ToolUse-v0").unwrapped
    local.reset(seed=0)
    remote = reply(manager, session, {"op": "step", **encode_action(Gizmo())})["result"]
    obs, *_ = local.step(Gizmo())
    assert remote["observation"] == obs and "not Gizmo" in obs
    assert "<gizmo>" in manager.render(session)
    manager.close_all()


def test_close_all_closes_every_env(manager):
    closed = []
    for _ in range(3):
        session = manager.create("ToolUse-v0").session_id
        env = manager._sessions[session].env
        env.close = lambda env=env: closed.append(env)
    manager.close_all()
    assert len(closed) == 3 and len(manager) == 0


# ------------------------------------------------------------------ connections, grace, resume
def test_a_cut_session_waits_the_grace_period_then_is_reaped(clock):
    manager = SessionManager(["ToolUse-v0"], ttl_s=600, grace_s=30, clock=clock)
    cut, resumed = (manager.create("ToolUse-v0").session_id for _ in range(2))
    for session in (cut, resumed):
        socket = object()
        manager.attach(session, socket)
        manager.detach(session, socket)  # cut: no goodbye
    clock.advance(29)
    assert manager.expire() == 0, "within the grace period"
    assert manager.attach(resumed, object(), resume=True) is None  # the old one is gone
    clock.advance(2)
    assert manager.expire() == 1
    assert manager.session_ids() == [resumed], "the resumed session is not reaped"
    with pytest.raises(SessionNotFoundError, match=rf"{cut}.*30 s after its connection dropped"):
        manager.reset(cut)
    clock.advance(600)  # the idle TTL still applies to a connected session
    assert manager.expire() == 1 and len(manager) == 0


def test_a_goodbye_closes_at_once_and_a_replaced_connection_changes_nothing(manager):
    session = manager.create("ToolUse-v0").session_id
    first, second = object(), object()
    manager.attach(session, first)
    with pytest.raises(SessionInUseError, match="already has a WebSocket"):
        manager.attach(session, second)
    assert manager.attach(session, second, resume=True) is first, "replaced, to be closed"
    manager.detach(session, first, close=True)  # the replaced one ends: the session lives on
    assert manager.session_ids() == [session]
    assert manager._sessions[session].dropped_at is None
    manager.detach(session, second, close=True)  # its client said goodbye
    assert len(manager) == 0


def test_each_request_id_runs_once(manager):
    session = manager.create("ToolUse-v0", {"max_turns": 50}).session_id
    reply(manager, session, {"op": "reset", "seed": 0, "id": 1})
    step = {"op": "step", "action": "<tool_call>{bad</tool_call>", "id": 2}
    first = reply(manager, session, step)
    assert first["id"] == 2 and first["result"]["info"]["turn"] == 1
    assert reply(manager, session, step) == first, "a resent request gets the kept reply"
    assert reply(manager, session, {**step, "id": 3})["result"]["info"]["turn"] == 2
    stale = reply(manager, session, {**step, "id": 2})
    assert stale["id"] == 2 and "older than the last one" in stale["error"]["message"]
    assert reply(manager, session, {"op": "render", "id": 4})["result"]["text"]
    assert reply(manager, session, {"op": "step", "action": "x", "id": -1})["error"]["message"] == (
        "id: a request id is a non-negative integer, got -1"
    )
    assert "id" not in reply(manager, session, {"op": "render"}), "no id, none in the reply"
