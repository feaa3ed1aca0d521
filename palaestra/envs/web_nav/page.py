"""A page as the agent reads it: an accessibility-tree-like text with numbered elements.

Both backends hand the renderer the page's current DOM as HTML (the text backend its own
document, the browser backend the live DOM serialised with the form values it holds), so the
same page reads the same from either. The rendering, in document order::

    # Harbor Blue Ceramic Mug                      headings: one # per level
    Price: $12.50                                  text, one line per block
    | Material | Stoneware |                       table rows
    - Dishwasher safe                              list items
    [7] combobox "Size" value="M" options: S, M, L
    [8] textbox "Quantity" value="1"               fields, named by their label
    [9] button "Add to cart"
    See [10] link "Mugs" for more.                 links inline in their text

Interactive elements (links, buttons, fields) are numbered from 1 in document order; hidden
elements (``hidden``, ``display: none``, ``type=hidden``, ``aria-hidden``) are left out.
`Page.view` shows a window of the lines, with a note of what lies above and below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lxml import html as lxml_html

__all__ = ["Element", "Page", "parse_document", "render"]

_SKIP = frozenset({"head", "script", "style", "template", "noscript", "svg", "iframe"})
_BLOCK = frozenset(
    {
        "p", "div", "section", "article", "main", "nav", "header", "footer", "aside", "form",
        "ul", "ol", "table", "thead", "tbody", "tfoot", "fieldset", "legend", "dl", "dt", "dd",
        "blockquote", "pre", "figure", "figcaption", "details", "summary", "br", "hr", "body",
        "caption",
    }
)  # fmt: skip
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BUTTON_INPUTS = frozenset({"submit", "button", "reset", "image"})
_NOT_TEXT_INPUTS = frozenset({"checkbox", "radio", "hidden", "file", "color", "range"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
NODE_ATTRIBUTE = "data-palaestra-node"
"""Set by the browser backend on every element, so a numbered element can be found again."""


@dataclass(frozen=True)
class Element:
    """An interactive element of the page, as numbered in its rendering."""

    id: int
    role: str
    """link, button, textbox, combobox, checkbox or radio."""
    name: str
    node: Any = field(compare=False, repr=False)
    """The lxml element it was rendered from."""
    options: tuple[str, ...] = ()
    """A combobox's option labels."""

    def describe(self) -> str:
        """How the element reads in the page: ``[9] button "Add to cart"``."""
        return f'[{self.id}] {self.role} "{self.name}"'


@dataclass
class Page:
    """A rendered page: where it is, its lines and its numbered elements."""

    url: str
    """Path and query, relative to the host: ``/shop/search?q=mug``."""
    title: str
    lines: list[str]
    elements: dict[int, Element]
    document: Any = field(repr=False, default=None)
    """The lxml document it was rendered from (the text backend acts on it)."""

    def view(self, first_line: int = 0, max_chars: int = 3000) -> tuple[str, int]:
        """The page text from ``first_line``, about ``max_chars`` at most, and its line count.

        The line count is what one scroll moves.
        """
        shown: list[str] = []
        size = 0
        for line in self.lines[first_line:]:
            if shown and size + len(line) + 1 > max_chars:
                break
            shown.append(line)
            size += len(line) + 1
        below = len(self.lines) - first_line - len(shown)
        head = [f"URL: {self.url}", f"Title: {self.title}"]
        if first_line:
            head.append(f"[... {first_line} lines above: scroll up to see them]")
        tail = [f"[... {below} more lines below: scroll down to see them]"] if below else []
        return "\n".join([*head, "", *shown, *tail]), max(len(shown), 1)


def parse_document(markup: str | bytes) -> Any:
    """The lxml document of an HTML page (an empty body for an empty page)."""
    if not markup or not str(markup if isinstance(markup, str) else markup[:1]).strip():
        markup = "<html><body></body></html>"
    return lxml_html.document_fromstring(markup)


def render(document: Any, url: str) -> Page:
    """Render a parsed page (see the module docstring)."""
    title_node = document.find(".//title")
    title = _squash(title_node.text_content()) if title_node is not None else ""
    body = document.find(".//body")
    renderer = _Renderer(document)
    if body is not None:
        renderer.block(body)
    renderer.flush()
    return Page(url, title, renderer.lines, renderer.elements, document)


def _squash(text: str) -> str:
    return " ".join(text.split())


def _quote(text: str) -> str:
    return text.replace('"', "'")


def is_hidden(node: Any) -> bool:
    """Whether the element is not displayed (so neither rendered nor actionable)."""
    if node.get("hidden") is not None or node.get("aria-hidden") == "true":
        return True
    if node.tag == "input" and (node.get("type") or "").lower() == "hidden":
        return True
    style = node.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


