"""Form fields as HTML: every field labelled, its error message right after it.

The renderer names a field by its label, so each helper takes the label the task plans use
("Date", "Number of people"); an error, when there is one, is a ``<p class="error">`` under the
field it is about.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from starlette.responses import HTMLResponse

from palaestra.envs.web_nav.sites.base import esc, field_error, layout, session_of

__all__ = [
    "NAV",
    "checkbox",
    "data_of",
    "error_summary",
    "href",
    "notice",
    "page",
    "radios",
    "select_field",
    "text_field",
    "textarea_field",
]

if TYPE_CHECKING:
    from starlette.requests import Request

    from palaestra.envs.web_nav.sites.forms.world import FormsData


def data_of(request: Request) -> FormsData:
    """The generated records of the episode's world."""
    data: FormsData = session_of(request).world.data
    return data


def error_summary(errors: Mapping[str, str]) -> str:
    """A line above a form that failed validation."""
    if not errors:
        return ""
    return '<p class="error" role="alert">Nothing was saved: please fix the errors below.</p>'


def text_field(
    name: str,
    label: str,
    value: str,
    errors: Mapping[str, str],
    *,
    kind: str = "text",
    hint: str = "",
) -> str:
    """A labelled ``<input>`` (``kind``: text, email, password, tel)."""
    hint_html = f'<p class="hint">{esc(hint)}</p>' if hint else ""
    return (
        f'<div class="field"><label for="f-{name}">{esc(label)}</label> '
        f'<input type="{kind}" id="f-{name}" name="{name}" value="{esc(value)}">'
        f"{hint_html}{field_error(errors, name)}</div>"
    )


def textarea_field(name: str, label: str, value: str, errors: Mapping[str, str]) -> str:
    """A labelled ``<textarea>``."""
    return (
        f'<div class="field"><label for="f-{name}">{esc(label)}</label> '
        f'<textarea id="f-{name}" name="{name}" rows="3">{esc(value)}</textarea>'
        f"{field_error(errors, name)}</div>"
    )


def select_field(
    name: str,
    label: str,
    options: Sequence[tuple[str, str]],
    value: str,
    errors: Mapping[str, str],
    *,
    placeholder: str = "",
) -> str:
    """A labelled ``<select>`` of (value, label) options, ``value`` selected."""
    items = [f'<option value="">{esc(placeholder)}</option>'] if placeholder else []
    for option, text in options:
        selected = " selected" if option == value else ""
        items.append(f'<option value="{esc(option)}"{selected}>{esc(text)}</option>')
    return (
        f'<div class="field"><label for="f-{name}">{esc(label)}</label> '
        f'<select id="f-{name}" name="{name}">{"".join(items)}</select>'
        f"{field_error(errors, name)}</div>"
    )


def checkbox(name: str, label: str, checked: bool, errors: Mapping[str, str]) -> str:
    """A checkbox inside its label, posting ``name=yes`` when ticked."""
    mark = " checked" if checked else ""
    return (
        f'<div class="field"><label><input type="checkbox" name="{name}" value="yes"{mark}> '
        f"{esc(label)}</label>{field_error(errors, name)}</div>"
    )


def radios(
    name: str, legend: str, options: Sequence[str], value: str, errors: Mapping[str, str]
) -> str:
    """A group of radio buttons, each inside its label, under a legend."""
    items = "".join(
        f'<label><input type="radio" name="{name}" value="{esc(option)}"'
        f"{' checked' if option == value else ''}> {esc(option)}</label> "
        for option in options
    )
    return f"<fieldset><legend>{esc(legend)}</legend>{items}{field_error(errors, name)}</fieldset>"


NAV = (
    ("Services", "/services"),
    ("Book an appointment", "/book"),
    ("My bookings", "/bookings"),
    ("Support", "/support"),
    ("Settings", "/settings"),
    ("Sign up", "/signup"),
)
"""The links on top of every page (label, path)."""


def href(path: str) -> str:
    """The escaped absolute path of a forms page: ``href("/book")`` is ``/forms/book``."""
    from palaestra.envs.web_nav.sites.forms.site import FormsSite

    return FormsSite.href(path)


def page(title: str, body: str, *, script: str = "", status: int = 200) -> HTMLResponse:
    """A full page of the site with its navigation."""
    from palaestra.envs.web_nav.sites.forms.site import FormsSite

    return HTMLResponse(layout(FormsSite, title, body, nav=NAV, script=script), status_code=status)


def notice(text: str) -> str:
    """A confirmation line ("Your settings have been saved.")."""
    return f'<p class="notice" role="status">{esc(text)}</p>'
