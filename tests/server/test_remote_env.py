"""`RemoteEnv`: the local semantics over the wire, error mapping, network faults, concurrency."""

from __future__ import annotations

import json
import signal
import threading
import time

import gymnasium as gym
import pytest

import palaestra
from palaestra.core.spaces import UnicodeText
from palaestra.core.types import ToolCall
from palaestra.errors import (
    ConfigError,
    EnvServerError,
    EnvStateError,
    ForbiddenError,
    RegistrationError,
    SessionNotFoundError,
    TaskError,
)
from palaestra.server import RemoteEnv, SessionManager
from palaestra.server.runner import BackgroundServer, footprint

TRANSPORTS = ["websocket", "http"]
NEVER_HANGS_S = 30
"""Bound on calls that fail fast: far above any real answer, so only a hang can miss it."""


class Gizmo:
    def __repr__(self):
        return "Gizmo()"


def actions_for(env_id, gold):
    """Gold actions in every accepted form, with agent mistakes in between."""
    if env_id == "ToolUse-v0":
        first = json.loads(gold[0].removeprefix("<tool_call>").removesuffix("</tool_call>"))
        call = ToolCall(**first)
        forms = [
            call,  # a ToolCall object
            call.to_openai("c1"),  # an OpenAI tool-call dict
            {"role": "assistant", "content": "", "tool_calls": [call.to_openai("c2")]},
            [call, call.model_dump()],  # a list of calls
        ]
    else:
        forms = []
    mistakes = [
        "",
        "<tool_call>{oops</tool_call>",
        7,
        None,
        {"name": 3},
        ["x"],
        Gizmo(),
        "a lone surrogate \ud800 cannot be UTF-8",
        "x" * 100_000,
    ]
    return [*mistakes[:4], *forms, *mistakes[4:], *gold]


def transcript(env, seed, actions=None):
    obs, info = env.reset(seed=seed)
    steps = [(obs, json.dumps(info, sort_keys=True))]
    actions = actions if actions is not None else actions_for(env.spec.id, oracle(env))
    for action in actions:
        obs, reward, terminated, truncated, info = env.step(action)
        stable = {k: v for k, v in info.items() if not k.endswith("_seconds")}
        steps.append((obs, reward, terminated, truncated, json.dumps(stable, sort_keys=True)))
        if terminated or truncated:
            break
    return steps, env.unwrapped.render()


def oracle(env):
    return env.unwrapped.oracle_actions()


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("env_id", ["ToolUse-v0", "CodeInterpreter-v0"])
def test_remote_and_local_transcripts_are_identical(privileged_server, env_id, transport):
    for seed in (0, 1, 7):
        local = gym.make(env_id, max_turns=30)
        local.reset(seed=seed)
        actions = actions_for(env_id, oracle(local))
        remote = gym.make(
            env_id, remote=privileged_server.base_url, transport=transport, max_turns=30
        )
        try:
            assert transcript(remote, seed, actions) == transcript(local, seed, actions)
        finally:
            remote.close()
            local.close()


def test_gym_make_remote_mirrors_the_local_env(server):
    local = gym.make("ToolUse-v0")
    remote = gym.make("palaestra:ToolUse-v0", remote=server.base_url)
    assert isinstance(remote.unwrapped, RemoteEnv)
    assert remote.observation_space == local.observation_space
    assert remote.action_space == local.action_space
    assert isinstance(remote.action_space, UnicodeText)
    assert remote.spec.max_episode_steps == remote.unwrapped.max_turns == 16
    assert remote.reset(seed=4) == local.reset(seed=4)
    remote.close()
    remote.close()  # closing twice is fine
    with pytest.raises(EnvStateError, match="closed"):
        remote.unwrapped.step("hello")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_server_errors_come_back_as_palaestra_errors(server, transport):
    with pytest.raises(RegistrationError, match="Nope-v0"):
        RemoteEnv(server.base_url, "Nope-v0", transport=transport)
    with pytest.raises(ConfigError, match="colour"):
        RemoteEnv(server.base_url, "ToolUse-v0", transport=transport, colour="red")
    env = RemoteEnv(server.base_url, "ToolUse-v0", transport=transport)
    try:
        with pytest.raises(EnvStateError, match="reset"):
            env.step("hello")
        with pytest.raises(TaskError, match="nope"):
            env.reset(options={"task_id": "nope"})
        with pytest.raises(ConfigError, match="unknown reset option"):
            env.reset(options={"tsak_id": "x"})
        env.reset(seed=0)
        # Ground truth is not reachable on a default server.
        with pytest.raises(ForbiddenError, match="ground truth"):
            env.oracle_actions()
        env.step("I give up.")
        with pytest.raises(EnvStateError, match="episode has ended"):
            env.step("again")
        obs, info = env.reset(seed=1)  # still usable after every error
        assert obs and info["task_id"]
    finally:
        env.close()
    assert len(server.manager) == 0


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_fork_makes_an_independent_session(privileged_server, transport):
    env = gym.make("ToolUse-v0", remote=privileged_server.base_url, transport=transport)
    for seed in range(40):  # a task the oracle needs three turns or more for
        env.reset(seed=seed)
        if len(gold := oracle(env)) >= 3:
            break
    env.step(gold[0])
    branch = palaestra.fork(env)
    try:
        assert branch.unwrapped.session_id != env.unwrapped.session_id
        assert branch.unwrapped.transport == transport
        assert branch._elapsed_steps == env._elapsed_steps == 1
        assert branch.unwrapped.render() == env.unwrapped.render()
        *_, info = branch.step("I cannot do this.")
        assert info["success"] is False
        for action in gold[1:]:
            *_, info = env.step(action)
        assert info["success"] is True
    finally:
        branch.close()
        env.close()


