"""Arbitrary actions on MLE-v0 never raise, and a rejected action changes nothing."""

from __future__ import annotations

import json
import random

import gymnasium as gym
import pytest

from palaestra.core.types import ToolCall

pytest.importorskip("sklearn")

CODES = [
    "x = 1",
    "print(x)",
    "1 / 0",
    "import pandas as pd\ndf = pd.read_csv('train.csv')",
    "df['nope']",
    "import shutil\nshutil.copy('sample_submission.csv', 'submission.csv')",
    "open('submission.csv', 'w').write('id,diagnosis\\n1,0.5\\n')",
    "open('submission.csv', 'wb').write(bytes(range(256)))",
    "import os\nos.remove('train.csv') if os.path.exists('train.csv') else None",
    "while True: pass",
    "def f(:",
    "print('x' * 100000)",
    "import sys\nsys.exit(3)",
]


def random_action(rng: random.Random) -> object:
    kind = rng.randrange(9)
    if kind == 0:
        return ToolCall(name="execute_code", arguments={"code": rng.choice(CODES)}).to_text()
    if kind == 1:
        return ToolCall(name="validate_code", arguments={"code": rng.choice(CODES)}).to_text()
    if kind == 2:
        topic = rng.choice(["overview", "metric", "budget", "secrets", "", 3])
        return ToolCall(name="request_info", arguments={"topic": topic}).to_text()
    if kind == 3:
        name = rng.choice(["execute_code", "submit", "request_info", "delete", ""])
        arguments = rng.choice([{}, {"code": 5}, {"code": None}, {"topic": ["a"]}, {"x": 1}])
        return json.dumps({"name": name, "arguments": arguments})
    if kind == 4:
        return f"```python\n{rng.choice(CODES)}\n```"
    if kind == 5:
        return "<tool_call>" + rng.choice(["{", "[]", '{"name": 1}', "null"]) + "</tool_call>"
    if kind == 6:
        return rng.choice([None, 3, [], {"name": "submit"}, "\x00" * 10])
    if kind == 7:
        return "".join(chr(rng.randrange(32, 0x2FFF)) for _ in range(rng.randrange(1, 40)))
    calls = [ToolCall(name="request_info", arguments={"topic": "metric"}).to_text()] * 2
    return "\n".join(calls + [ToolCall(name="submit", arguments={"x": 1}).to_text()])


def snapshot(env) -> tuple:
    bench = env.unwrapped.workbench
    return (len(bench.submissions), bench.compute_used_s, env.unwrapped.turn)


def test_arbitrary_actions_never_raise_and_rejections_change_nothing():
    env = gym.make("MLE-v0", competition="breast-cancer-diagnosis", max_turns=1000, timeout_s=2.0)
    rng = random.Random(0)
    env.reset(seed=0)
    rejected = 0
    for _ in range(160):
        action = random_action(rng)
        submissions, used, turn = snapshot(env)
        obs, reward, terminated, truncated, info = env.step(action)
        assert isinstance(obs, str) and 0.0 <= reward <= 1.0
        if info["error"] is not None and info["error"]["type"] != "tool_error":
            rejected += 1
            assert obs.startswith("Error: ")
            after = snapshot(env)
            assert after[:2] == (submissions, used), action  # nothing ran, nothing was scored
        if terminated or truncated:
            env.reset(seed=rng.randrange(100))
    assert rejected > 30
    env.close()
