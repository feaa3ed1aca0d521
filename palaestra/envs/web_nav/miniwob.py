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
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from palaestra.errors import EnvStateError, MissingDependencyError

if TYPE_CHECKING:
    from palaestra.envs.web_nav.browser import BrowserBackend

__all__ = [
    "MINIWOB_CHROME",
    "MINIWOB_FORM_TASKS",
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
