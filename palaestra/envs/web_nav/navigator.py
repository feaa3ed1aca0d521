"""The agent's browser controls as typed tools.

click, type, select, check, scroll, goto, back, answer and give_up: one `Navigator` per episode,
over a backend and the episode's site session.

Every check happens before the backend is touched, so a refused action (an id that is not on
the page, a URL off the site, an option the list does not have) changes nothing. Ids are those
of the page as last shown; they are renumbered whenever the page changes.
"""

from __future__ import annotations

import posixpath
from typing import Literal
from urllib.parse import unquote, urljoin, urlsplit

from palaestra.core.tools import Toolbox, tool
from palaestra.envs.web_nav.backends import Backend
from palaestra.envs.web_nav.page import Element
from palaestra.errors import ToolError

__all__ = ["Navigator"]

_CLICKABLE = frozenset({"link", "button", "checkbox", "radio", "textbox", "combobox"})


class Navigator:
    """The episode's page, history and view window, and the agent's actions on them."""

    def __init__(self, backend: Backend, site: str, *, view_chars: int) -> None:
        self.backend = backend
        self.site = site
        self.view_chars = view_chars
        self.history: list[str] = []
        self.first_line = 0
        self.gave_up: str | None = None
        self.pinned = False
        """A one-page task (MiniWoB++): opening another page would lose the episode."""

    @classmethod
    def toolbox(cls) -> Toolbox:
        """The browser actions (built once)."""
        return Toolbox.of(cls)

    def open(self, path: str) -> None:
        """Load a page and start a fresh view of it (the history grows by one)."""
        self.backend.open(path)
        self.history.append(self.backend.page.url)
        self.first_line = 0

    def view(self) -> str:
        """The current page as the agent reads it."""
        text, _ = self.backend.page.view(self.first_line, self.view_chars)
        return text

    # ----------------------------------------------------------------------------- the tools
    @tool
    def click(self, id: int) -> str:
        """Click the element [id]: follow a link, press a button, tick a checkbox.

        Args:
            id: the number in brackets before the element on the page.
        """
        element = self._element(id, _CLICKABLE)
        note = self.backend.click(element)
        if element.role in ("link", "button"):
            self._loaded()
        return note or f"Clicked {element.describe()}."

    @tool
    def type(self, id: int, text: str) -> str:
        """Type text into the field [id], replacing what it holds.

        Args:
            id: the number of a textbox.
            text: the text to enter.
        """
        element = self._element(id, {"textbox"})
        self.backend.type(element, text)
        return f"Typed into {element.describe()}."

    @tool
    def select(self, id: int, option: str) -> str:
        """Choose an option of the drop-down [id] by its label.

        Args:
            id: the number of a combobox.
            option: the option's label, as listed after "options:".
        """
        element = self._element(id, {"combobox"})
        if option not in element.options:
            listed = ", ".join(element.options) or "none"
            raise ToolError(f"{element.describe()} has no option {option!r}; options: {listed}")
        self.backend.select(element, option)
        return f'Selected "{option}" in {element.describe()}.'

    @tool
    def check(self, id: int) -> str:
        """Tick or untick the checkbox [id], or choose the radio button [id].

        Args:
            id: the number of a checkbox or radio button.
        """
        element = self._element(id, {"checkbox", "radio"})
        self.backend.check(element)
        return f"Toggled {element.describe()}."

    @tool
    def scroll(self, direction: Literal["up", "down"]) -> str:
        """Move the view of a long page up or down.

        Args:
            direction: "up" or "down".
        """
        _, shown = self.backend.page.view(self.first_line, self.view_chars)
        lines = len(self.backend.page.lines)
        if direction == "down":
            if self.first_line + shown >= lines:
                raise ToolError("already at the bottom of the page")
            self.first_line += shown
        else:
            if self.first_line == 0:
                raise ToolError("already at the top of the page")
            self.first_line = max(0, self.first_line - shown)
        return f"Scrolled {direction}."

    @tool
    def goto(self, url: str) -> str:
        """Open a page of this site by its URL or path, such as /shop/cart.

        Args:
            url: a path of this site (or a full URL of it).
        """
        self._refuse_if_pinned()
        self.backend.open(self._site_path(url))
        self._loaded()
        return f"Opened {self.backend.page.url}."

    @tool
    def back(self) -> str:
        """Go back to the previous page."""
        self._refuse_if_pinned()
        if len(self.history) < 2:
            raise ToolError("there is no previous page in this episode")
        self.history.pop()
        self.backend.open(self.history[-1])
        self.first_line = 0
        return f"Went back to {self.backend.page.url}."

    @tool(ends_episode=True)
    def answer(self, text: str) -> str:
        """Give your final answer (or say the task is done); this ends the episode.

        Args:
            text: the answer the user asked for, or a short confirmation.
        """
        return text

    @tool(ends_episode=True)
    def give_up(self, reason: str) -> str:
        """Say the task cannot be done on this site and why; this ends the episode.

        Args:
            reason: why it cannot be done.
        """
        self.gave_up = reason
        return reason

    # ------------------------------------------------------------------------------ helpers
    def _element(self, id: int, roles: set[str] | frozenset[str]) -> Element:
        element = self.backend.page.elements.get(id)
        if element is None:
            count = len(self.backend.page.elements)
            raise ToolError(
                f"there is no element [{id}] on this page (its elements are [1] to [{count}])"
                if count
                else f"there is no element [{id}]: this page has no interactive elements"
            )
        if element.role not in roles:
            raise ToolError(f"{element.describe()} is a {element.role}; expected {_or(roles)}")
        if element.node.get("disabled") is not None:
            raise ToolError(f"{element.describe()} is disabled")
        if element.role == "link":
            self._site_path(urljoin(self.backend.page.url, element.node.get("href") or ""))
        return element

    def _refuse_if_pinned(self) -> None:
        if self.pinned:
            raise ToolError("this task is played on its one page: goto and back would end it")

    def _site_path(self, url: str) -> str:
        """The path of a URL of this site; anything else is refused (nothing leaves the host)."""
        if not isinstance(url, str) or not url.strip():
            raise ToolError("goto needs a URL such as /shop/cart")
        parts = urlsplit(urljoin(self.backend.page.url, url.strip()))
        if parts.scheme not in ("", "http", "https") or (
            parts.netloc and parts.netloc not in self._own_hosts()
        ):
            raise ToolError(
                f"{url!r} is not on this site; only pages under /{self.site}/ can be opened"
            )
        path = parts.path or "/"
        # What the server sees: escapes decoded, dot segments resolved (a browser does both).
        seen = posixpath.normpath(unquote(path))
        if not (seen == f"/{self.site}" or seen.startswith(f"/{self.site}/")):
            raise ToolError(
                f"{url!r} is not on this site; only pages under /{self.site}/ can be opened"
            )
        if any(ord(c) < 32 or ord(c) == 127 for c in unquote(path + parts.query)):
            raise ToolError(f"{url!r} holds control characters; a URL cannot")
        return path + (f"?{parts.query}" if parts.query else "")

    def _own_hosts(self) -> set[str]:
        base = getattr(self.backend, "base_url", None)
        return {"web"} | ({urlsplit(base).netloc} if base else set())

    def _loaded(self) -> None:
        """After a page (re)load: a fresh view, and the history grows when the URL changed."""
        self.first_line = 0
        if self.history[-1] != self.backend.page.url:
            self.history.append(self.backend.page.url)


def _or(roles: set[str] | frozenset[str]) -> str:
    ordered = sorted(roles)
    return ordered[0] if len(ordered) == 1 else ", ".join(ordered[:-1]) + " or " + ordered[-1]
