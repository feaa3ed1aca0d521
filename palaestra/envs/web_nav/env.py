"""WebNav-v0: web navigation over the env's own sites, verified from the sites' server state.

The agent reads a page rendered as text with numbered elements and acts on it with commands
(``click [12]``, ``type [3] "blue mug"``, ``select [5] "M"``, ``check [7]``, ``scroll down``,
``goto "/shop/cart"``, ``back``), BrowserGym's forms (``click('12')``) or the same actions as
tool calls. ``answer "..."`` ends the episode with an answer, ``give_up "reason"`` declares the
task impossible; a message with no action is a final answer too. The reward is 1.0 when the
site's state tables end exactly as the task requires (nothing else changed) and the answer, if
one was asked for, states the expected value; infeasible tasks are solved only by giving up.

Each episode has its own session on the process's `Host`: a private copy of the site's
database, found through a cookie, released on reset and close.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, Literal

from palaestra.core.env import TextEnv
from palaestra.core.parsing import TOOL_CALL_FORMAT
from palaestra.core.types import ToolCall, Verdict
from palaestra.envs.web_nav.backends import Backend, TextBackend
from palaestra.envs.web_nav.host import Host, host
from palaestra.envs.web_nav.miniwob import MiniWoBTask, MiniWoBTasks
from palaestra.envs.web_nav.navigator import Navigator
from palaestra.envs.web_nav.sites.base import Session
from palaestra.envs.web_nav.tasks import Step, WebTask, WebTasks
from palaestra.errors import ConfigError, EnvStateError
from palaestra.tasks import Split

__all__ = ["WebNavEnv"]

Backends = Literal["text", "browser"]

_INSTRUCTIONS = """\
You are a web agent using {description}. You act on the page shown to you, one or more actions
per message, each on its own line:

click [id]               follow a link, press a button, tick a checkbox
type [id] "text"         replace the text in a field
select [id] "option"     choose an option of a drop-down
check [id]               tick or untick a checkbox, choose a radio button
scroll down | scroll up  see more of a long page
goto "/{site}/path"      open a page of this site
back                     go back to the previous page
answer "text"            give the answer the user asked for (or "Done."); this ends the task
give_up "reason"         say the task cannot be done on this site; this ends the task

