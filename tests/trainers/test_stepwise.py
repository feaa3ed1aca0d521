"""Step-wise mining and step verifiers: one state, k forks, the best followed, the rest closed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import gymnasium as gym
import pytest

import palaestra
from palaestra.agents import BaseAgent, OracleAgent, ScriptedAgent
from palaestra.core.env import TextEnv
from palaestra.core.types import AgentTurn
from palaestra.errors import ConfigError
from palaestra.trainers import stepwise
from palaestra.trainers.stepwise import StepPair, distinct, mine_step_pairs, step_pairs
from palaestra.trainers.verifiers import (
    Branch,
    EnvSignalVerifier,
    JudgeVerifier,
    MonteCarloVerifier,
    StepVerifier,
    parse_choice,
)

MALFORMED = '<tool_call>{"name": "get_order", "arguments": </tool_call>'
GIVE_UP = "Sorry, I cannot do that."


class Candidates(BaseAgent):
    """Proposes ``options(messages)[j]`` for the j-th copy of a conversation in a batch."""

    name = "candidates"

    def __init__(self, options, k: int) -> None:
        self.options, self.k, self.calls = options, k, []

    def respond_batch(self, conversations, tools=None):
        self.calls.append(len(conversations))
        return [
            AgentTurn(text=self.options(list(c))[i % self.k]) for i, c in enumerate(conversations)
        ]


def make_oracle(task_seed: int = 3, **kwargs):
    """An oracle for one ToolUse task, and that task's id (every episode then plays it)."""
    env = gym.make("ToolUse-v0", **kwargs)
    env.reset(seed=task_seed)
    return OracleAgent(env), env.unwrapped._task.id


def gold_or_worse(oracle: OracleAgent, k: int = 3) -> Candidates:
    return Candidates(lambda m: [oracle.act(m), MALFORMED, GIVE_UP], k)


def branches_of(env: gym.Env, actions: list[str]) -> list[Branch]:
    """Each action stepped in its own fork of ``env``, as the miner does."""
    prompt = env.unwrapped.conversation.as_dicts()
    branches = []
    for action in actions:
        branch = palaestra.fork(env)
        observation, reward, terminated, truncated, info = branch.step(action)
        branches.append(
            Branch(
                group=0,
                env=branch,
                turn=AgentTurn(text=action),
                prompt=prompt,
                tools=[],
                observation=observation,
                reward=reward,
                terminated=terminated,
                truncated=truncated,
                info=info,
            )
        )
    return branches


# ------------------------------------------------------------------------------------- mining
def test_pairs_share_one_prefix_and_come_from_forks_of_one_state(monkeypatch):
    oracle, task_id = make_oracle()
    origins = {}  # id(fork) -> (id(parent), turn and world of the fork before its step)

    def spy_fork(env):
        clone = palaestra.fork(env)
        state = (clone.unwrapped.turn, clone.unwrapped.world.snapshot())
        assert state == (env.unwrapped.turn, env.unwrapped.world.snapshot())
        origins[id(clone)] = (id(env), state)
        return clone

    monkeypatch.setattr(stepwise, "fork", spy_fork)
    groups = []

    def on_branches(branches, scores):
        parents = {origins[id(b.env)][0] for b in branches}
        states = [origins[id(b.env)][1] for b in branches]
        assert len(parents) == 1, "every branch of a state is a fork of that one env"
        assert all(s == states[0] for s in states), "and starts from the same world and turn"
        groups.append([(b.action, b.observation, s) for b, s in zip(branches, scores, strict=True)])

    mined = mine_step_pairs(
        "ToolUse-v0", gold_or_worse(oracle), 2, k=3, tasks=[task_id], on_branches=on_branches
    )
    plan = oracle._oracle_actions()
    assert [t.success for t in mined.trajectories] == [True, True], "the best branch was followed"
    assert [t.num_turns for t in mined.trajectories] == [len(plan)] * 2
    assert mined.states == 2 * len(plan) == len(groups) and mined.candidates == 3 * mined.states
    assert mined.pairs and mined.pairs_per_episode == len(mined.pairs) / 2
    for pair in mined.pairs:
        trajectory = mined.trajectories[pair.episode]
        prefix = [m.model_dump() for m in trajectory.messages[: len(pair.prompt_messages)]]
        assert pair.prompt_messages == prefix, "the prompt is the followed path up to the turn"
        followed = trajectory.messages[len(pair.prompt_messages)]
        assert (
            followed.role == "assistant" and followed.content == pair.chosen == plan[pair.turn - 1]
        )
        assert pair.turn == sum(m["role"] == "assistant" for m in pair.prompt_messages) + 1
        assert pair.chosen_score > pair.rejected_score and pair.verifier == "env_signal"
        chosen = (pair.chosen, pair.chosen_observation, pair.chosen_score)
        rejected = (pair.rejected, pair.rejected_observation, pair.rejected_score)
        assert any(chosen in g and rejected in g for g in groups), "both from one state's forks"
    first = [p for p in mined.pairs if p.episode == 0 and p.turn == 1]
    assert {p.rejected for p in first} == {MALFORMED, GIVE_UP}
    assert {p.rejected_score for p in first} == {0.0, 0.25} and first[0].chosen_score == 0.5
    assert "Error" in next(p.rejected_observation for p in first if p.rejected == MALFORMED)


