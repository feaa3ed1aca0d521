"""Step verifiers: which of the candidate steps taken from one state was best.

Step-wise mining (`palaestra.trainers.stepwise`) executes each candidate action of a state in its
own fork of the episode; the result is a `Branch`. A verifier scores branches, and only branches
of the same state (the same ``group``) are compared, so a score needs to mean something within
its group alone::

    verifier             cost per state                      signal
    EnvSignalVerifier    nothing                             success > valid tool call >
                                                             failed final answer > error
    MonteCarloVerifier   k * n rollouts of <= max_turns      mean final reward of n completions
    JudgeVerifier        one judge call                      an LLM names the best (SPORT);
                                                             the env signal when it cannot be read

Every verifier takes the branches of all the states of one mining round in one call, so the
Monte Carlo rollouts and the judge's prompts are batched across episodes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import gymnasium as gym

from palaestra.agents.base import Agent, respond_batch
from palaestra.core.conversation import Conversation
from palaestra.core.fork import fork
from palaestra.core.types import AgentTurn, Message
from palaestra.errors import ConfigError

__all__ = [
    "Branch",
    "EnvSignalVerifier",
    "JudgeVerifier",
    "MonteCarloVerifier",
    "StepVerifier",
    "parse_choice",
]


@dataclass
class Branch:
    """One candidate action of a state, executed in its own fork of the episode."""

    group: int
    """The state the branch was forked from; scores are compared within a group only."""
    env: gym.Env[str, str]
    """The fork, after the step: the episode goes on from here if this branch is followed."""
    turn: AgentTurn
    """The candidate action, with the token ids the model generated when it recorded them."""
    prompt: list[dict[str, str]]
    """The conversation the action answers: the prefix every branch of the group shares."""
    tools: list[dict[str, Any]]
    """The tool schemas the agent saw."""
    observation: str
    reward: float
    terminated: bool
    truncated: bool
    info: dict[str, Any]

    @property
    def action(self) -> str:
        """The candidate action's text."""
        return self.turn.text

    @property
    def done(self) -> bool:
        """True when the step ended the episode."""
        return self.terminated or self.truncated

    @property
    def messages(self) -> list[Message]:
        """The conversation after the step: the prefix, the action and, unless done, its result."""
        conversation = Conversation([Message.model_validate(m) for m in self.prompt])
        conversation.add_turn(self.action, self.observation, done=self.done)
        return conversation.messages


@runtime_checkable
class StepVerifier(Protocol):
    """Scores branches; a higher score is a better step than the others of its group."""

    @property
    def name(self) -> str:
        """A short name, recorded with the pairs."""
        ...

    def score(self, branches: Sequence[Branch]) -> list[float]:
        """One score per branch, in order (branches may come from several groups)."""
        ...


# --------------------------------------------------------------------------------- env signal
@dataclass(frozen=True)
class EnvSignalVerifier:
    """The env's own signal: free, but blind to which valid tool call was the right one.

    A step that ends the episode scores ``failed_end + (success - failed_end) * reward``, so a
    solved task scores ``success``; an error observation (``info["error"]``) scores ``error``;
    any other step (a valid tool call) scores ``tool_call``; running out of turns scores
    ``failed_end``.
    """

    success: float = 1.0
    """Score of a step that ends the episode with reward 1."""
    tool_call: float = 0.5
    """Score of a step the env accepted without ending the episode."""
    failed_end: float = 0.25
    """Score of a step that ends the episode with reward 0, or hits the turn limit."""
    error: float = 0.0
    """Score of a step the env answered with an error (malformed call, refused tool)."""
    name: ClassVar[str] = "env_signal"

    def __post_init__(self) -> None:
        levels = (self.error, self.failed_end, self.tool_call, self.success)
        if list(levels) != sorted(levels) or self.error >= self.success:
            raise ConfigError(
                "EnvSignalVerifier levels must satisfy error <= failed_end <= tool_call <= success "
                f"with error < success; got error={self.error}, failed_end={self.failed_end}, "
                f"tool_call={self.tool_call}, success={self.success}"
            )

    def score(self, branches: Sequence[Branch]) -> list[float]:
        """The signal of each branch's step."""
        return [self.score_one(branch) for branch in branches]

    def score_one(self, branch: Branch) -> float:
        """The signal of one step."""
        if branch.info.get("error"):
            return self.error
        if branch.terminated:
            reward = min(max(branch.reward, 0.0), 1.0)
            return self.failed_end + (self.success - self.failed_end) * reward
        if branch.truncated:
            return self.failed_end
        return self.tool_call


