"""The two ways WebNav drives a page, with one semantics: `TextBackend` and `BrowserBackend`.

A backend holds the episode's current page and does what a browser does for the agent's
actions on numbered elements; the env checks ids, URLs and arguments before it calls one, and
renders the page the same way for both (`palaestra.envs.web_nav.page`):

- click: a link opens its URL; a submit button submits its form (GET: the URL with the fields
  as its query; POST: the fields urlencoded, then the redirect is followed); a checkbox or a
  radio button is checked; other buttons run their script (browser) or do nothing.
- type: replaces a field's value. select: chooses an option by its label. check: toggles a
  checkbox, chooses a radio button.
- goto / back: open a URL of the site; go back one page in the episode's own history (both
  backends load the previous URL again: no cache, so both read the same).

`TextBackend` (the default) sends requests in process through httpx and keeps the DOM itself with
lxml: it runs no JavaScript, so an element marked ``data-js`` is refused with a message that
names the browser backend. `BrowserBackend` (palaestra/envs/web_nav/browser.py) drives a real
Chromium.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import httpx

from palaestra.envs.web_nav.host import COOKIE, Host
from palaestra.envs.web_nav.page import Element, Page, parse_document, render
from palaestra.errors import EnvStateError, ToolError

__all__ = ["Backend", "TextBackend"]

NEEDS_JAVASCRIPT = (
    "{what} works only with JavaScript, which the text backend does not run; "
    "this page needs the browser backend (gym.make('WebNav-v0', backend='browser'))."
)


class Backend(ABC):
    """A page driver for one episode; see the module docstring."""

    page: Page

    @abstractmethod
    def open(self, path: str) -> None:
        """Load a page of the host by its path (and query)."""

    @abstractmethod
    def click(self, element: Element) -> str:
        """Click an element; a note when it did something other than navigate."""

    @abstractmethod
    def type(self, element: Element, text: str) -> None:
        """Replace a field's value."""

    @abstractmethod
    def select(self, element: Element, option: str) -> None:
        """Choose a combobox option by its label."""

    @abstractmethod
    def check(self, element: Element) -> None:
        """Toggle a checkbox, or choose a radio button."""

    @abstractmethod
    def close(self) -> None:
        """Release what the backend holds."""


def _field_value(node: Any) -> tuple[str, str] | None:
    """A form control's (name, value) as the browser would submit it, or None."""
    name = node.get("name")
    if not name or node.get("disabled") is not None:
        return None
    tag = node.tag
    if tag == "button":
        return None
    if tag == "textarea":
        return name, node.text_content()
    if tag == "select":
        options = list(node.iter("option"))
        chosen = next((o for o in options if o.get("selected") is not None), None)
        chosen = chosen if chosen is not None else (options[0] if options else None)
        if chosen is None:
            return None
        value = chosen.get("value")
        return name, value if value is not None else " ".join(chosen.text_content().split())
    kind = (node.get("type") or "text").lower()
    if kind in ("submit", "button", "reset", "image", "file"):
        return None
    if kind in ("checkbox", "radio"):
        if node.get("checked") is None:
            return None
        return name, node.get("value") or "on"
    return name, node.get("value") or ""


