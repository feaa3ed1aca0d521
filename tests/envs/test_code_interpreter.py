"""CodeInterpreter-v0: the oracle solves every family, code runs in one session, nothing leaks."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import palaestra
from palaestra.agents import NoopAgent, OracleAgent
from palaestra.core.types import ToolCall
from palaestra.envs.code_interpreter import CodeInterpreterEnv
from palaestra.errors import ConfigError, TaskError
from palaestra.rollout import collect, summarize

FAMILIES = ["math", "programming", "data"]


def code(source: str) -> str:
    return f"Let me run this.\n```python\n{source}\n```"


@pytest.fixture
def env():
    environment = CodeInterpreterEnv(family="data", timeout_s=2)
    yield environment
    environment.close()


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("split", ["train", "test"])
def test_oracle_solves_every_family(family, split):
    trajectories = collect(
        "CodeInterpreter-v0", OracleAgent, 10, seed=7, env_kwargs={"family": family, "split": split}
    )
    summary = summarize(trajectories)
    assert summary.success_rate == 1.0, [t.verdict for t in trajectories if not t.success]
    assert summary.failed_episodes == 0
    assert all(t.num_turns == 2 for t in trajectories)


def test_do_nothing_and_wrong_answers_score_zero():
    noop = summarize(collect("CodeInterpreter-v0", NoopAgent(), 12, seed=3))
    assert noop.success_rate == 0.0 and noop.mean_reward == 0.0
    for family, wrong in (
        ("math", "The answer is \\boxed{-987654321}."),
        ("data", "\\boxed{-987654321}"),
        ("programming", "<answer>\n```python\ndef f(*args):\n    return None\n```\n</answer>"),
    ):
        environment = gym.make("CodeInterpreter-v0", family=family)
        environment.reset(seed=5)
        *_, reward, terminated, _, info = environment.step(wrong)
        assert terminated and reward == 0.0 and info["success"] is False, (family, info["verdict"])
        environment.close()


def test_code_runs_in_one_persistent_session_with_the_task_files(env):
    obs, info = env.reset(seed=0)
    assert "python" in info["instructions"] and info["tools"][0]["function"]["name"] == "python"
    listing, *_ = env.step(code("import os\nfiles = sorted(os.listdir('.'))\nprint(files)"))
    for name in env._task.files:
        assert name in listing
    obs, *_ = env.step(code("len(files)"))
    assert f"[value] {len(env._task.files)}" in obs
    call = ToolCall(name="python", arguments={"code": "files[0]"}).to_text()
    obs, *_ = env.step(call)
    assert "[value]" in obs and "csv" in obs


def test_errors_timeouts_and_long_output_read_clearly(env):
    env.reset(seed=1)
    obs, _, _, _, info = env.step(code("1 / 0"))
    assert "ZeroDivisionError" in obs and info["error"] is None, "a traceback is feedback"
    obs, *_ = env.step(code("x = 3\nwhile True:\n    pass"))
    assert "interrupted" in obs and "kept its state" in obs
    obs, *_ = env.step(code("x"))
    assert "[value] 3" in obs
    obs, *_ = env.step(code("print('y' * 200_000)"))
    assert "output was too long" in obs and len(obs) < 70_000


def test_a_dead_session_is_restarted_and_the_episode_goes_on(env):
    env.reset(seed=2)
    env.step(code("secret = 42"))
    obs, _, terminated, _, _ = env.step(code("import os\nos._exit(1)"))
    assert "restarted" in obs and "state is lost" in obs and not terminated
    obs, *_ = env.step(code("import os\nsorted(os.listdir('.'))"))
    assert all(name in obs for name in env._task.files), "the task's files come back"
    for action in env.oracle_actions():
        *_, info = env.step(action)
    assert info["success"]


def test_fork_branches_share_the_interpreter_state(env):
    env.reset(seed=4)
    env.step(code("counter = 10\nopen('notes.txt', 'w').write('parent')"))
    branch = palaestra.fork(env)
    try:
        assert branch.sandbox is not env.sandbox
        obs, *_ = branch.step(code("counter += 1\nopen('notes.txt', 'w').write('branch')\ncounter"))
        assert "[value] 11" in obs
        obs, *_ = env.step(code("counter, open('notes.txt').read()"))
        assert "(10, 'parent')" in obs
        obs, *_ = branch.step(code("counter, open('notes.txt').read()"))
        assert "(11, 'branch')" in obs
    finally:
        branch.close()
    obs, *_ = env.step(code("counter"))
    assert "[value] 10" in obs, "closing the branch leaves the original alone"


def test_close_leaves_no_process_behind(host_processes_of):
    environment = CodeInterpreterEnv(family="math")
    environment.reset(seed=0)
    environment.step(
        code(
            "import subprocess\n"
            "subprocess.Popen(['sleep', '1000'], start_new_session=True)\n"
            "subprocess.Popen(['sh', '-c', 'while true; do sleep 1; done &'])"
        )
    )
    container = environment.sandbox._container
    uid = container.uid.uid if container.uid else None
    if uid is None:
        pytest.skip("no dedicated sandbox uid on this machine (not root)")
    assert len(host_processes_of(uid)) >= 3
    environment.close()
    assert host_processes_of(uid) == []


def test_malicious_code_cannot_raise_the_reward():
    environment = CodeInterpreterEnv(family="programming")
    environment.reset(seed=11)
    task = environment._task
    cases = task.hidden["cases"]
    # What a copy of the hidden tests would contain: their arguments, as JSON and as words.
    expected = [json.dumps(case["args"]) for case in cases]
    expected += [a for case in cases for a in case["args"] if isinstance(a, str) and len(a) >= 6]
    assert expected
    # Look for the hidden tests everywhere the agent can see: they are not there.
    search = (
        "import os\n"
        "hits = []\n"
        "for top in ('/sandbox', '/tmp', '/dev/shm', '/run', '/opt/palaestra-sandbox'):\n"
        "    for folder, _, names in os.walk(top):\n"
        "        for name in names:\n"
        "            try:\n"
        "                text = open(os.path.join(folder, name), errors='ignore').read()\n"
        "            except OSError:\n"
        "                continue\n"
        f"            if any(needle in text for needle in {expected!r}):\n"
        "                hits.append(os.path.join(folder, name))\n"
        "hits"
    )
    obs, *_ = environment.step(code(search))
    assert "[value] []" in obs
    # Plant a fake grader and leave a process rewriting files after the episode.
    environment.step(
        code(
            "import subprocess\n"
            "open('grader.py', 'w').write('SCORE = 1.0')\n"
            "subprocess.Popen(['sh', '-c', 'while true; do echo pass > /tmp/result; "
            'echo "def f(*a): return 0" > solution.py; sleep 0.05; done\'], '
            "start_new_session=True)"
        )
    )
    wrong = "<answer>\n```python\ndef f(*args):\n    return None\n```\n</answer>"
    *_, reward, terminated, _, info = environment.step(wrong)
    assert terminated and reward == 0.0 and not info["success"]
    # The same tricks do not hurt an honest answer either.
    environment.reset(seed=11)
    environment.step(code("open('grader.py', 'w').write('SCORE = 0.0')"))
    *_, reward, _, _, info = environment.step(environment.oracle_actions()[-1])
    assert reward == 1.0 and info["success"]
    environment.close()


def test_bad_configuration_and_task_ids():
    with pytest.raises(ConfigError, match="family must be one of"):
        gym.make("CodeInterpreter-v0", family="chemistry")
    with pytest.raises(ConfigError, match="sandbox must be"):
        gym.make("CodeInterpreter-v0", sandbox="vm")
    with pytest.raises(ConfigError, match="timeout_s must be a positive number"):
        gym.make("CodeInterpreter-v0", timeout_s=0)
    environment = gym.make("CodeInterpreter-v0", family="math")
    with pytest.raises(TaskError, match="none of this env's families"):
        environment.reset(options={"task_id": "chess-1-1"})


def test_arbitrary_actions_never_raise():
    environment = CodeInterpreterEnv(family="data", timeout_s=1, max_turns=50)
    snippets = st.text(max_size=40) | st.sampled_from(
        ["print(1)", "import os; os.listdir('.')", "1/0", "while True: pass", "x = [0]*10**6"]
    )
    actions = (
        st.text(max_size=80)
        | snippets.map(code)
        | snippets.map(lambda s: ToolCall(name="python", arguments={"code": s}).to_text())
        | st.binary(max_size=10)
        | st.none()
    )

    @settings(
        max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    @given(seed=st.integers(0, 20), steps=st.lists(actions, min_size=1, max_size=3))
    def check(seed, steps):
        environment.reset(seed=seed)
        for action in steps:
            obs, reward, terminated, truncated, info = environment.step(action)
            assert isinstance(obs, str) and 0.0 <= reward <= 1.0
            if terminated or truncated:
                break

    try:
        check()
    finally:
        environment.close()