def test_ties_and_duplicates_give_no_pair_and_min_gap_filters():
    oracle, task_id = make_oracle()
    same = Candidates(lambda m: [oracle.act(m)] * 3, 3)
    mined = mine_step_pairs("ToolUse-v0", same, 1, k=3, tasks=[task_id])
    assert mined.pairs == [] and mined.states == 0, "identical candidates are stepped in place"
    assert mined.duplicates == 2 * mined.trajectories[0].num_turns
    assert mined.trajectories[0].success
    wide = mine_step_pairs("ToolUse-v0", gold_or_worse(oracle), 1, k=3, tasks=[task_id])
    narrow = mine_step_pairs(
        "ToolUse-v0", gold_or_worse(oracle), 1, k=3, tasks=[task_id], min_gap=0.3
    )
    assert len(narrow.pairs) < len(wide.pairs) and all(p.gap >= 0.3 for p in narrow.pairs)
    assert any(p.gap == 0.25 for p in wide.pairs)
    turns = [AgentTurn(text=t) for t in ["a", "b", "a", "c", "b"]]
    assert [t.text for t in distinct(turns)] == ["a", "b", "c"]
    branches = branches_of_stub(3)
    assert step_pairs(branches, [0.5, 0.5, 0.0], 0, 0.0) == [(branches[0], branches[2], 0.5, 0.0)]


def branches_of_stub(count: int) -> list[Branch]:
    return [
        Branch(0, None, AgentTurn(text=str(i)), [], [], "", 0.0, False, False, {})
        for i in range(count)
    ]


def test_episodes_run_in_parallel_with_one_policy_call_per_turn():
    oracle, task_id = make_oracle()
    agent = gold_or_worse(oracle)
    mined = mine_step_pairs("ToolUse-v0", agent, 3, k=3, tasks=[task_id], num_envs=3)
    turns = mined.trajectories[0].num_turns
    assert agent.calls == [9] * turns, "all episodes' candidates share one call per turn"
    serial = gold_or_worse(oracle)
    again = mine_step_pairs("ToolUse-v0", serial, 3, k=3, tasks=[task_id], num_envs=1)
    assert serial.calls == [3] * (3 * turns)
    assert [p.model_dump() for p in again.pairs] == [p.model_dump() for p in mined.pairs]
    assert [t.metadata["episode"] for t in mined.trajectories] == [0, 1, 2]


def test_every_fork_is_closed(monkeypatch):
    opened, closed = [], set()
    init, close = TextEnv.__init__, TextEnv.close

    def spy_init(self, *args, **kwargs):
        opened.append(self)
        init(self, *args, **kwargs)

    def spy_close(self):
        closed.add(id(self))
        close(self)

    monkeypatch.setattr(TextEnv, "__init__", spy_init)
    monkeypatch.setattr(TextEnv, "close", spy_close)
    oracle, task_id = make_oracle()
    opened.clear()
    mine_step_pairs("ToolUse-v0", gold_or_worse(oracle), 2, k=3, tasks=[task_id])
    assert len(opened) > 10
    assert [e for e in opened if id(e) not in closed] == []


