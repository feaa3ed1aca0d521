"""What every WebNav site is: generated content, a template database, routes and task templates.

A site is a small web application (Starlette routes) over an in-memory SQLite database. Its
content is generated from a world seed once per process (`Site.world`, cached): the generated
records (``World.data``, what task templates read) and a template database holding them. Each
episode plays on its own copy of that database (`World.new_database`, SQLite's backup API: well
under a millisecond for these sizes), found through the episode's session cookie, so parallel
episodes never see each other's carts, orders or accounts.

Conventions every site keeps, because the renderer and both backends rely on them:

- Endpoints are ``async def`` and never block (the database is in memory); they read the
  episode's state with `session_of(request)` and a posted form with `posted(request)`.
- Pages are full HTML documents built with `layout`; forms use ``method="get"`` or
  ``method="post"`` with named fields and labels (``<label for=...>`` or a wrapping label), and
  the server validates what is posted, answering with the form again and an error message.
- An element that only works with JavaScript carries ``data-js`` (a button that fetches, a
  client-side filter box). Its script runs its work in `SCRIPT_HELPERS`' ``palaestraWork``
  (or fetches with ``palaestraFetch``), which counts what is in flight so the browser backend
  knows when the page has settled. The text
  backend refuses to click such an element and says the page needs ``backend="browser"``.
- What the verifier compares is in the tables named by ``state_tables``; scratch state (a
  cart) may live elsewhere.
"""

from __future__ import annotations

import html
import random
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.routing import BaseRoute

    from palaestra.envs.web_nav.tasks import WebTaskDraft

__all__ = [
    "SCRIPT_HELPERS",
    "Paged",
    "Session",
    "Site",
    "TaskTemplate",
    "World",
    "esc",
    "field_error",
    "href",
    "layout",
    "paginate",
    "posted",
    "session_of",
    "snapshot",
]

esc = html.escape
T = TypeVar("T")


@dataclass
class World:
    """A site's generated content for one world seed: the records and the template database."""

    site: str
    seed: int
    data: Any
    """The generated records (site-specific), what task templates and pages read."""
    template: sqlite3.Connection
    """The database every episode of this world starts from; never written after building."""

    def new_database(self) -> sqlite3.Connection:
        """A private copy of the template database for one episode."""
        copy = sqlite3.connect(":memory:", check_same_thread=False)
        self.template.backup(copy)
        copy.row_factory = sqlite3.Row
        return copy

    @cached_property
    def initial_state(self) -> dict[str, dict[str, dict[str, Any]]]:
        """The template's state tables as `snapshot` reads them (shared: never mutate)."""
        from palaestra.envs.web_nav.sites import SITES

        return snapshot(self.template, SITES[self.site].state_tables)


@dataclass
class Session:
    """One episode's site state: its world and its own database.

    The database is shared by the browser backend's server thread and the env's thread (which
    reads it to verify); SQLite serialises the calls of a shared connection.
    """

    token: str
    site: str
    world: World
    database: sqlite3.Connection
    scratch: dict[str, Any] = field(default_factory=dict)
    """Per-episode values a site keeps outside its tables (a cart, say)."""


def href(site: str, path: str) -> str:
    """The escaped absolute path of a page of the site named ``site`` (mounted at ``/site``)."""
    return esc(f"/{site}{path}")


def field_error(errors: Mapping[str, str], name: str) -> str:
    """The server's message under a form field that failed validation, or nothing."""
    message = errors.get(name)
    return f'<p class="error" id="error-{esc(name)}">{esc(message)}</p>' if message else ""


def session_of(request: Request) -> Session:
    """The episode's session, set by the host from the session cookie."""
    found: Session = request.state.session
    return found


