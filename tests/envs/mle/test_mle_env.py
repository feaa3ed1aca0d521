"""MLE-v0: competitions worked in a real sandbox, scored on hidden answers, ranked on boards."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest

import palaestra
from palaestra.core.types import ToolCall
from palaestra.errors import ConfigError, TaskError

pytest.importorskip("sklearn")
pytest.importorskip("pandas")

SMALL = "breast-cancer-diagnosis"  # 569 rows: the quickest competition to play


def call(name, **arguments):
    return ToolCall(name=name, arguments=arguments).to_text()


def run(code):
    return call("execute_code", code=code)


COPY_SAMPLE = "import shutil\nshutil.copy('sample_submission.csv', 'submission.csv')"


@pytest.fixture
def env():
    made = gym.make("MLE-v0", competition=SMALL)
    yield made
    made.close()


def test_reset_states_the_competition_and_files(env):
    obs, info = env.reset(seed=0)
    assert "train.csv" in obs and "submission.csv" in obs and "Log loss" in obs
    assert info["competition"] == SMALL and info["leaderboard_size"] >= 50
    assert {tool["function"]["name"] for tool in info["tools"]} == {
        "request_info",
        "validate_code",
        "execute_code",
        "submit",
    }
    assert info["task_id"] in (f"mle-{SMALL}-v0", f"mle-{SMALL}-v1")


def test_request_info_answers_every_topic_and_refuses_others(env):
    env.reset(seed=0)
    texts = {}
    for topic in ("overview", "data_structure", "sample_submission", "metric", "budget"):
        obs, reward, terminated, truncated, info = env.step(call("request_info", topic=topic))
        assert info["error"] is None and not terminated
        texts[topic] = obs
    assert "| column | type |" in texts["data_structure"]
    assert "id,diagnosis" in texts["sample_submission"]
    assert "private half" in texts["metric"]
    assert "turns left" in texts["budget"] and "MB" in texts["budget"]
    obs, *_, info = env.step(call("request_info", topic="answers"))
    assert info["error"]["type"] == "invalid_arguments" and "overview" in obs


def test_oracle_wins_gold_and_the_sample_submission_ranks_near_the_bottom(env):
    env.reset(seed=0)
    for action in env.unwrapped.oracle_actions():
        obs, reward, terminated, truncated, info = env.step(action)
    assert terminated and reward == 1.0 and info["success"]
    board = info["leaderboard"]
    assert board["medal"] == "gold" and board["human_rank"] == 1.0
    assert set(board["medal_thresholds"]) == {"gold", "silver", "bronze"}

    env.reset(seed=0)
    obs, *_ = env.step(run(COPY_SAMPLE))
    assert "[submission 1] public score" in obs and "place" in obs
    obs, reward, terminated, truncated, info = env.step(call("submit"))
    assert terminated and reward <= 0.3 and not info["success"]  # the bottom third
    assert info["leaderboard"]["medal"] is None


def test_no_submission_scores_zero_and_plain_text_ends_like_submit(env):
    env.reset(seed=0)
    obs, *_ = env.step(run("x = 41"))
    assert "no submission.csv yet" in obs
    obs, reward, terminated, truncated, info = env.step("I am done.")
    assert terminated and reward == 0.0 and "no valid submission" in info["verdict"]


def test_the_best_public_submission_is_the_one_scored_privately(env):
    env.reset(seed=0)
    oracle = json.loads(env.unwrapped.oracle_actions()[1].removeprefix("<tool_call>")[:-12])
    env.step(run(oracle["arguments"]["code"]))
    *_, info = env.step(run(COPY_SAMPLE))  # a worse, later submission does not replace it
    assert info["submissions"] == 2
    obs, reward, *_ = env.step(call("submit"))
    assert reward == 1.0


def test_bad_submissions_get_a_clear_message_and_are_not_counted(env):
    env.reset(seed=0)
    code = (
        "import pandas as pd\n"
        "s = pd.read_csv('sample_submission.csv')\n"
        "s.iloc[:-5].to_csv('submission.csv', index=False)"
    )
    obs, *_, info = env.step(run(code))
    assert "[submission rejected]" in obs and "5 ids of test.csv are missing" in obs
    assert info["submissions"] == 0
    obs, *_, info = env.step(run("s['diagnosis'] = float('nan')\ns.to_csv('submission.csv')"))
    assert "[submission rejected]" in obs and info["submissions"] == 0


def test_errors_come_with_a_likely_cause(env):
    env.reset(seed=0)
    obs, *_ = env.step(run("import pandas as pd\npd.read_csv('train.csv')['no_such_column']"))
    assert "KeyError" in obs and "[likely cause]" in obs and "mean_radius" in obs
    obs, *_ = env.step(run("import xgboost"))
    assert "ModuleNotFoundError" in obs and "scikit-learn" in obs


def test_validate_code_checks_syntax_and_dry_runs_without_keeping_anything(env):
    env.reset(seed=0)
    obs, *_ = env.step(call("validate_code", code="def f(:\n  pass"))
    assert "[syntax error] line 1" in obs
    obs, *_, info = env.step(call("validate_code", code="marker = 1\n" + COPY_SAMPLE))
    assert "right format" in obs and "nothing was scored" in obs
    assert info["submissions"] == 0
    obs, *_ = env.step(run("import os\nprint('marker' in globals(), os.listdir())"))
    assert "False" in obs and "'submission.csv'" not in obs
    obs, *_ = env.step(
        call(
            "validate_code",
            code="import pandas as pd\npd.read_csv('test.csv').to_csv('submission.csv')",
        )
    )
    assert "is wrong" in obs and "wrong columns" in obs


def test_answers_never_enter_the_sandbox(env):
    env.reset(seed=0)
    answers = env.unwrapped.prepared.answers_path
    code = (
        "import os\n"
        f"print(sorted(os.listdir()))\nprint(os.path.exists({str(answers)!r}))\n"
        f"print(os.path.exists({str(answers.parent)!r}))"
    )
    obs, *_ = env.step(run(code))
    assert "['description.md', 'sample_submission.csv', 'test.csv', 'train.csv']" in obs
    assert "True" not in obs


def test_state_persists_between_runs_and_fork_branches_it(env):
    env.reset(seed=0)
    env.step(run("import pandas as pd\ntrain = pd.read_csv('train.csv')"))
    branch = palaestra.fork(env)
    try:
        obs, *_ = branch.step(run("print(len(train))\ntrain = None"))
        assert "398" in obs
        obs, *_ = env.step(run("print(len(train))"))
        assert "398" in obs
    finally:
        branch.close()


def test_the_compute_budget_runs_out(tmp_path):
    env = gym.make("MLE-v0", competition=SMALL, compute_budget_s=1.0, timeout_s=5.0)
    try:
        env.reset(seed=0)
        obs, *_, info = env.step(run("import time\ntime.sleep(3)"))
        assert "[likely cause] the run hit its time limit" in obs
        obs, *_, info = env.step(run("x = 1"))
        assert info["error"]["type"] == "tool_error" and "budget" in obs and "submit" in obs
    finally:
        env.close()


def test_splits_use_disjoint_variants_and_task_ids_are_checked():
    train = gym.make("MLE-v0", competition=SMALL, split="train")
    test = gym.make("MLE-v0", competition=SMALL, split="test")
    try:
        train_ids = {train.reset(seed=seed)[1]["task_id"] for seed in range(8)}
        test_ids = {test.reset(seed=seed)[1]["task_id"] for seed in range(4)}
        assert train_ids == {f"mle-{SMALL}-v0", f"mle-{SMALL}-v1"}
        assert test_ids == {f"mle-{SMALL}-v2"}
        with pytest.raises(TaskError, match="not in the train split"):
            train.reset(options={"task_id": f"mle-{SMALL}-v2"})
        with pytest.raises(TaskError, match="mle-<competition>-v<variant>"):
            train.reset(options={"task_id": "mle-nope-v0"})
    finally:
        train.close()
        test.close()


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ConfigError, match="unknown MLE competition"):
        gym.make("MLE-v0", competition="no-such-competition")
    with pytest.raises(ConfigError, match="split"):
        gym.make("MLE-v0", split="valid")
    with pytest.raises(ConfigError, match="timeout_s"):
        gym.make("MLE-v0", timeout_s=0)