def test_session_expiry_is_a_clear_error(clock):
    manager = SessionManager(["ToolUse-v0"], ttl_s=60, clock=clock)
    with BackgroundServer(manager=manager) as short:
        env = RemoteEnv(short.base_url, "ToolUse-v0")
        env.reset(seed=0)
        clock.advance(61)
        assert manager.expire() == 1
        with pytest.raises(SessionNotFoundError, match=rf"{env.session_id}.*expired after 60 s"):
            env.step("hello")
        env.close()


def test_no_server_is_a_quick_clear_error(free_port):
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(EnvServerError, match="cannot reach the env server"):
        RemoteEnv(url, "ToolUse-v0", retries=1, connect_timeout=1)
    assert time.monotonic() - started < NEVER_HANGS_S  # refused at once; no timeout to wait out


def test_bad_client_options_are_config_errors(server):
    with pytest.raises(ConfigError, match="base_url"):
        RemoteEnv("127.0.0.1:8000", "ToolUse-v0")
    with pytest.raises(ConfigError, match="transport"):
        RemoteEnv(server.base_url, "ToolUse-v0", transport="pigeon")
    with pytest.raises(ConfigError, match="timeouts"):
        RemoteEnv(server.base_url, "ToolUse-v0", timeout=0)
    with pytest.raises(ConfigError, match="retries"):
        RemoteEnv(server.base_url, "ToolUse-v0", retries=-1)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_killed_server_mid_episode_is_an_env_server_error(transport, server_process):
    with server_process() as (process, base_url):
        env = RemoteEnv(base_url, "ToolUse-v0", transport=transport, timeout=5, retries=0)
        env.reset(seed=0)
        env.step("<tool_call>{oops</tool_call>")
        env.step("<tool_call>{oops</tool_call>")
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        started = time.monotonic()
        with pytest.raises(EnvServerError, match=rf"step 3 of session {env.session_id}"):
            env.step("<tool_call>{oops</tool_call>")
        assert time.monotonic() - started < NEVER_HANGS_S  # refused at once: no 5 s timeout
        env.close()  # closing after the server died is quiet


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_hung_server_times_out_instead_of_hanging(transport, server_process):
    with server_process() as (process, base_url):
        env = RemoteEnv(base_url, "ToolUse-v0", transport=transport, timeout=1.0, retries=0)
        env.reset(seed=0)
        process.send_signal(signal.SIGSTOP)
        try:
            started = time.monotonic()
            with pytest.raises(EnvServerError, match=r"step 1 of session .*did not answer"):
                env.step("<tool_call>{oops</tool_call>")
            assert time.monotonic() - started < NEVER_HANGS_S, "the timeout is 1 s"
            with pytest.raises(EnvServerError, match="did not answer"):  # still hung: no hang
                env.step("hello")
        finally:
            process.send_signal(signal.SIGCONT)
        env.close()


def test_serve_command_serves_the_chosen_envs(server_process):
    import httpx

    options = ("--env", "ToolUse-v0", "--max-sessions", "3", "--grace", "7")
    with server_process(*options) as (process, base_url):
        envs = httpx.get(f"{base_url}/envs").json()["envs"]
        assert [env["id"] for env in envs] == ["ToolUse-v0"]
        health = httpx.get(f"{base_url}/health").json()
        assert health["max_sessions"] == 3 and health["grace_s"] == 7.0
        process.send_signal(signal.SIGTERM)  # a graceful shutdown, then the signal's status
        assert process.wait(15) in (0, -signal.SIGTERM)