def _descendants() -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    found, todo = set(), [os.getpid()]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def test_code_interpreter_branches_leave_no_sandbox_behind(monkeypatch):
    # Every env the miner forks from or forks stays referenced here, so a sandbox that the miner
    # forgot to close cannot be reaped by the garbage collector instead.
    held = []
    monkeypatch.setattr(
        stepwise, "fork", lambda env: held.extend([env, palaestra.fork(env)]) or held[-1]
    )
    before = _descendants()
    code = "Let me run it.\n```python\nprint({})\n```"
    agent = Candidates(lambda m: [code.format(len(m)), "```python\nx = 1/0\n```", "<tool_call>"], 3)
    mined = mine_step_pairs(
        "CodeInterpreter-v0", agent, 1, k=3, max_turns=2, env_kwargs={"family": "math"}
    )
    assert mined.states == 2 and mined.pairs, "the malformed call loses to running code"
    assert all(p.rejected == "<tool_call>" for p in mined.pairs)
    assert len(held) == 12 and all(e.unwrapped.sandbox is None for e in held)
    deadline = time.monotonic() + 5
    while _descendants() - before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _descendants() - before == set(), "every branch's sandbox was closed"


# ---------------------------------------------------------------------------------- verifiers
@pytest.fixture
def state():
    """A ToolUse state at turn 0, its oracle, and branches: the gold call and a malformed one."""
    env = gym.make("ToolUse-v0", domain="retail", difficulty=1)
    env.reset(seed=0)
    oracle = OracleAgent(env)
    branches = branches_of(env, [oracle._oracle_actions()[0], MALFORMED])
    yield env, oracle, branches
    for branch in branches:
        branch.env.close()
    env.close()


def _judge_from_results(messages):
    """A judge that reads the prompt: the first candidate whose result is not an error."""
    text = messages[-1]["content"]
    candidates = text.split("## Candidate ")[1:]
    return next(str(i) for i, c in enumerate(candidates, 1) if "Result:\nError" not in c)


@pytest.mark.parametrize(
    "make",
    [
        lambda oracle: EnvSignalVerifier(),
        lambda oracle: MonteCarloVerifier(oracle, n=2, max_turns=4),
        lambda oracle: JudgeVerifier(ScriptedAgent(_judge_from_results)),
    ],
    ids=["env_signal", "monte_carlo", "judge"],
)
def test_each_verifier_ranks_the_oracle_step_above_a_malformed_one(state, make):
    _, oracle, branches = state
    verifier = make(oracle)
    assert isinstance(verifier, StepVerifier)
    good, bad = verifier.score(branches)
    assert good > bad


def test_monte_carlo_with_the_oracle_as_policy_scores_the_right_step_one(state, monkeypatch):
    env, oracle, branches = state
    give_up = branches_of(env, [GIVE_UP])
    opened, closed = [], set()
    fork, close = stepwise.fork, TextEnv.close
    monkeypatch.setattr(
        "palaestra.trainers.verifiers.fork", lambda e: opened.append(fork(e)) or opened[-1]
    )
    monkeypatch.setattr(TextEnv, "close", lambda self: closed.add(id(self)) or close(self))
    verifier = MonteCarloVerifier(oracle, n=3, max_turns=4)
    assert verifier.score(branches + give_up) == [1.0, 0.0, 0.0]
    assert verifier.rollouts == 6, "a branch that already ended needs no rollout"
    assert len(opened) == 6 and {id(e.unwrapped) for e in opened} <= closed
    assert branches[0].env.unwrapped.turn == 1, "the branches themselves are not stepped"
    give_up[0].env.close()


def test_judge_sees_task_history_candidates_and_results_but_no_verdict(state):
    env, oracle, branches = state
    done = branches_of(env, [oracle._oracle_actions()[-1]])
    judge = ScriptedAgent(["The best is candidate 2."])
    verifier = JudgeVerifier(judge)
    assert verifier.score(branches + done) == [0.0, 1.0, 0.0]
    prompt = verifier.prompt(branches + done)[-1]["content"]
    assert env.unwrapped.conversation.messages[1].content in prompt
    assert "Candidate 3" in prompt and "(this reply ends the conversation)" in prompt
    assert branches[1].observation in prompt and branches[0].action in prompt
    assert done[0].info["verdict"] not in prompt and "verdict" not in prompt.lower()
    done[0].env.close()