async def posted(request: Request) -> dict[str, str]:
    """The fields of a posted urlencoded form (the last value of a repeated name wins)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return dict(parse_qsl(body, keep_blank_values=True))


@dataclass(frozen=True)
class Paged(Generic[T]):
    """One page of a listing: what it shows, its number (from 1), how many pages there are."""

    shown: list[T]
    number: int
    pages: int
    first: int
    """The index of the first shown item in the whole listing."""


def paginate(items: Sequence[T], page: str | None, size: int) -> Paged[T]:
    """Page ``page`` (the raw ``?page=`` value) of ``items``; a bad number gives a valid page."""
    pages = max(1, -(-len(items) // size))
    number = min(int(page), pages) if page and page.isdigit() and 0 < len(page) < 7 else 1
    number = max(number, 1)
    first = (number - 1) * size
    return Paged(list(items[first : first + size]), number, pages, first)


def snapshot(
    database: sqlite3.Connection, tables: Iterable[str]
) -> dict[str, dict[str, dict[str, Any]]]:
    """The rows of some tables as ``{table: {first column as text: {column: value}}}``."""
    state: dict[str, dict[str, dict[str, Any]]] = {}
    for table in tables:
        cursor = database.execute(f"SELECT * FROM {table}")  # noqa: S608 - names are the site's
        columns = [c[0] for c in cursor.description]
        state[table] = {str(row[0]): dict(zip(columns, row, strict=True)) for row in cursor}
    return state


TaskTemplate = Callable[[World, random.Random], "WebTaskDraft | None"]
"""Writes a task for a world, or returns None when the world has nothing that fits."""


class Site(ABC):
    """A web application the agent navigates, mounted at ``/<name>`` on the host.

    ALL subclasses set ``name``, ``title``, ``description`` and ``state_tables`` and implement
    `generate` (content and template database for a seed), `routes` and `templates`.
    SOME set ``worlds`` (how many world seeds tasks spread over) and ``home`` (the start page).
    """

    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    """What the site is, one line, for the system prompt."""
    state_tables: ClassVar[tuple[str, ...]]
    worlds: ClassVar[int] = 4
    home: ClassVar[str] = "/"

    @abstractmethod
    def generate(self, seed: int) -> World:
        """The content of world ``seed``: records and a filled template database."""

    @abstractmethod
    def routes(self) -> list[BaseRoute]:
        """The site's Starlette routes, with paths relative to the site root."""

    @abstractmethod
    def templates(self) -> dict[int, list[TaskTemplate]]:
        """Task templates by level (1-3: how many pages and actions the gold path needs)."""

    @classmethod
    def href(cls, path: str) -> str:
        """The escaped absolute path of a site page: ``href("/cart")`` is ``/shop/cart``."""
        return href(cls.name, path)

    def world(self, seed: int) -> World:
        """World ``seed``, generated once per process."""
        return _world(type(self), seed)


_WORLDS: dict[tuple[type, int], World] = {}
_WORLDS_LOCK = threading.Lock()


def _world(site_class: type[Site], seed: int) -> World:
    key = (site_class, seed)
    with _WORLDS_LOCK:
        if key not in _WORLDS:
            _WORLDS[key] = site_class().generate(seed)
        return _WORLDS[key]


SCRIPT_HELPERS = """
window.__palaestraPending = 0;
async function palaestraWork(job) {
  window.__palaestraPending += 1;
  try { return await job(); } finally { window.__palaestraPending -= 1; }
}
function palaestraFetch(url, options) {
  const settings = Object.assign({credentials: "same-origin"}, options || {});
  return palaestraWork(() => fetch(url, settings));
}
"""
"""What page scripts use so the browser backend knows when a page has settled: it waits until
no ``palaestraWork`` job is running. Wrap a handler's whole work, fetch and DOM update, in
``palaestraWork(async () => {...})``; ``palaestraFetch`` counts a bare fetch."""


def layout(
    site: type[Site] | Site,
    title: str,
    body: str,
    *,
    nav: Iterable[tuple[str, str]] = (),
    script: str = "",
) -> str:
    """A full page: ``<title>``, the site's navigation links (label, path), the body in <main>.

    ``body`` is HTML the caller escaped; paths are relative to the site root. ``script`` is
    JavaScript run after the page loads, with `SCRIPT_HELPERS` defined.
    """
    root = f"/{site.name}"
    links = " ".join(f'<a href="{site.href(path)}">{esc(label)}</a>' for label, path in nav)
    scripts = f"<script>{SCRIPT_HELPERS}\n{script}</script>" if script else ""
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)} - {esc(site.title)}</title></head><body>"
        f'<nav><a href="{root}/">{esc(site.title)}</a> {links}</nav>'
        f"<main>{body}</main>{scripts}</body></html>"
    )
