"""`TextEnv`: the turn loop every palaestra env shares.

An env family supplies a task source, a world with typed tools and a verifier; this base does the
rest the same way everywhere: parsing actions, validating tool calls, turning agent mistakes into
error observations, the turn limit, the final verdict, the transcript, and forking.

One step::

    action ──parse──> error?         -> error observation, world untouched
                      tool calls     -> validate all, then run each -> <tool_response> blocks
                      final answer   -> verifier -> terminal reward in [0, 1]

A final answer is a message with no tool call, or a call of a tool marked
``@tool(ends_episode=True)`` (``answer "..."``, ``submit``): the text that tool returns is the
answer the verifier reads.
"""

from __future__ import annotations

import contextlib
import copy
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

import gymnasium as gym

from palaestra.core.conversation import Conversation
from palaestra.core.parsing import ActionError, action_to_text, parse_action, tool_response
from palaestra.core.spaces import UnicodeText
from palaestra.core.tools import Toolbox
from palaestra.core.types import ToolCall, Verdict
from palaestra.errors import ConfigError, EnvStateError, ToolError

__all__ = ["TaskLike", "TextEnv"]


class TaskLike(Protocol):
    """What the base needs from a task: its id."""

    @property
    def id(self) -> str:  # noqa: D102
        ...


