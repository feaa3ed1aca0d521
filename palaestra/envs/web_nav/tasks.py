"""WebNav's tasks: generated per site and level from a seed, verified from the site's state.

Task ``shop-2-417`` is what ``random.Random("shop/2/417")`` writes with one of the shop's level-2
templates on world ``417 % Site.worlds``. A template returns a `WebTaskDraft`: the request as a
user states it, the page it starts on, the gold plan as `Step` s that name their targets by role
and accessible name (the oracle resolves them to element ids on the live page, so the same plan
works in both backends), and what success is:

- information seeking: ``answer`` (an `Answer`: a value and its kind, compared with the typed
  normalizers of `palaestra.tasks.normalize`);
- state changing: ``changes``, the rows the site's state tables must end with (``None`` for a
  deleted row); every other row must be as it started (the collateral check);
- infeasible on purpose (``feasible=False``): only ``give_up`` with the state untouched succeeds.

The split is the hash of the statement (`palaestra.tasks.split_of`): train and test never share
a statement. Tasks whose gold plan needs JavaScript (``requires_js``) are only drawn for the
browser backend.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from palaestra.core.types import Verdict
from palaestra.envs.web_nav.sites import SITES
from palaestra.envs.web_nav.sites.base import snapshot
from palaestra.errors import ConfigError, TaskError
from palaestra.tasks import Split, diff_states, split_of
from palaestra.tasks.generated import Generated, checked, choose
from palaestra.tasks.normalize import AnswerKind, typed_match

if TYPE_CHECKING:
    from palaestra.envs.web_nav.navigator import Navigator
    from palaestra.envs.web_nav.sites.base import Session

__all__ = [
    "DIFFICULTIES",
    "Answer",
    "Step",
    "WebTask",
    "WebTaskDraft",
    "WebTasks",
    "answer",
    "back",
    "check",
    "click",
    "give_up",
    "goto",
    "make_task",
    "scroll",
    "select",
    "type_text",
]

DIFFICULTIES = (1, 2, 3)
_TASK_ID = re.compile(r"^([a-z]+)-([1-9])-(\d{1,10})$")
_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)

StepAction = Literal[
    "click", "type", "select", "check", "scroll", "goto", "back", "answer", "give_up"
]


@dataclass(frozen=True)
class Step:
    """One gold action, its target named by role and accessible name as the page renders it.

    ``nth`` picks among several elements with the same role and name (0 = the first on the
    page). ``text`` is what is typed, the option chosen, the URL, the direction, the answer.
    """

    action: StepAction
    role: str | None = None
    name: str | None = None
    text: str | None = None
    nth: int = 0


def click(role: str, name: str, nth: int = 0) -> Step:
    """Click the element with this role and name: ``click("link", "Blue mug")``."""
    return Step("click", role, name, nth=nth)


def type_text(name: str, text: str, role: str = "textbox", nth: int = 0) -> Step:
    """Type ``text`` into the field labelled ``name`` (replacing its value)."""
    return Step("type", role, name, text, nth)


def select(name: str, option: str, nth: int = 0) -> Step:
    """Choose the option labelled ``option`` in the drop-down labelled ``name``."""
    return Step("select", "combobox", name, option, nth)


def check(name: str, role: str = "checkbox", nth: int = 0) -> Step:
    """Tick or untick the checkbox (or choose the radio button, ``role="radio"``) ``name``."""
    return Step("check", role, name, nth=nth)


def scroll(direction: Literal["up", "down"]) -> Step:
    """Scroll the page view up or down."""
    return Step("scroll", text=direction)


def goto(path: str) -> Step:
    """Open a page of the site by its path, ``goto("/shop/cart")``."""
    return Step("goto", text=path)


def back() -> Step:
    """Go back to the previous page."""
    return Step("back")


def answer(text: str) -> Step:
    """The final answer (information-seeking tasks): ends the episode."""
    return Step("answer", text=text)


def give_up(reason: str) -> Step:
    """Declare the task impossible: ends the episode."""
    return Step("give_up", text=reason)


@dataclass(frozen=True)
class Answer:
    """The expected answer of an information-seeking task and how answers are compared."""

    value: str
    kind: AnswerKind = "text"


@dataclass(frozen=True)
class WebTaskDraft:
    """A task as a template writes it (see the module docstring)."""

    prompt: str
    start: str
    """The path the episode starts on, with the site prefix: ``"/shop/"``."""
    plan: tuple[Step, ...]
    """The gold path, ending with `answer`, `give_up`, or the last step that changes state."""
    answer: Answer | None = None
    changes: dict[str, dict[str, dict[str, Any] | None]] = field(default_factory=dict)
    """``{table: {row key: the row it must end as, or None when it must be deleted}}``."""
    feasible: bool = True
    requires_js: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WebTask:
    """A generated task: its id, split, the draft and the state its success is checked against.

    Shared by every episode of the task and never mutated.
    """

    id: str
    site: str
    difficulty: int
    world_seed: int
    split: Split
    draft: WebTaskDraft
    final_state: dict[str, dict[str, dict[str, Any]]]
    """The state tables as a solved episode leaves them."""

    @property
    def prompt(self) -> str:
        """The request, as the user states it."""
        return self.draft.prompt

    @property
    def plan(self) -> tuple[Step, ...]:
        """The gold path (privileged)."""
        return self.draft.plan

    @property
    def about(self) -> tuple[str, str]:
        """The site's title and what it is, for the system prompt."""
        site = SITES[self.site]
        return site.title, site.description

    def open(self, navigator: Navigator) -> str:
        """Load the start page; the request as the agent first reads it."""
        navigator.open(self.draft.start)
        return self.prompt

    def ended(self, navigator: Navigator) -> str | None:
        """Episodes of the sites end only when the agent says so."""
        return None

    def verify(self, session: Session, navigator: Navigator, answer: str) -> Verdict:
        """The verdict on the session's state tables, the answer, and whether the agent gave up."""
        tagged = _ANSWER_TAG.search(answer)
        answer = tagged.group(1) if tagged else answer
        state = snapshot(session.database, SITES[self.site].state_tables)
        # Where the state is wrong, not what it should hold: a fork could read the verdict.
        differences = [d.split(": expected", 1)[0] for d in diff_states(self.final_state, state)]
        gave_up = navigator.gave_up is not None
        draft = self.draft
        if not draft.feasible:
            if gave_up and not differences:
                return Verdict(score=1.0, success=True, reason="correctly gave up: infeasible")
            why = "the task is infeasible; the agent should have given up"
            if differences:
                why += "; the state changed: " + "; ".join(differences)
            return Verdict(score=0.0, success=False, reason=why)
        problems = []
        if gave_up:
            problems.append("gave up on a task that can be done")
        if differences:
            problems.append("the site's state differs: " + "; ".join(differences))
        if draft.answer is not None and not typed_match(
            draft.answer.kind, draft.answer.value, answer
        ):
            problems.append(f"the answer does not state the requested {draft.answer.kind}")
        if problems:
            return Verdict(score=0.0, success=False, reason="; ".join(problems))
        return Verdict(score=1.0, success=True, reason="the site's state and the answer are right")