def in_threads(worker, count):
    """``worker(index)`` for each index in its own thread, all at once; returns when all ended."""
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)


def test_64_concurrent_sessions_200_steps_each(server_process, child_processes):
    import httpx

    sessions, steps = 64, 200
    baseline_threads = threading.active_count()
    with server_process("--privileged") as (process, base_url):
        errors, done = [], []

        def worker(index):
            try:
                env = gym.make("ToolUse-v0", remote=base_url)
                try:
                    taken, episode = 0, 0
                    while taken < steps:
                        env.reset(seed=index * 1000 + episode)
                        for action in oracle(env):
                            *_, terminated, truncated, info = env.step(action)
                            taken += 1
                            if terminated or truncated or taken == steps:
                                break
                        if terminated and not info["success"]:
                            errors.append(f"session {index}: oracle failed: {info['verdict']}")
                        episode += 1
                    done.append(taken)
                finally:
                    env.close()
            except Exception as exc:
                errors.append(f"session {index}: {exc!r}")

        in_threads(worker, sessions)
        assert errors == []
        assert done == [steps] * sessions
        assert httpx.get(f"{base_url}/health").json()["sessions"] == 0, "sessions leaked"
    deadline = time.monotonic() + NEVER_HANGS_S  # a poll: ends once the threads are gone
    while threading.active_count() > baseline_threads and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= baseline_threads, "client threads leaked"
    assert child_processes() == [], "no process may be left behind"


def test_remote_make_vec_async_closes_its_sessions(server, child_processes):
    envs = gym.make_vec(
        "ToolUse-v0", num_envs=2, vectorization_mode="async", remote=server.base_url
    )
    try:
        obs, infos = envs.reset(seed=[0, 1])
        assert len(set(infos["task_id"])) == 2
        assert len(server.manager) == 2
    finally:
        envs.close()
    assert len(server.manager) == 0
    assert child_processes() == [], "the vector env's workers are gone"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_slow_step_does_not_block_other_sessions(server, transport):
    slow = RemoteEnv(server.base_url, "CodeInterpreter-v0", transport=transport, family="math")
    fast = RemoteEnv(server.base_url, "ToolUse-v0", transport=transport, max_turns=50)
    running = None
    try:
        slow.reset(seed=0)
        fast.reset(seed=0)
        running = threading.Thread(
            target=slow.step, args=("```python\nimport time\ntime.sleep(8)\n```",)
        )
        running.start()
        time.sleep(0.3)  # the slow step is running on the server
        for _ in range(20):
            fast.step("<tool_call>{oops</tool_call>")
        # Not a time limit: the fast session's 20 steps were served while the slow one ran.
        assert running.is_alive(), "the fast steps waited for the slow step"
    finally:
        if running is not None:
            running.join(10)
        slow.close()
        fast.close()


def run_sessions(base_url, sessions, steps):
    """``sessions`` RemoteEnvs stepping at once, one thread each; returns the errors."""
    errors, go = [], threading.Barrier(sessions)

    def worker(index):
        try:
            env = RemoteEnv(base_url, "ToolUse-v0", max_turns=10**6, timeout=NEVER_HANGS_S * 4)
            try:
                env.reset(seed=index)
                go.wait(NEVER_HANGS_S * 4)  # all sessions open at once, then all stepping
                for turn in range(1, steps + 1):
                    *_, info = env.step("<tool_call>{oops</tool_call>")
                    if info["turn"] != turn:
                        errors.append(f"session {index}: turn {info['turn']}, not {turn}")
            finally:
                env.close()
        except Exception as exc:
            errors.append(f"session {index}: {exc!r}")

    in_threads(worker, sessions)
    return errors


def test_256_concurrent_sessions_leak_nothing(server_process, wait_until):
    import httpx

    mine = footprint()
    with server_process("--env", "ToolUse-v0") as (process, base_url):
        started = footprint(process.pid)
        assert run_sessions(base_url, 256, 20) == []
        assert httpx.get(f"{base_url}/health").json()["sessions"] == 0, "sessions leaked"
        # At most as many as at the start (when the startup probe's socket may still be open).
        wait_until(lambda: footprint(process.pid)["fds"] <= started["fds"], "server fds closed")
        after = footprint(process.pid)
        # Idle threads of the two pools (64 step workers, Starlette's 40) may stay; one thread
        # left per session would be 256 more.
        assert after["threads"] <= started["threads"] + 64 + 40, after
        assert after["children"] == 0

    def nothing_added():  # (in-thread servers of other tests may shed idle pool threads)
        now = footprint()
        return all(now[key] <= mine[key] for key in mine)

    wait_until(nothing_added, f"client fds, threads and children back to {mine}")
