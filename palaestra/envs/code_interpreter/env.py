"""CodeInterpreter-v0: think, run Python in a persistent sandboxed session, read the output, answer.

Tool-integrated reasoning as in "Building Math Agents with Multi-Turn Iterative Preference
Learning": the agent runs code with a fenced ```python block or the ``python`` tool, in one
sandboxed session per episode (variables, imports and files persist), and ends with a final answer
in the task's format. The reward is the task family's verdict: symbolic equivalence for math,
the fraction of hidden unit tests passed (run afterwards in a fresh sandbox) for programming, a
numeric comparison for data analysis.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from palaestra.core.env import TextEnv
from palaestra.core.tools import Toolbox, tool
from palaestra.core.types import ToolCall, Verdict
from palaestra.envs.code_interpreter.families import resolve_families
from palaestra.errors import ConfigError, SandboxError
from palaestra.sandbox import (
    ExecResult,
    Sandbox,
    SandboxConfig,
    close_quietly,
    env_sandbox_settings,
    make_sandbox,
)
from palaestra.tasks import Split
from palaestra.tasks.code import CodeTask, TaskFamily

__all__ = ["CodeInterpreterEnv"]

_INSTRUCTIONS = """\
You solve problems by reasoning and running Python code. {description}

To run code, write it in a fenced block:
```python
print(2 ** 10)
```
or call the python tool:
<tool_call>{{"name": "python", "arguments": {{"code": "print(2 ** 10)"}}}}</tool_call>
The code runs in a persistent Python session: variables, imports and files stay between runs, and
the files of the task are in the working directory. You see what it prints, the value of its last
expression, and any error. A run is stopped after {timeout:g} seconds.

When you are done, reply with no code to run: {answer_format}"""


class _PythonTool:
    @tool
    def python(self, code: str) -> None:
        """Run Python code in your persistent session and see its output.

        Args:
            code: The Python source to run.
        """


class CodeInterpreterEnv(TextEnv):
    """Solve problems by running Python in a sandbox, then answering.

    Args:
        family: ``"math"``, ``"programming"``, ``"data"``, a `TaskFamily` (e.g.
            ``MathFamily.from_jsonl(path)``), or a list of them; all three built-ins by default.
        split: ``"train"`` or ``"test"``.
        sandbox: ``"local"`` (bubblewrap, the default) or ``"docker"``.
        sandbox_config: limits of the agent's sandbox (and of the grading sandboxes).
        timeout_s: wall-clock limit of one code run.
        max_turns: turn limit (defaults to the registered ``max_episode_steps``, 8).
        render_mode: ``"ansi"`` or None.
    """

    default_max_turns = 8
    code_blocks = True
    max_observation_chars = 65_536

    def __init__(
        self,
        *,
        family: str | TaskFamily | Sequence[str | TaskFamily] | None = None,
        split: Split = "train",
        sandbox: str = "local",
        sandbox_config: SandboxConfig | dict[str, Any] | None = None,
        timeout_s: float = 10.0,
        max_turns: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        super().__init__(max_turns=max_turns, render_mode=render_mode)
        if split not in ("train", "test"):
            raise ConfigError(f"split must be 'train' or 'test', got {split!r}")
        self.sandbox_config = env_sandbox_settings(sandbox, sandbox_config, timeout_s)
        self.split: Split = split
        self.families = resolve_families(family)
        self.sandbox_kind = sandbox
        self.toolbox = Toolbox.of(_PythonTool)
        self.sandbox: Sandbox | None = None
        self._needs_fresh_session = True

    # ----------------------------------------------------------------------------- episodes
    def _select_task(self, task_id: str | None) -> CodeTask:
        if task_id is None:
            family = self.families[int(self.np_random.integers(len(self.families)))]
            return family.sample(self.np_random, self.split)
        prefix = task_id.split("-", 1)[0]
        for family in self.families:
            if family.name == prefix:
                return family.get(task_id, self.split)
        names = ", ".join(f.name for f in self.families)
        from palaestra.errors import TaskError

        raise TaskError(f"task {task_id!r} belongs to none of this env's families ({names})")

    def _start(self, task: CodeTask) -> tuple[str, dict[str, Any]]:
        # The session starts at the first run, so episodes that never run code cost nothing.
        self._needs_fresh_session = True
        return task.prompt, {"family": task.family, "difficulty": task.difficulty}

    def _instructions(self) -> str:
        family = self._family(self._task)
        return _INSTRUCTIONS.format(
            description=family.description,
            timeout=self.sandbox_config.timeout_s,
            answer_format=family.answer_format,
        )

    def _family(self, task: CodeTask) -> TaskFamily:
        return next(f for f in self.families if f.name == task.family)

    # --------------------------------------------------------------------------- running code
    def _session(self) -> Sandbox:
        """The episode's sandbox, started (or wiped) on first use, with the task's files."""
        if self.sandbox is None:
            self.sandbox = make_sandbox(self.sandbox_kind, self.sandbox_config)
        elif self._needs_fresh_session:
            self.sandbox.reset()
        if self._needs_fresh_session:
            self._upload_files()
            self._needs_fresh_session = False
        return self.sandbox

    def _upload_files(self) -> None:
        assert self.sandbox is not None
        for name, content in self._task.files.items():
            self.sandbox.upload(content.encode("utf-8"), name)

    def _call_tool(self, name: str, arguments: dict[str, Any]) -> ExecResult | str:
        try:
            result = self._session().run(arguments["code"])
        except SandboxError:
            # The sandbox itself failed, not the agent's code: the episode cannot be scored
            # fairly, so it ends as an infrastructure failure (see TextEnv.step).
            self._discard_sandbox()
            raise
        if result.state_lost:
            self._upload_files()  # the task's files come back; the agent's own are gone
        self._step_extras["run_seconds"] = (
            self._step_extras.get("run_seconds", 0.0) + result.duration_s
        )
        return result

    def _discard_sandbox(self) -> None:
        close_quietly(self.sandbox)
        self.sandbox = None
        self._needs_fresh_session = True

    def _render_result(self, name: str, result: Any) -> str:
        if isinstance(result, str):
            return f"<tool_response>\n{result}\n</tool_response>"
        return f"<tool_response>\n{result.as_text()}\n</tool_response>"

    # ------------------------------------------------------------------------------ verdict
    def _verify(self, answer: str) -> Verdict:
        family = self._family(self._task)
        return family.verify(self._task, answer, self._grading_sandbox)

    def _grading_sandbox(self) -> Sandbox:
        """A fresh sandbox for hidden tests: never the agent's, so it cannot be tampered with."""
        return make_sandbox(self.sandbox_kind, self.sandbox_config)

    def _oracle_actions(self) -> list[str]:
        task: CodeTask = self._task
        run = ToolCall(name="python", arguments={"code": task.reference_code}).to_text()
        return [run, task.solution]

    # --------------------------------------------------------------------------- lifecycle
    def _fork_state(self) -> CodeInterpreterEnv:
        args, kwargs = self._init_args
        clone = type(self)(*args, **kwargs)
        self._copy_episode_state(clone)
        clone._needs_fresh_session = self._needs_fresh_session
        if self.sandbox is not None and not self._needs_fresh_session:
            clone.sandbox = self.sandbox.fork()
        return clone

    def close(self) -> None:
        """Close the sandbox: no process of the episode outlives the env."""
        self._discard_sandbox()
        super().close()