@lru_cache(maxsize=8192)
def make_task(site: str, difficulty: int, index: int) -> WebTask | None:
    """Task ``index`` of a site and level, or None when that index yields no task."""
    spec = SITES[site]
    world_seed = index % spec.worlds
    world = spec.world(world_seed)
    rng = random.Random(f"{site}/{difficulty}/{index}")
    templates = spec.templates()[difficulty]
    draft = rng.choice(templates)(world, rng)
    if draft is None:
        return None
    # Rows are replaced or dropped, never changed in place: copying the tables is enough.
    final_state = {table: dict(rows) for table, rows in world.initial_state.items()}
    for table, rows in draft.changes.items():
        if table not in final_state:
            raise TaskError(f"{site} template changes {table!r}, which is not a state table")
        for key, row in rows.items():
            if row is None:
                final_state[table].pop(key, None)
            else:
                final_state[table][key] = row
    return WebTask(
        id=f"{site}-{difficulty}-{index}",
        site=site,
        difficulty=difficulty,
        world_seed=world_seed,
        split=split_of(f"{site}\n{draft.prompt}"),
        draft=draft,
        final_state=final_state,
    )


class WebTasks:
    """The tasks of one split, for some sites and levels; JavaScript tasks only when allowed."""

    def __init__(
        self,
        split: Split = "train",
        site: str | Sequence[str] | None = None,
        difficulty: int | Sequence[int] | None = None,
        *,
        javascript: bool = False,
    ) -> None:
        if split not in ("train", "test"):
            raise ConfigError(f"split must be 'train' or 'test', got {split!r}")
        self.split: Split = split
        self.sites: tuple[str, ...] = choose(site, "site", SITES)
        self.difficulties: tuple[int, ...] = choose(difficulty, "difficulty", DIFFICULTIES)
        self.javascript = javascript
        self._generated = Generated(self._make, self.sites, self.difficulties)

    def _make(self, site: str, difficulty: int, index: int) -> WebTask | None:
        task = make_task(site, difficulty, index)
        if task is not None and task.draft.requires_js and not self.javascript:
            return None
        return task

    def get(self, task_id: str) -> WebTask:
        """The task with this id; it must exist, belong to this split and suit the backend."""
        match = _TASK_ID.match(task_id) if isinstance(task_id, str) else None
        if match is None or match.group(1) not in SITES or int(match.group(2)) not in DIFFICULTIES:
            raise TaskError(
                f"{task_id!r} is not a WebNav task id; ids look like 'shop-2-417' "
                f"(site: {', '.join(SITES)}; level: 1-3; then an index)"
            )
        found = make_task(match.group(1), int(match.group(2)), int(match.group(3)))
        if found is not None and found.draft.requires_js and not self.javascript:
            raise TaskError(
                f"task {task_id!r} needs JavaScript, which the text backend does not run; "
                "make the env with backend='browser'"
            )
        return checked(found, task_id, self.split)

    def sample(self, rng: np.random.Generator) -> WebTask:
        """A task drawn with ``rng``: a site, a level, then the first usable index from there."""
        return self._generated.sample(rng, self.split)

    def iterate(self, site: str, difficulty: int, start: int = 0) -> Iterator[WebTask]:
        """This split's tasks for one site and level, in index order from ``start``."""
        return self._generated.scan(site, difficulty, start, self.split)