class TextEnv(gym.Env[str, str], ABC):
    """Base class of every palaestra env: text actions, text observations, verifiable reward.

    ALL subclasses must set ``default_max_turns`` and implement:

    - ``_select_task(task_id)``: the task to play, pinned by id or drawn with ``self.np_random``;
    - ``_start(task)``: build the world, return the first observation and extra ``info``;
    - ``_instructions()``: the system prompt (rules and how to act);
    - ``_call_tool(name, arguments)``: run a validated call, raise `ToolError` to refuse it;
    - ``_verify(answer)``: the `Verdict` on the final state and the answer;
    - ``_oracle_actions()``: the gold actions for the current task (privileged).

    SOME subclasses may set ``toolbox`` (per task), ``code_blocks`` (fenced python blocks
    become calls of the tool ``code_tool``, ``python`` unless set), ``text_commands`` (lines
    such as ``click [12]`` are calls of the toolbox's tools; ``command_aliases`` adds other
    names for them),
    ``reset_options``, ``max_action_chars`` and ``max_observation_chars``, and override
    ``_fork_state`` (a fast fork), ``_render_result`` (how a tool's result reads),
    ``_render_error`` (how a refusal reads), ``_observation``
    (what every non-final observation shows, such as the current page), ``_ended`` (the world
    ended the episode by itself) and ``_end_episode`` (release per-episode resources).
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi"], "render_fps": 1}

    default_max_turns: ClassVar[int]
    max_action_chars: ClassVar[int] = 65_536
    max_observation_chars: ClassVar[int] = 262_144
    code_blocks: ClassVar[bool] = False
    code_tool: ClassVar[str] = "python"
    text_commands: ClassVar[bool] = False
    command_aliases: ClassVar[Mapping[str, str]] = {}
    reset_options: ClassVar[frozenset[str]] = frozenset({"task_id"})

    toolbox: Toolbox | None = None
    _init_args: tuple[tuple[Any, ...], dict[str, Any]]

    def __new__(cls, *args: Any, **kwargs: Any) -> TextEnv:
        """Create the env, remembering its arguments so that a replay fork can rebuild it."""
        instance = super().__new__(cls)
        instance._init_args = (args, kwargs)
        return instance

    def __init__(self, *, max_turns: int | None = None, render_mode: str | None = None) -> None:
        if max_turns is not None and (not isinstance(max_turns, int) or max_turns < 1):
            raise ConfigError(f"max_turns must be a positive integer, got {max_turns!r}")
        if render_mode not in (None, "ansi"):
            raise ConfigError(f"render_mode must be 'ansi' or None, got {render_mode!r}")
        self.max_turns: int = max_turns or self.default_max_turns
        self.render_mode = render_mode
        self.observation_space = UnicodeText(self.max_observation_chars)
        self.action_space = UnicodeText(self.max_action_chars)
        self._task: Any = None
        self._turn = 0
        self._done = False
        self._actions: list[Any] = []
        self._reset_options: dict[str, Any] = {}
        self._verdict: Verdict | None = None
        self._conversation = Conversation()
        self._step_extras: dict[str, Any] = {}

    # ----------------------------------------------------------------------------- subclass API
    @abstractmethod
    def _select_task(self, task_id: str | None) -> Any: ...

    @abstractmethod
    def _start(self, task: Any) -> tuple[str, dict[str, Any]]: ...

    @abstractmethod
    def _instructions(self) -> str: ...

    @abstractmethod
    def _call_tool(self, name: str, arguments: dict[str, Any]) -> Any: ...

    @abstractmethod
    def _verify(self, answer: str) -> Verdict: ...

    @abstractmethod
    def _oracle_actions(self) -> list[str]: ...

    def _render_result(self, name: str, result: Any) -> str:
        """How a tool's result reads in the observation; by default a JSON ``<tool_response>``."""
        return tool_response(name, result=result)

    def _render_error(self, name: str, message: str) -> str:
        """How a tool's refusal reads in the observation; by default a JSON ``<tool_response>``."""
        return tool_response(name, error=message)

    def _fork_state(self) -> TextEnv | None:
        """A fast fork for envs whose state is cheap to copy; None falls back to replay."""
        return None

    def _end_episode(self) -> None:
        """Release what the current episode holds (processes, files)."""

    def _ended(self) -> str | None:
        """The final answer when the world itself ended the episode in this turn, else None.

        Asked after a turn's calls ran: a task page that scored itself, a game that is over.
        """
        return None

    def _observation(self, text: str) -> str:
        """The observation of a turn that did not end the episode, from its results or error.

        Envs that show their state every turn (a web page) add it here.
        """
        return text

    # ------------------------------------------------------------------------------- gym API
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Start an episode: ``options={"task_id": ...}`` pins a task, else the seed picks one."""
        super().reset(seed=seed)
        options = dict(options or {})
        unknown = sorted(set(options) - self.reset_options)
        if unknown:
            known = ", ".join(sorted(self.reset_options))
            raise ConfigError(f"unknown reset option(s) {unknown}; this env accepts: {known}")
        self._end_episode()
        task = self._select_task(options.get("task_id"))
        observation, extra = self._start(task)
        self._task = task
        self._turn = 0
        self._done = False
        self._actions = []
        self._reset_options = options
        self._verdict = None
        info = {
            "task_id": task.id,
            "instructions": self._instructions(),
            "tools": list(self.toolbox.specs) if self.toolbox else [],
            "max_turns": self.max_turns,
            **extra,
        }
        self._conversation = Conversation.start(observation, info)
        return observation, info

    def step(self, action: Any) -> tuple[str, float, bool, bool, dict[str, Any]]:
        """Apply one agent turn. Agent mistakes come back as observations, never as exceptions.

        An exception out of a step is an infrastructure failure (a sandbox, a server or a site
        died): the episode is over, unscored, and the next step raises `EnvStateError`.
        """
        if self._task is None:
            raise EnvStateError("call reset() before step()")
        if self._done:
            raise EnvStateError("the episode has ended; call reset() to start a new one")
        self._turn += 1
        self._actions.append(action)
        commands = None
        if self.text_commands and self.toolbox is not None:
            commands = self.toolbox.commands.with_aliases(self.command_aliases)
        parsed = parse_action(
            action,
            max_chars=self.max_action_chars,
            code_blocks=self.code_blocks,
            commands=commands,
        )
        calls = parsed.tool_calls or [
            ToolCall(name=self.code_tool, arguments={"code": code}) for code in parsed.code_blocks
        ]
        reward, terminated = 0.0, False
        info: dict[str, Any] = {"turn": self._turn, "tool_calls": [c.model_dump() for c in calls]}
        error: ActionError | None = parsed.error
        final: str | None = None
        try:
            if error is not None:
                observation = f"Error: {error.message}"
            elif calls:
                observation, error, final = self._run_calls(calls)
                final = final if final is not None else self._ended()
            else:
                final = parsed.text
            if final is not None:
                self._verdict = self._verify(final)
                reward, terminated, observation = self._verdict.score, True, ""
        except Exception as failure:
            self._fail_episode(failure)
            raise
        truncated = not terminated and self._turn >= self.max_turns
        if not terminated:
            observation = self._observation(observation)
        if truncated:
            self._verdict = Verdict(
                score=0.0,
                success=False,
                reason=f"turn limit reached: {self.max_turns} turns without a final answer",
            )
        if len(observation) > self.max_observation_chars:
            cut = len(observation) - self.max_observation_chars + 64
            observation = (
                observation[: self.max_observation_chars - 64] + f"\n[... {cut:,} characters cut]"
            )
        info["error"] = error.model_dump() if error else None
        info.update(self._step_extras)  # what the subclass measured in this step (timings)
        self._step_extras = {}
        self._done = terminated or truncated
        if self._done:
            assert self._verdict is not None
            info["success"] = self._verdict.success
            info["verdict"] = self._verdict.reason
        self._conversation.add_turn(action_to_text(action), observation, done=self._done)
        return observation, float(reward), terminated, truncated, info

    def _fail_episode(self, failure: Exception) -> None:
        """End the episode an infrastructure failure broke: nothing the agent did is scored.

        Agent mistakes never raise (they are observations), so an exception out of a tool or the
        verifier means the sandbox, a server or a site failed. The episode is over, with no
        reward, and what it held is released; the caller records the failure, not a verdict.
        """
        self._done = True
        self._verdict = Verdict(
            score=0.0,
            success=False,
            reason=f"infrastructure failure: {type(failure).__name__}: {failure}",
        )
        with contextlib.suppress(Exception):  # the failure being reported matters, not this one
            self._end_episode()

    def _run_calls(self, calls: list[ToolCall]) -> tuple[str, ActionError | None, str | None]:
        """Validate every call first, so one bad call rejects the turn with nothing done.

        Returns the results, the first error, and the final answer when the last call was one
        of a tool that ends the episode (and it ran).
        """
        if self.toolbox is None:
            message = "this environment has no tools; write your final answer."
            return f"Error: {message}", ActionError(type="unknown_tool", message=message), None
        checked = []
        for number, call in enumerate(calls, start=1):
            arguments, error = self.toolbox.validate(call)
            if error is None and number < len(calls) and self.toolbox.tools[call.name].ends_episode:
                error = ActionError(
                    type="invalid_action",
                    message=f"{call.name} ends the episode, so it must be the last action of "
                    "your message.",
                )
            if error is not None:
                note = "" if len(calls) == 1 else " None of the calls in this message were run."
                return f"Error: {error.message}{note}", error, None
            checked.append((call.name, arguments))
        blocks, first_error = [], None
        for name, arguments in checked:
            try:
                result = self._call_tool(name, arguments)
            except ToolError as refusal:
                blocks.append(self._render_error(name, str(refusal)))
                first_error = first_error or ActionError(type="tool_error", message=str(refusal))
                continue
            if self.toolbox.tools[name].ends_episode:
                return "\n".join(blocks), first_error, str(result)
            blocks.append(self._render_result(name, result))
        return "\n".join(blocks), first_error, None

    def render(self) -> str:
        """The episode so far as a readable transcript, with the verdict once it ended."""
        text = self._conversation.render()
        if self._verdict is not None:
            outcome = "solved" if self._verdict.success else "not solved"
            text += (
                f"\n\n[verdict] {outcome} (score {self._verdict.score:.2f}): {self._verdict.reason}"
            )
        return text

    def close(self) -> None:
        """Release every process and file the env made."""
        self._end_episode()
        super().close()

    # --------------------------------------------------------------------- privileged and fork
    def oracle_actions(self) -> list[str]:
        """The gold actions for the current task. Privileged: for oracles, never for agents."""
        if self._task is None:
            raise EnvStateError("call reset() before asking for the oracle's actions")
        return self._oracle_actions()

    @property
    def turn(self) -> int:
        """Turns taken in the current episode."""
        return self._turn

    @property
    def conversation(self) -> Conversation:
        """The messages of the current episode, as an agent sees them."""
        return self._conversation

    def fork(self) -> TextEnv:
        """An independent env in the identical state: same task, world, turn and RNG."""
        clone = self._fork_state()
        if clone is None:
            clone = self._replay()
        clone._np_random = copy.deepcopy(self._np_random)
        clone._np_random_seed = self._np_random_seed
        return clone

    def _replay(self) -> TextEnv:
        args, kwargs = self._init_args
        clone = type(self)(*args, **kwargs)
        clone.spec = self.spec
        if self._task is not None:
            clone.reset(options={**self._reset_options, "task_id": self._task.id})
            for action in self._actions:
                clone.step(action)
        return clone

    def _copy_episode_state(self, clone: TextEnv) -> None:
        """Copy the base's per-episode bookkeeping into a fast-forked clone."""
        clone.spec = self.spec
        clone._task = self._task
        clone._turn = self._turn
        clone._done = self._done
        clone._actions = list(self._actions)
        clone._reset_options = dict(self._reset_options)
        clone._verdict = self._verdict
        clone._conversation = self._conversation.copy()
