"""Remote sessions under real faults on loopback: late replies, cut connections, killed clients.

Faults are injected for real: a server step held back until the client gave up, a TCP proxy that
resets the connections it carries, a client process killed with SIGKILL. No test waits on a
deadline that a loaded machine could miss: the client's own timeout is the only short one, and it
fires while the server is held, so it always fires.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import gymnasium as gym
import pytest

from palaestra.errors import EnvServerError, SessionNotFoundError
from palaestra.server import RemoteEnv, SessionManager
from palaestra.server.runner import BackgroundServer

BAD = "<tool_call>{oops</tool_call>"


def hold_next_step(manager, session_id):
    """The session's next step waits on the server until released; returns (entered, release)."""
    env = manager._sessions[session_id].env
    inner = env.step
    entered, release = threading.Event(), threading.Event()

    def step(action):
        if not release.is_set():
            entered.set()
            release.wait(120)
        return inner(action)

    env.step = step
    return entered, release


def record_close(manager, session_id):
    """A list that gets the session id when the session's env is closed."""
    env, closed = manager._sessions[session_id].env, []
    inner = env.close

    def close():
        closed.append(session_id)
        inner()

    env.close = close
    return closed


def stable(step):
    obs, reward, terminated, truncated, info = step
    kept = {key: value for key, value in info.items() if not key.endswith("_seconds")}
    return obs, reward, terminated, truncated, kept


def twins(base_url, seed=3, **options):
    """A RemoteEnv and a local env on the same task, reset, with the task's first gold call."""
    remote = RemoteEnv(base_url, "ToolUse-v0", max_turns=50, **options)
    local = gym.make("ToolUse-v0", max_turns=50).unwrapped
    assert remote.reset(seed=seed) == local.reset(seed=seed)
    return remote, local, local.oracle_actions()[0]


def test_a_late_reply_is_dropped_and_the_next_call_gets_its_own(server):
    remote, local, gold = twins(server.base_url, timeout=1.0)
    try:
        entered, release = hold_next_step(server.manager, remote.session_id)
        with pytest.raises(EnvServerError, match=rf"step 1 of session {remote.session_id}.*1 s"):
            remote.step(BAD)
        assert entered.is_set()
        release.set()  # the reply to step 1 now comes, late
        local.step(BAD)  # the server did run it
        assert stable(remote.step(gold)) == stable(local.step(gold))
        assert stable(remote.step(BAD)) == stable(local.step(BAD))
        assert remote.render() == local.render()
    finally:
        remote.close()


def test_a_cut_websocket_is_resumed_in_the_same_episode(server, fault_proxy):
    proxy = fault_proxy(server)
    remote, local, gold = twins(proxy.base_url, retries=0)
    try:
        assert stable(remote.step(BAD)) == stable(local.step(BAD))
        connections = proxy.accepted
        proxy.cut()
        assert stable(remote.step(gold)) == stable(local.step(gold))  # turn 2 of the episode
        assert proxy.accepted == connections + 1, "one new connection, resuming"
        assert server.manager.session_ids() == [remote.session_id]
        proxy.cut()
        assert remote.render() == local.render()
    finally:
        remote.close()
    assert len(server.manager) == 0


def test_a_step_cut_off_in_flight_is_applied_exactly_once(server, fault_proxy):
    proxy = fault_proxy(server)
    remote, local, gold = twins(proxy.base_url)
    try:
        entered, release = hold_next_step(server.manager, remote.session_id)
        outcome = {}
        client = threading.Thread(target=lambda: outcome.update(step=remote.step(gold)))
        client.start()
        assert entered.wait(60), "the step reached the server"
        proxy.cut()  # the request was delivered; its reply can no longer be
        release.set()
        client.join(60)
        assert stable(outcome["step"]) == stable(local.step(gold))
        assert outcome["step"][4]["turn"] == 1, "resent on the new connection, run once"
        assert stable(remote.step(BAD)) == stable(local.step(BAD))
        assert remote.render() == local.render()
    finally:
        remote.close()