def test_an_unparsable_judge_reply_falls_back_to_the_env_signal(state):
    _, _, branches = state
    verifier = JudgeVerifier(ScriptedAgent(["Both look fine to me."]))
    assert verifier.score(branches) == EnvSignalVerifier().score(branches) == [0.5, 0.0]
    assert (verifier.judged, verifier.fallbacks) == (1, 1)
    lone = [Branch(**{**vars(branches[0]), "group": 7})]
    assert verifier.score(lone) == [0.0] and verifier.judged == 1, "one candidate: no question"


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("2", 1),
        (" **3** ", 2),
        ("[1].", 0),
        ("Candidate 2", 1),
        ("The best candidate is candidate 3.", 2),
        ("I pick #2 because it looks up the order.", 1),
        ("Answer: 1", 0),
        ("Option 3 reads the order first, so it is best.", 2),
        ("Out of 3 candidates, 2 is best.", None),
        ("7", None),
        ("0", None),
        ("none of them", None),
        ("2.5", None),
        ("", None),
    ],
)
def test_parse_choice(reply, expected):
    assert parse_choice(reply, 3) == expected


def test_env_signal_orders_success_call_failed_end_and_error(state):
    env, oracle, _ = state
    verifier = EnvSignalVerifier()
    plan = oracle._oracle_actions()  # return order O-3968, then "Done."
    read = '<tool_call>{"name": "get_order", "arguments": {"order_id": "O-3968"}}</tool_call>'
    assert verifier.score(branches_of(env, [read, MALFORMED, GIVE_UP])) == [0.5, 0.0, 0.25]
    env.step(plan[0])
    assert verifier.score(branches_of(env, [plan[-1], plan[0]])) == [1.0, 0.0], "refused: error"
    limited = gym.make("ToolUse-v0", domain="retail", difficulty=1, max_turns=1)
    limited.reset(seed=0)
    (branch,) = branches_of(limited, [read])
    assert branch.truncated and verifier.score([branch]) == [0.25], "out of turns: failed"


# ------------------------------------------------------------------------------------ configs
def test_bad_configs_raise_clear_errors(tiny_agent):
    agent = ScriptedAgent(["Done."])
    with pytest.raises(ConfigError, match="k must be at least 2"):
        mine_step_pairs("ToolUse-v0", agent, 1, k=1)
    with pytest.raises(ConfigError, match="min_gap must be >= 0"):
        mine_step_pairs("ToolUse-v0", agent, 1, k=2, min_gap=-0.1)
    with pytest.raises(ConfigError, match="num_envs must be at least 1"):
        mine_step_pairs("ToolUse-v0", agent, 1, k=2, num_envs=0)
    with pytest.raises(ConfigError, match="decodes greedily"):
        mine_step_pairs("ToolUse-v0", tiny_agent, 1, k=2)
    with pytest.raises(ConfigError, match="episodes must be at least 1"):
        mine_step_pairs("ToolUse-v0", agent, 0, k=2)
    with pytest.raises(ConfigError, match="error <= failed_end <= tool_call <= success"):
        EnvSignalVerifier(tool_call=0.1, failed_end=0.2)
    with pytest.raises(ConfigError, match="n .rollouts per branch. must be at least 1"):
        MonteCarloVerifier(agent, n=0)
    with pytest.raises(ConfigError, match="max_turns must be at least 1"):
        MonteCarloVerifier(agent, max_turns=0)
    with pytest.raises(ConfigError, match="max_chars must be at least 100"):
        JudgeVerifier(agent, max_chars=5)


# ---------------------------------------------------------------------------- the tiny model
def test_mining_with_the_tiny_model_records_generated_ids(tiny_model_dir):
    from palaestra.agents import TransformersAgent

    def policy():
        return TransformersAgent(
            str(tiny_model_dir), device="cpu", temperature=1.0, max_new_tokens=12, seed=0
        )

    judge = JudgeVerifier(ScriptedAgent(["1"]))
    options = {"domain": "retail", "difficulty": 1}
    mined = mine_step_pairs(
        "ToolUse-v0", policy(), 2, k=3, verifier=judge, max_turns=2, env_kwargs=options
    )
    assert mined.pairs and mined.states >= 2 and judge.fallbacks == 0
    for pair in mined.pairs:
        assert isinstance(pair, StepPair) and pair.verifier == "judge"
        assert pair.chosen != pair.rejected and pair.chosen_ids and pair.rejected_ids
        step = mined.trajectories[pair.episode].steps[pair.turn - 1]
        assert step.action == pair.chosen and step.completion_ids == pair.chosen_ids
    again = mine_step_pairs(
        "ToolUse-v0", policy(), 2, k=3, verifier=JudgeVerifier(ScriptedAgent(["1"])),
        max_turns=2, env_kwargs=options,
    )  # fmt: skip
    assert [p.model_dump() for p in again.pairs] == [p.model_dump() for p in mined.pairs]
