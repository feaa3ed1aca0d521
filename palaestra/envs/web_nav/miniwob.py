"""MiniWoB++ in WebNav: the ``miniwob`` package's task pages, served by the host, run in Chromium.

The package (``pip install miniwob``) ships each task as a static page,
``html/miniwob/<task>.html``, beside the shared ``core/`` and ``common/`` scripts; the host
serves that directory at ``/miniwob`` to sessions opened for the site ``"miniwob"``. An episode
goes the way miniwob's own environment starts one (``miniwob/selenium_instance.py``), through
`BrowserBackend.evaluate`:

1. open ``/miniwob/miniwob/<task>.html``: its ``onload`` shows the "START" cover;
2. `start_miniwob`: turn the episode timer off (``core.EPISODE_MAX_TIME``: a very long episode
   is the only switch), seed the task's random numbers (``Math.seedrandom(seed)``, the same call
   as miniwob's, so a seed gives the same problem as there), set the data mode, run
   ``core.startEpisodeReal()`` (which calls the task's ``genProblem``), wait for
   ``WOB_TASK_READY``; the instruction is ``core.getUtterance()``, the text of ``#query``;
3. after each action, `miniwob_result`: once the task's script calls ``core.endEpisode``,
   ``WOB_DONE_GLOBAL`` is true and ``WOB_RAW_REWARD_GLOBAL`` holds the reward before any time
   penalty (> 0 is a success; wrong answers give -1 or 0).

The rendered page leaves out MiniWoB's chrome (`MINIWOB_CHROME`: the reward display, the START
cover, the click canvas and the query, which the env shows as the instruction). Only tasks whose
targets are links, buttons and form fields can be played through the renderer's numbered
elements; `MINIWOB_FORM_TASKS` lists those a scripted agent solved that way.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from palaestra.core.types import Verdict
from palaestra.errors import EnvStateError, MissingDependencyError, TaskError
from palaestra.tasks import Split, split_of
from palaestra.tasks.generated import checked, choose, draw_start, scan

if TYPE_CHECKING:
    from palaestra.envs.web_nav.browser import BrowserBackend
    from palaestra.envs.web_nav.navigator import Navigator
    from palaestra.envs.web_nav.sites.base import Session

__all__ = [
    "MINIWOB_CHROME",
    "MINIWOB_FORM_TASKS",
    "MiniWoBTask",
    "MiniWoBTasks",
    "miniwob_app",
    "miniwob_html",
    "miniwob_result",
    "miniwob_tasks",
    "start_miniwob",
]

MINIWOB_CHROME = ("reward-display", "sync-task-cover", "click-canvas", "query")
"""Ids of the elements MiniWoB adds around a task, left out of the rendered page."""

MINIWOB_FORM_TASKS = (
    "choose-list",
    "click-button",
    "click-button-sequence",
    "click-checkboxes",
    "click-checkboxes-large",
    "click-dialog",
    "click-dialog-2",
    "click-option",
    "click-tab",
    "click-test",
    "click-test-2",
    "click-test-transfer",
    "copy-paste",
    "enter-password",
    "enter-text",
    "enter-text-2",
    "enter-text-dynamic",
    "find-word",
    "focus-text",
    "focus-text-2",
    "form-sequence-2",
    "login-user",
    "read-table",
    "simple-arithmetic",
    "text-transform",
    "unicode-test",
)
"""Tasks solved through the rendered page by a scripted agent (6 seeds each, all solved).