def test_a_session_reaped_after_its_grace_period_cannot_be_resumed(fault_proxy, clock, wait_until):
    manager = SessionManager(["ToolUse-v0"], grace_s=5.0, clock=clock)
    with BackgroundServer(manager=manager) as server:
        proxy = fault_proxy(server)
        remote = RemoteEnv(proxy.base_url, "ToolUse-v0", retries=0)
        session_id = remote.session_id
        remote.reset(seed=0)
        closed = record_close(manager, session_id)
        proxy.cut()
        session = manager._sessions[session_id]
        wait_until(lambda: session.dropped_at is not None, "the server saw the connection drop")
        clock.advance(4.0)
        manager.expire()
        assert manager.session_ids() == [session_id], "kept within the grace period"
        clock.advance(2.0)
        manager.expire()
        assert len(manager) == 0 and closed == [session_id], "reaped, its env closed"
        with pytest.raises(
            SessionNotFoundError,
            match=rf"step 1 of session {session_id}.*could not resume.*{session_id}.*dropped",
        ):
            remote.step(BAD)
        with pytest.raises(SessionNotFoundError, match=session_id):  # and again, no hang
            remote.reset(seed=0)
        remote.close()


def test_a_half_open_connection_is_found_by_keepalive_and_reaped(fault_proxy, clock, wait_until):
    manager = SessionManager(["ToolUse-v0"], grace_s=5.0, clock=clock)
    with BackgroundServer(manager=manager, ping_s=0.5) as server:
        proxy = fault_proxy(server)
        remote = RemoteEnv(proxy.base_url, "ToolUse-v0")
        remote.reset(seed=0)
        session = manager._sessions[remote.session_id]
        closed = record_close(manager, remote.session_id)
        proxy.freeze()  # the client is gone without a word: no FIN, no RST, no pong
        wait_until(lambda: session.dropped_at is not None, "the unanswered ping cut it")
        clock.advance(6.0)
        manager.expire()
        assert closed == [remote.session_id] and len(manager) == 0
        remote._socket.abort()  # (its own pings would find out in 40 s)


def test_a_closed_connection_closes_its_session_at_once(server, wait_until):
    # The contrast to the grace period (which is 30 s here): a client that says goodbye ends its
    # session now.
    remote = RemoteEnv(server.base_url, "ToolUse-v0")
    remote.reset(seed=0)
    closed = record_close(server.manager, remote.session_id)
    remote._socket.close()  # a closing handshake, without the close op
    wait_until(lambda: closed == [remote.session_id], "the session closed")
    assert len(server.manager) == 0


def test_a_killed_client_process_has_its_session_and_sandbox_reaped(host_processes_of, wait_until):
    manager = SessionManager(["CodeInterpreter-v0"], grace_s=1.0)
    with BackgroundServer(manager=manager) as server:
        code = textwrap.dedent(
            f"""
            import time
            from palaestra.server import RemoteEnv
            env = RemoteEnv({server.base_url!r}, "CodeInterpreter-v0", family="math")
            env.reset(seed=0)
            env.step("```python\\nimport subprocess\\n"
                     "subprocess.Popen(['sleep', '1000'], start_new_session=True)\\n```")
            print(env.session_id, flush=True)
            time.sleep(1000)
            """
        )
        path = {"PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        client = subprocess.Popen(
            [sys.executable, "-c", code],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, **path},
        )
        try:
            session_id = client.stdout.readline().strip()
            assert session_id in manager.session_ids(), "the client is mid-episode"
            closed = record_close(manager, session_id)
            container = manager._sessions[session_id].env.unwrapped.sandbox._container
            uid = container.uid.uid if container.uid else None
            if uid is not None:
                assert host_processes_of(uid), "the sandbox is running"
            client.send_signal(signal.SIGKILL)
            client.wait(30)
            wait_until(lambda: len(manager) == 0, "the session of the killed client is reaped")
            assert closed == [session_id], "its env was closed"
            if uid is not None:
                wait_until(lambda: host_processes_of(uid) == [], "the sandbox processes ended")
        finally:
            if client.poll() is None:
                client.kill()
                client.wait(30)
            client.stdout.close()