# -------------------------------------------------------------------------------- Monte Carlo
class MonteCarloVerifier:
    """Finishes each branch ``n`` times with a policy; the score is the mean final reward.

    A branch that already ended scores its own reward (0 when truncated). Rollouts that have not
    ended after ``max_turns`` more turns score 0. All rollouts of all branches advance together,
    one batched agent call per turn. With a greedy policy the ``n`` rollouts of a branch are
    identical: use ``n=1`` then, or a sampling policy.

    Args:
        agent: The policy that finishes the branches (usually the one being trained).
        n: Rollouts per branch.
        max_turns: Most turns each rollout takes beyond the branch's step.
    """

    name = "monte_carlo"

    def __init__(self, agent: Agent, n: int = 4, max_turns: int = 8) -> None:
        if n < 1:
            raise ConfigError(f"n (rollouts per branch) must be at least 1, got {n}")
        if max_turns < 1:
            raise ConfigError(f"max_turns must be at least 1, got {max_turns}")
        self.agent = agent
        self.n = n
        self.max_turns = max_turns
        self.rollouts = 0
        """Rollouts run so far (a measure of this verifier's cost)."""

    def score(self, branches: Sequence[Branch]) -> list[float]:
        """The mean final reward of ``n`` completions of each branch."""
        owners: list[int] = []
        rollouts: list[_Rollout] = []
        try:
            for index, branch in enumerate(branches):
                if not branch.done:
                    for _ in range(self.n):
                        owners.append(index)
                        rollouts.append(
                            _Rollout(fork(branch.env), Conversation(branch.messages), branch.tools)
                        )
            self._finish(rollouts)
        finally:
            for rollout in rollouts:
                rollout.env.close()
        self.rollouts += len(rollouts)
        totals = [0.0] * len(branches)
        for owner, rollout in zip(owners, rollouts, strict=True):
            totals[owner] += rollout.reward
        return [
            (branch.reward if branch.terminated else 0.0) if branch.done else total / self.n
            for branch, total in zip(branches, totals, strict=True)
        ]

    def _finish(self, rollouts: list[_Rollout]) -> None:
        active = rollouts
        for _ in range(self.max_turns):
            if not active:
                return
            turns = respond_batch(
                self.agent, [r.conversation.messages for r in active], [r.tools for r in active]
            )
            for rollout, turn in zip(active, turns, strict=True):
                observation, reward, terminated, truncated, _ = rollout.env.step(turn.text)
                rollout.done = bool(terminated or truncated)
                rollout.reward = float(reward) if terminated else 0.0
                rollout.conversation.add_turn(turn.text, observation, done=rollout.done)
            active = [r for r in active if not r.done]


@dataclass
class _Rollout:
    env: gym.Env[str, str]
    conversation: Conversation
    tools: list[dict[str, Any]]
    reward: float = 0.0
    done: bool = False


# ------------------------------------------------------------------------------------ judge
_JUDGE_SYSTEM = (
    "You judge the actions of an AI assistant that serves users by calling tools. You are shown "
    "the assistant's instructions, the conversation so far and several candidate next actions, "
    "each with the result it produced. Pick the candidate that makes the most progress toward "
    "correctly completing the user's request, following the rules."
)

_JUDGE_QUESTION = (
    "Which candidate is the best next action? Reply with the number of the best candidate "
    "(1 to {count}) and nothing else."
)