class TextBackend(Backend):
    """Requests in process, the DOM in lxml, no JavaScript."""

    def __init__(self, host: Host, token: str) -> None:
        self.host = host
        self.client = httpx.Client(
            transport=host.transport(),
            base_url="http://web",
            cookies={COOKIE: token},
            follow_redirects=True,
        )

    # ------------------------------------------------------------------------------ loading
    def open(self, path: str) -> None:
        """Load a page by its path (and query)."""
        try:
            request = self.client.build_request("GET", path)
        except httpx.InvalidURL as exc:
            raise ToolError(f"{path[:80]!r} is not a URL that can be opened: {exc}") from exc
        self._load(self.client.send(request))

    def _load(self, response: httpx.Response) -> None:
        if response.status_code == 403:
            raise EnvStateError(f"the site refused the episode's session: {response.text}")
        url = response.url.raw_path.decode("ascii", "replace")
        self.page = render(parse_document(response.content), url)

    # ------------------------------------------------------------------------------ actions
    def click(self, element: Element) -> str:
        """Follow a link, submit a form, or toggle a box; refuse JavaScript."""
        node = element.node
        if any(n.get("data-js") is not None for n in (node, *node.iterancestors())):
            raise ToolError(NEEDS_JAVASCRIPT.format(what=element.describe()))
        if element.role == "link":
            href = node.get("href") or ""
            if href.startswith("#") or not href:
                return "Nothing changed (the link points into this page)."
            self.open(urljoin(self.page.url, href))
            return ""
        if element.role in ("checkbox", "radio"):
            self.check(element)
            return ""
        if element.role == "button":
            return self._press(node)
        return "Nothing happened (clicking a field only focuses it; use type or select)."

    def _press(self, button: Any) -> str:
        kind = (button.get("type") or "submit").lower()
        form = self._form_of(button)
        if kind != "submit" or form is None:
            return "Nothing happened."
        if form.get("data-js") is not None:
            raise ToolError(NEEDS_JAVASCRIPT.format(what="this form"))
        # As a browser does: every named, enabled control in document order, shown or not,
        # and of the buttons only the one pressed.
        fields = []
        for control in form.iter("input", "select", "textarea", "button"):
            if control is button:
                if button.get("name"):
                    fields.append((button.get("name"), button.get("value") or ""))
            elif (pair := _field_value(control)) is not None:
                fields.append(pair)
        action = urljoin(self.page.url, form.get("action") or self.page.url)
        if (form.get("method") or "get").lower() == "post":
            self._load(
                self.client.post(
                    action,
                    content=urlencode(fields).encode(),
                    headers={"content-type": "application/x-www-form-urlencoded"},
                )
            )
        else:
            base = urlsplit(action)
            self.open(base.path + "?" + urlencode(fields))
        return ""

    def _form_of(self, node: Any) -> Any:
        owner = node.get("form")
        if owner:
            found = self.page.document.get_element_by_id(owner, None)
            if found is not None:
                return found
        return next(node.iterancestors("form"), None)

    def type(self, element: Element, text: str) -> None:
        """Set the field's value in the document."""
        node = element.node
        if node.tag == "textarea":
            for child in list(node):
                node.remove(child)
            node.text = text
        else:
            node.set("value", text)
        self._rerender()

    def select(self, element: Element, option: str) -> None:
        """Mark the option with this label as selected."""
        for candidate in element.node.iter("option"):
            if " ".join(candidate.text_content().split()) == option:
                candidate.set("selected", "selected")
            elif candidate.get("selected") is not None:
                del candidate.attrib["selected"]
        self._rerender()

    def check(self, element: Element) -> None:
        """Toggle a checkbox, or check a radio button and clear its group."""
        node = element.node
        if element.role == "radio":
            form = self._form_of(node)
            scope = form if form is not None else self.page.document
            for other in scope.iter("input"):
                if other.get("type") == "radio" and other.get("name") == node.get("name"):
                    other.attrib.pop("checked", None)
            node.set("checked", "checked")
        elif node.get("checked") is not None:
            del node.attrib["checked"]
        else:
            node.set("checked", "checked")
        self._rerender()

    def _rerender(self) -> None:
        self.page = render(self.page.document, self.page.url)

    # -------------------------------------------------------------------------------- fork
    def fork(self, token: str) -> TextBackend:
        """A backend on another session showing the same page in the same state."""
        clone = TextBackend(self.host, token)
        clone.page = render(copy.deepcopy(self.page.document), self.page.url)
        return clone

    def close(self) -> None:
        """Close the HTTP client."""
        self.client.close()