Their targets are links, buttons and form fields. Most other tasks click spans, drag, draw or
read shapes, which the renderer does not number.
"""

_EPISODE_MS = 2**30
"""The episode timer, in ms (12 days): off. (A timeout past 2**31 - 1 ms would fire at once.)"""

_START = """async ([seed, mode, longest]) => {
  core.EPISODE_MAX_TIME = longest;
  Math.seedrandom(seed);
  core.setDataMode(mode);
  core.startEpisodeReal();
  for (let waited = 0; !WOB_TASK_READY; waited += 10) {
    if (waited > 5000) return null;
    await new Promise((done) => setTimeout(done, 10));
  }
  const utterance = core.getUtterance();
  return typeof utterance === "string" ? utterance : utterance.utterance;
}"""

_RESULT = """() => typeof WOB_DONE_GLOBAL === "undefined" || !WOB_DONE_GLOBAL
  ? null : Number(WOB_RAW_REWARD_GLOBAL)"""


@cache
def miniwob_html() -> Path | None:
    """The miniwob package's ``html`` directory, or None when the package is not installed.

    Found without importing the package (its import registers gymnasium envs and may print).
    """
    spec = importlib.util.find_spec("miniwob")
    if spec is None or spec.origin is None:
        return None
    html = Path(spec.origin).parent / "html"
    return html if (html / "miniwob").is_dir() else None


def miniwob_app() -> Any:
    """The MiniWoB++ pages as an ASGI app, or None when the miniwob package is absent."""
    html = miniwob_html()
    if html is None:
        return None
    from starlette.staticfiles import StaticFiles

    return StaticFiles(directory=html)


def miniwob_tasks() -> list[str]:
    """Every MiniWoB++ task the package ships, by name (``click-button``, ...)."""
    html = miniwob_html()
    return [] if html is None else sorted(p.stem for p in (html / "miniwob").glob("*.html"))


def start_miniwob(backend: BrowserBackend, task: str, seed: int | str, mode: str = "train") -> str:
    """Open a MiniWoB++ task in the backend and start a seeded episode; its instruction.

    Args:
        backend: a browser backend on a host session of the site ``"miniwob"``
            (``host().open_session("miniwob", 0)``).
        task: a name from `miniwob_tasks`.
        seed: the episode's seed; the same seed gives the same problem (and the same as
            miniwob's own environment with that seed).
        mode: MiniWoB's data mode (``"train"``, as in miniwob's environment, or ``"test"``).

    Raises:
        MissingDependencyError: the miniwob package is not installed.
        EnvStateError: the task is unknown, or its page did not become ready.
    """
    if miniwob_html() is None:
        raise MissingDependencyError(
            "MiniWoB++ tasks need the miniwob package: pip install miniwob"
        )
    if task not in miniwob_tasks():
        raise EnvStateError(f"there is no MiniWoB++ task {task!r}; see miniwob_tasks()")
    backend.exclude = MINIWOB_CHROME
    backend.open(f"/miniwob/miniwob/{task}.html")
    utterance = backend.evaluate(_START, [seed, mode, _EPISODE_MS])
    if utterance is None:
        raise EnvStateError(f"the MiniWoB++ task {task!r} did not become ready")
    backend.refresh()
    return " ".join(str(utterance).split())


def miniwob_result(backend: BrowserBackend) -> tuple[bool, float] | None:
    """None while the episode runs; once the task ended it, (success, raw reward).

    The raw reward is MiniWoB's reward before its time penalty: 1.0 for a right answer, some
    tasks give partial credit, wrong answers -1.0 (or 0.0); success is a reward above 0.
    """
    reward = backend.evaluate(_RESULT)
    if reward is None:
        return None
    return reward > 0, float(reward)


_TASK_ID = re.compile(r"^miniwob/([a-z0-9-]+)/(\d{1,10})$")


@dataclass(frozen=True)
class MiniWoBTask:
    """One seeded episode of a MiniWoB++ task, as WebNav-v0 plays it (``miniwob/<name>/<seed>``).

    It has no gold plan: the task's own page decides the reward when it ends the episode.
    """

    name: str
    seed: int
    split: Split
    site = "miniwob"
    world_seed = 0
    difficulty = None
    plan = None

    @property
    def id(self) -> str:
        """``miniwob/<task name>/<seed>``."""
        return f"miniwob/{self.name}/{self.seed}"

    @property
    def about(self) -> tuple[str, str]:
        """A title and a description for the system prompt."""
        return "MiniWoB++", f"the MiniWoB++ task page {self.name!r}"

    def open(self, navigator: Navigator) -> str:
        """Start the seeded episode on its page (one page: goto and back would restart it)."""
        backend: Any = navigator.backend
        instruction = start_miniwob(backend, self.name, self.seed)
        navigator.history.append(backend.page.url)
        navigator.pinned = True
        return instruction

    def ended(self, navigator: Navigator) -> str | None:
        """The empty answer once the page has ended the episode, else None."""
        return "" if miniwob_result(navigator.backend) is not None else None  # type: ignore[arg-type]

    def verify(self, session: Session, navigator: Navigator, answer: str) -> Verdict:
        """The page's own reward: a success is a raw reward above 0."""
        result = miniwob_result(navigator.backend)  # type: ignore[arg-type]
        if result is None:
            return Verdict(score=0.0, success=False, reason="the task was not completed")
        success, raw = result
        reason = f"the task page scored it {raw:g}"
        return Verdict(score=1.0 if success else 0.0, success=success, reason=reason)


class MiniWoBTasks:
    """Seeded MiniWoB++ episodes of some tasks; a seed's split is the hash of its id."""

    def __init__(self, split: Split = "train", task: str | Sequence[str] | None = None) -> None:
        if miniwob_html() is None:
            raise MissingDependencyError(
                "MiniWoB++ tasks need the miniwob package: pip install miniwob"
            )
        self.split: Split = split
        self.names: tuple[str, ...] = (
            MINIWOB_FORM_TASKS if task is None else choose(task, "task", miniwob_tasks())
        )

    @staticmethod
    def _make(name: str, seed: int) -> MiniWoBTask:
        return MiniWoBTask(name, seed, split_of(f"miniwob/{name}/{seed}"))

    def get(self, task_id: str) -> MiniWoBTask:
        """The episode an id names; it must be one of this env's tasks and split."""
        match = _TASK_ID.match(task_id) if isinstance(task_id, str) else None
        if match is None or match.group(1) not in self.names:
            raise TaskError(
                f"{task_id!r} is not one of this env's MiniWoB++ tasks; ids look like "
                f"'miniwob/click-button/17' with a task among: {', '.join(self.names)}"
            )
        return checked(self._make(match.group(1), int(match.group(2))), task_id, self.split)

    def sample(self, rng: np.random.Generator) -> MiniWoBTask:
        """A task drawn with ``rng``, then the first seed of this split from a drawn start."""
        name = self.names[int(rng.integers(len(self.names)))]
        make = lambda seed: self._make(name, seed)  # noqa: E731
        return next(scan(make, draw_start(rng), self.split, what=f"miniwob {name}"))
