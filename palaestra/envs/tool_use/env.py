"""ToolUse-v0: stateful service worlds with typed tools, verified by their final state.

The agent serves a user's request in a simulated service (retail orders, calendar scheduling,
travel booking) by calling tools that read and write the world. The episode ends when the agent
answers without a tool call; the reward is 1.0 when the final world equals the world that the
gold actions produce from the same start (and the answer states what was asked), else 0.0.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from palaestra.core.env import TextEnv
from palaestra.core.parsing import TOOL_CALL_FORMAT
from palaestra.core.types import Verdict
from palaestra.envs.tool_use.tasks import ToolUseTask, ToolUseTasks
from palaestra.envs.tool_use.world import World
from palaestra.tasks import Split, answer_matches, diff_states

__all__ = ["ToolUseEnv"]

_INSTRUCTIONS = """\
You are an assistant for {description}. You handle the user's request by calling tools.

To call a tool, write:
{format}
For example:
{example}
You may call several tools in one message. Each result comes back in a <tool_response> block.
When the request is fully handled, reply with a short final message that contains no tool call;
that message ends the conversation. If the user asked a question, state the answer in it.

Rules: {policy} Do exactly what the user asked and nothing else: any other change is a mistake.

Tools:
{tools}"""


class ToolUseEnv(TextEnv):
    """Serve a user's request in a simulated service by calling its tools.

    Args:
        domain: ``"retail"``, ``"calendar"``, ``"travel"`` or a list of them; all by default.
        difficulty: level 1 (one call), 2 (two or three), 3 (four or more), or a list of
            levels; all by default.
        split: ``"train"`` or ``"test"``; disjoint by construction.
        max_turns: turn limit (defaults to the registered ``max_episode_steps``, 16).
        render_mode: ``"ansi"`` or None; ``render()`` returns the transcript either way.
    """

    default_max_turns = 16

    def __init__(
        self,
        *,
        domain: str | Sequence[str] | None = None,
        difficulty: int | Sequence[int] | None = None,
        split: Split = "train",
        max_turns: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        super().__init__(max_turns=max_turns, render_mode=render_mode)
        self.tasks = ToolUseTasks(split=split, domain=domain, difficulty=difficulty)
        self.world: World | None = None

    def _select_task(self, task_id: str | None) -> ToolUseTask:
        if task_id is not None:
            return self.tasks.get(task_id)
        return self.tasks.sample(self.np_random)

    def _start(self, task: ToolUseTask) -> tuple[str, dict[str, Any]]:
        world_class = task.domain.world
        self.world = world_class(copy.deepcopy(task.initial_state))
        self.toolbox = world_class.toolbox()
        return task.task.prompt, {"domain": task.task.domain, "difficulty": task.task.difficulty}

    def _instructions(self) -> str:
        domain = self._task.domain
        assert self.toolbox is not None
        return _INSTRUCTIONS.format(
            description=domain.description,
            format=TOOL_CALL_FORMAT,
            example=domain.example.to_text(),
            policy=domain.world.policy,
            tools=self.toolbox.describe(),
        )

    def _call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        assert self.world is not None
        return self.world.call(name, arguments)

    def _verify(self, answer: str) -> Verdict:
        task: ToolUseTask = self._task
        assert self.world is not None
        differences = diff_states(task.final_state, self.world.state)
        answered = task.task.answer is None or answer_matches(
            task.task.answer, answer, context=task.task.prompt
        )
        if not differences and answered:
            return Verdict(score=1.0, success=True, reason="the final state and answer are correct")
        problems = []
        if differences:
            problems.append("the final state differs: " + "; ".join(differences))
        if not answered:
            problems.append("the final answer does not state the requested information")
        return Verdict(score=0.0, success=False, reason="; ".join(problems))

    def _oracle_actions(self) -> list[str]:
        task = self._task.task
        calls = [call.to_text() for call in task.gold_actions]
        final = f"Done. The answer is {task.answer}." if task.answer is not None else "Done."
        return [*calls, final]

    def _fork_state(self) -> ToolUseEnv:
        args, kwargs = self._init_args
        clone = type(self)(*args, **kwargs)
        self._copy_episode_state(clone)
        clone.toolbox = self.toolbox
        clone.world = self.world.copy() if self.world is not None else None
        return clone