class JudgeVerifier:
    """An LLM judge names the best candidate of each state, as in SPORT.

    The judge sees the task (system prompt and user request), the history, and every candidate
    action with the observation it produced; it never sees the env's verdict. The named candidate
    scores 1 and the others 0. A reply that names no candidate falls back to ``fallback`` (the
    env signal by default) for that state and is counted in ``fallbacks``.

    Args:
        judge: The judging agent (an `OpenAIAgent` for a strong model, or any agent).
        fallback: The verifier used when a reply cannot be read.
        max_chars: Each action and observation is cut to this many characters in the prompt.
    """

    name = "judge"

    def __init__(
        self,
        judge: Agent,
        *,
        fallback: StepVerifier | None = None,
        max_chars: int = 2000,
    ) -> None:
        if max_chars < 100:
            raise ConfigError(f"max_chars must be at least 100, got {max_chars}")
        self.judge = judge
        self.fallback: StepVerifier = fallback or EnvSignalVerifier()
        self.max_chars = max_chars
        self.judged = 0
        """States the judge was asked about."""
        self.fallbacks = 0
        """States whose reply named no candidate, scored by ``fallback`` instead."""

    def score(self, branches: Sequence[Branch]) -> list[float]:
        """1 for the branch the judge names in each group, 0 for the others."""
        groups: dict[int, list[int]] = {}
        for index, branch in enumerate(branches):
            groups.setdefault(branch.group, []).append(index)
        judged = [members for members in groups.values() if len(members) > 1]
        prompts = [self.prompt([branches[i] for i in members]) for members in judged]
        replies = respond_batch(self.judge, prompts, [None] * len(prompts)) if prompts else []
        scores = [0.0] * len(branches)
        for members, reply in zip(judged, replies, strict=True):
            self.judged += 1
            choice = parse_choice(reply.text, len(members))
            if choice is None:
                self.fallbacks += 1
                fallback = self.fallback.score([branches[i] for i in members])
                for index, value in zip(members, fallback, strict=True):
                    scores[index] = value
            else:
                scores[members[choice]] = 1.0
        return scores

    def prompt(self, branches: Sequence[Branch]) -> list[dict[str, str]]:
        """The judge's conversation for the candidates of one state."""
        prefix = branches[0].prompt
        instructions = "\n\n".join(m["content"] for m in prefix if m["role"] == "system")
        history = [m for m in prefix if m["role"] != "system"]
        parts = [f"# Assistant instructions\n{self._cut(instructions)}", "# Conversation so far"]
        parts += [f"[{m['role']}]\n{self._cut(m['content'])}" for m in history]
        parts.append("# Candidate next actions")
        for number, branch in enumerate(branches, start=1):
            result = branch.observation if not branch.done else "(this reply ends the conversation)"
            parts.append(
                f"## Candidate {number}\nAction:\n{self._cut(branch.action)}\n"
                f"Result:\n{self._cut(result)}"
            )
        parts.append(_JUDGE_QUESTION.format(count=len(branches)))
        return [
            {"role": "system", "content": _JUDGE_SYSTEM},
            {"role": "user", "content": "\n\n".join(parts)},
        ]

    def _cut(self, text: str) -> str:
        if len(text) <= self.max_chars:
            return text
        return text[: self.max_chars] + f"\n[... {len(text) - self.max_chars:,} characters cut]"


_NAMED = re.compile(
    r"(?:candidate|option|action|answer|choice|best|pick|choose)\W{0,3}(?:is\W{0,3})?"
    r"(?:number|no\.?|#)?\W{0,2}(\d+)",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"(?<![\d.])(\d+)(?![\d.]*\d)")


def parse_choice(reply: str, count: int) -> int | None:
    """The 0-based candidate a judge's reply names, or None when it names none clearly.

    Read in order: a reply that is a number alone (``"2"``, ``"**2**"``, ``"[2]."``); the last
    number after a word such as "candidate", "answer" or "best"; the only number in range that
    the reply mentions. Numbers outside ``1..count`` are ignored.
    """
    text = reply.strip()
    bare = re.fullmatch(r"\W*(\d+)\W*", text)
    if bare:
        number = int(bare.group(1))
        return number - 1 if 1 <= number <= count else None
    named = [int(m) for m in _NAMED.findall(text) if 1 <= int(m) <= count]
    if named:
        return named[-1] - 1
    mentioned = {int(m) for m in _NUMBER.findall(text) if 1 <= int(m) <= count}
    if len(mentioned) == 1:
        return mentioned.pop() - 1
    return None