class _Renderer:
    def __init__(self, document: Any) -> None:
        self.lines: list[str] = []
        self.elements: dict[int, Element] = {}
        self._line: list[str] = []
        self._in_cell = 0
        self._labels: dict[str, str] = {}
        self._label_targets: set[Any] = set()
        for label in document.iter("label"):
            target = label.get("for")
            if target:
                self._labels[target] = _squash(label.text_content())
                self._label_targets.add(label)

    # ---------------------------------------------------------------------------- line output
    def flush(self) -> None:
        if self._in_cell:  # a block inside a table cell stays in the cell
            self._line.append(" ")
            return
        line = _squash("".join(self._line))
        if line:
            self.lines.append(line)
        self._line = []

    def text(self, value: str | None) -> None:
        if value:
            self._line.append(value)

    # ------------------------------------------------------------------------------- the walk
    def block(self, node: Any) -> None:
        """Render a node's children (the node itself was handled by the caller)."""
        self.text(node.text)
        for child in node:
            self.node(child)
            self.text(child.tail)

    def node(self, node: Any) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if not tag or tag in _SKIP or is_hidden(node):
            return
        if tag in _HEADINGS:
            self.flush()
            self._line.append("#" * _HEADINGS[tag] + " ")
            self.block(node)
            self.flush()
        elif tag == "li":
            self.flush()
            self._line.append("- ")
            self.block(node)
            self.flush()
        elif tag == "tr":
            self.flush()
            cells = [c for c in node if isinstance(c.tag, str) and c.tag in ("td", "th")]
            parts = []
            self._in_cell += 1
            for cell in cells:
                self.block(cell)
                parts.append(_squash("".join(self._line)))
                self._line = []
            self._in_cell -= 1
            self.lines.append("| " + " | ".join(parts) + " |")
        elif tag == "a" and node.get("href") is not None:
            self.element(node, "link", self.name_of(node))
        elif tag == "button" or (tag == "input" and self.input_type(node) in _BUTTON_INPUTS):
            name = self.name_of(node) if tag == "button" else (node.get("value") or "Submit")
            self.element(node, "button", name)
        elif tag in ("input", "textarea"):
            self.field(node, tag)
        elif tag == "select":
            self.select(node)
        elif tag == "label":
            if node in self._label_targets:
                return  # its text is the name of the field it labels
            controls = [c for c in node.iter("input", "select", "textarea", "button")]
            if not controls:
                self.block(node)
            for control in controls:  # a wrapping label: its text names the control
                self.node(control)
        elif tag == "img":
            if node.get("alt"):
                self._line.append(f' img "{_quote(_squash(node.get("alt")))}" ')
        elif tag in _BLOCK:
            self.flush()
            self.block(node)
            self.flush()
        else:
            self.block(node)

    # --------------------------------------------------------------------------- the elements
    def element(self, node: Any, role: str, name: str, extra: str = "", **kw: Any) -> None:
        number = len(self.elements) + 1
        self.elements[number] = Element(number, role, name, node, **kw)
        disabled = " disabled" if node.get("disabled") is not None else ""
        own_line = role not in ("link", "button") and not self._in_cell
        if own_line:  # a form field reads best on a line of its own
            self.flush()
        self._line.append(f' [{number}] {role} "{_quote(name)}"{extra}{disabled}')
        if own_line:
            self.flush()

    def field(self, node: Any, tag: str) -> None:
        kind = self.input_type(node) if tag == "input" else "text"
        name = self.label_of(node)
        if kind in ("checkbox", "radio"):
            state = "true" if node.get("checked") is not None else "false"
            self.element(node, kind, name, f" checked={state}")
        elif kind not in _NOT_TEXT_INPUTS:  # browsers read an unknown type as text
            value = node.text_content() if tag == "textarea" else (node.get("value") or "")
            if kind == "password":
                value = "•" * len(value)
            shown = f' value="{_quote(_squash(value))}"' if value else ""
            required = " required" if node.get("required") is not None else ""
            self.element(node, "textbox", name, shown + required)

    def select(self, node: Any) -> None:
        options = [o for o in node.iter("option") if not is_hidden(o)]
        labels = tuple(_squash(o.text_content()) for o in options)
        chosen = next((o for o in options if o.get("selected") is not None), None)
        if chosen is None and options:
            chosen = options[0]
        value = _squash(chosen.text_content()) if chosen is not None else ""
        extra = f' value="{_quote(value)}" options: {", ".join(labels)}'
        self.element(node, "combobox", self.label_of(node), extra, options=labels)

    @staticmethod
    def input_type(node: Any) -> str:
        return (node.get("type") or "").lower()

    def name_of(self, node: Any) -> str:
        label = node.get("aria-label")
        if label:
            return _squash(label)
        parts = [node.text or ""]
        for child in node.iter():
            if child is not node and isinstance(child.tag, str):
                if child.tag == "img" and child.get("alt"):
                    parts.append(child.get("alt"))
                elif not is_hidden(child):
                    parts.append(child.text or "")
            if child is not node:
                parts.append(child.tail or "")
        return _squash(" ".join(parts)) or _squash(node.get("title") or "")

    def label_of(self, node: Any) -> str:
        identifier = node.get("id")
        if identifier and identifier in self._labels:
            return self._labels[identifier]
        for parent in node.iterancestors("label"):
            own = _squash(node.text_content()) if node.tag == "textarea" else ""
            text = _squash(parent.text_content())
            return _squash(text.replace(own, "", 1)) if own else text
        for attribute in ("aria-label", "placeholder", "title", "name"):
            if node.get(attribute):
                return _squash(node.get(attribute))
        return ""