The [id] numbers are those shown before each element of the current page; they change when the
page changes. Tool calls work as well: {format}.
After each message you see the result of your actions and the page as it is now.
Do exactly what the user asked and nothing else: other changes (orders, settings, bookings)
count as mistakes. If the request cannot be fulfilled on this site, use give_up."""


class WebNavEnv(TextEnv):
    """Navigate a website to answer a question or get something done.

    Args:
        site: ``"shop"``, ``"wiki"``, ``"forms"`` or a list of them; all by default. Or
            ``"miniwob"``: MiniWoB++'s task pages (browser backend only), scored by the page.
        difficulty: level 1-3 (how many pages and actions the task needs), or a list of them.
        task: with ``site="miniwob"``, the MiniWoB++ task name(s); by default those whose
            targets are links, buttons and fields (`MINIWOB_FORM_TASKS`).
        split: ``"train"`` or ``"test"``; disjoint by construction.
        backend: ``"text"`` (in-process requests and an HTML parser, the fast default) or
            ``"browser"`` (Chromium through Playwright; runs the sites' JavaScript).
        view_chars: how much of a page one observation shows before it says to scroll.
        max_turns: turn limit (defaults to the registered ``max_episode_steps``, 30).
        render_mode: ``"ansi"`` or None; ``render()`` returns the transcript either way.
    """

    default_max_turns = 30
    text_commands = True
    command_aliases = {  # BrowserGym's names for the same actions
        "fill": "type",
        "select_option": "select",
        "go_back": "back",
        "send_msg_to_user": "answer",
        "report_infeasible": "give_up",
    }

    def __init__(
        self,
        *,
        site: str | Sequence[str] | None = None,
        difficulty: int | Sequence[int] | None = None,
        task: str | Sequence[str] | None = None,
        split: Split = "train",
        backend: Backends = "text",
        view_chars: int = 2400,
        max_turns: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        super().__init__(max_turns=max_turns, render_mode=render_mode)
        if backend not in ("text", "browser"):
            raise ConfigError(f"backend must be 'text' or 'browser', got {backend!r}")
        if not isinstance(view_chars, int) or view_chars < 200:
            raise ConfigError(f"view_chars must be an integer of at least 200, got {view_chars!r}")
        self.backend_name: Backends = backend
        self.view_chars = view_chars
        self.tasks: WebTasks | MiniWoBTasks
        if site == "miniwob":
            if backend != "browser" or difficulty is not None:
                raise ConfigError(
                    "site='miniwob' runs MiniWoB++'s own pages: it needs backend='browser' "
                    "and takes task= (names) instead of difficulty="
                )
            self.tasks = MiniWoBTasks(split=split, task=task)
        elif task is not None:
            raise ConfigError("task= names MiniWoB++ tasks; use it with site='miniwob'")
        else:
            self.tasks = WebTasks(
                split=split, site=site, difficulty=difficulty, javascript=backend == "browser"
            )
        self.host: Host = host()
        self.toolbox = Navigator.toolbox()
        self.session: Session | None = None
        self.navigator: Navigator | None = None
        self._oracle: list[str] | None = None

    # ------------------------------------------------------------------------ the episode
    def _select_task(self, task_id: str | None) -> WebTask | MiniWoBTask:
        if task_id is not None:
            return self.tasks.get(task_id)
        return self.tasks.sample(self.np_random)

    def _start(self, task: WebTask | MiniWoBTask) -> tuple[str, dict[str, Any]]:
        self.session = self.host.open_session(task.site, task.world_seed)
        self.navigator = Navigator(
            self._backend(self.session), task.site, view_chars=self.view_chars
        )
        request = task.open(self.navigator)
        self._oracle = None
        observation = f"{request}\n\n{self.navigator.view()}"
        extra = {
            "site": task.site,
            "difficulty": task.difficulty,
            "backend": self.backend_name,
            "url": self.navigator.backend.page.url,
        }
        return observation, extra

    def _backend(self, session: Session) -> Backend:
        if self.backend_name == "browser":
            from palaestra.envs.web_nav.browser import BrowserBackend

            return BrowserBackend(self.host, session.token)
        return TextBackend(self.host, session.token)

    def _instructions(self) -> str:
        title, description = self._task.about
        return _INSTRUCTIONS.format(
            description=f"{title}, {description}", site=self._task.site, format=TOOL_CALL_FORMAT
        )

    def _call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        navigator = self._navigator()
        result = getattr(navigator, name)(**arguments)
        self._step_extras = {"url": navigator.backend.page.url}
        return result

    def _render_result(self, name: str, result: Any) -> str:
        return str(result)

    def _render_error(self, name: str, message: str) -> str:
        return f"Error: {message}"

    def _observation(self, text: str) -> str:
        if self.navigator is None:
            return text
        return f"{text}\n\n{self.navigator.view()}" if text else self.navigator.view()

    def _navigator(self) -> Navigator:
        if self.navigator is None:
            raise EnvStateError("call reset() before step()")
        return self.navigator

    def _end_episode(self) -> None:
        if self.navigator is not None:
            self.navigator.backend.close()
            self.navigator = None
        if self.session is not None:
            self.host.close_session(self.session.token)
            self.session = None

    # ----------------------------------------------------------------------------- verdict
    def _ended(self) -> str | None:
        return self._task.ended(self._navigator())

    def _verify(self, answer: str) -> Verdict:
        if self.session is None:
            raise EnvStateError("call reset() before step()")
        verdict: Verdict = self._task.verify(self.session, self._navigator(), answer)
        return verdict

    # --------------------------------------------------------------------- privileged, fork
    def _oracle_actions(self) -> list[str]:
        """The gold plan resolved to element ids, by playing it in a fresh episode of the task."""
        task = self._task
        if task.plan is None:
            raise EnvStateError(f"{task.id} has no gold plan: its own page scores it")
        if self._oracle is None:
            self._oracle = self._resolve_plan(task)
        return list(self._oracle)

    def _resolve_plan(self, task: WebTask) -> list[str]:
        args, kwargs = self._init_args
        # The shadow episode plays the whole plan whatever this episode's turn limit is.
        shadow = type(self)(*args, **{**kwargs, "max_turns": len(task.plan) + 1})
        try:
            shadow.reset(options={"task_id": task.id})
            actions = []
            for number, step in enumerate(task.plan, start=1):
                action = _concrete(step, shadow._navigator(), task, number)
                actions.append(action)
                *_, info = shadow.step(action)
                if info["error"] is not None:
                    raise EnvStateError(
                        f"gold step {number} of {task.id} ({step}) failed: {info['error']}"
                    )
            return actions
        finally:
            shadow.close()

    def _fork_state(self) -> WebNavEnv | None:
        if self.backend_name != "text" or self.navigator is None or self.session is None:
            return None  # the browser's live page is rebuilt by replay
        args, kwargs = self._init_args
        clone = type(self)(*args, **kwargs)
        self._copy_episode_state(clone)
        task: WebTask = self._task
        clone.session = self.host.open_session(task.site, task.world_seed)
        self.session.database.backup(clone.session.database)
        clone.session.scratch = copy.deepcopy(self.session.scratch)
        backend = self.navigator.backend
        assert isinstance(backend, TextBackend)
        navigator = Navigator(
            backend.fork(clone.session.token), task.site, view_chars=self.view_chars
        )
        navigator.history = list(self.navigator.history)
        navigator.first_line = self.navigator.first_line
        navigator.gave_up = self.navigator.gave_up
        clone.navigator = navigator
        clone._oracle = self._oracle
        return clone


def _concrete(step: Step, navigator: Navigator, task: WebTask, number: int) -> str:
    """A gold step as the tool call an agent would write on the current page.

    A step's target becomes the tool's ``id`` argument; its text, the next parameter.
    """
    names = [name for name, _ in Navigator.toolbox().tools[step.action].parameters]
    values: list[Any] = []
    if step.role is not None:
        page = navigator.backend.page
        found = [e for e in page.elements.values() if e.role == step.role and e.name == step.name]
        if len(found) <= step.nth:
            named = [e.describe() for e in page.elements.values() if e.role == step.role][:12]
            raise EnvStateError(
                f"gold step {number} of {task.id}: no {step.role} named {step.name!r} "
                f"(nth={step.nth}) on {page.url}; its {step.role}s: {named}"
            )
        values.append(found[step.nth].id)
    if step.text is not None:
        values.append(step.text)
    arguments = dict(zip(names, values, strict=False))
    return ToolCall(name=step.action, arguments=arguments).to_text()
