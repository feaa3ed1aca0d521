"""The forms site's home, sign-up, settings and support pages.

The visitor is always signed in as the world's user (``FormsData.username``): "Sign up" makes a
new account (for a relative, say) without switching to it, "Settings" edits the signed-in
user's settings row (and their account's email, which the settings form also shows), and
"Support" opens tickets and lists them.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from palaestra.envs.web_nav.sites.base import esc, posted, session_of
from palaestra.envs.web_nav.sites.forms.booking_pages import today_line
from palaestra.envs.web_nav.sites.forms.rules import (
    validate_settings,
    validate_signup,
    validate_ticket,
)
from palaestra.envs.web_nav.sites.forms.widgets import (
    checkbox,
    data_of,
    error_summary,
    href,
    notice,
    page,
    radios,
    select_field,
    text_field,
    textarea_field,
)
from palaestra.envs.web_nav.sites.forms.world import (
    COUNTRIES,
    LANGUAGES,
    NOTIFICATIONS,
    PRIORITIES,
    TICKET_CATEGORIES,
    TIMEZONES,
    FormsData,
)

__all__ = ["ROUTES"]


def _rows(request: Request, table: str) -> list[dict[str, Any]]:
    cursor = session_of(request).database.execute(f"SELECT * FROM {table}")  # noqa: S608
    return [dict(row) for row in cursor]


def _insert(request: Request, table: str, row: dict[str, Any]) -> None:
    database = session_of(request).database
    marks = ", ".join("?" for _ in row)
    database.execute(
        f"INSERT INTO {table} ({', '.join(row)}) VALUES ({marks})",  # noqa: S608
        tuple(row.values()),
    )
    database.commit()


async def home(request: Request) -> Response:
    """Who is signed in, what day it is, and what the portal offers."""
    data = data_of(request)
    (settings,) = _rows(request, "settings")
    body = (
        "<h1>Palaestra Services</h1>"
        f"<p>Welcome back, {esc(settings['display_name'])}. "
        f"You are signed in as {esc(data.username)}.</p>{today_line(data)}"
        "<h2>What you can do here</h2><ul>"
        "<li>See our services, their prices and opening hours.</li>"
        "<li>Book an appointment up to 60 days ahead, and see or cancel your bookings.</li>"
        "<li>Contact support, and change your settings.</li>"
        "<li>Sign up a new account for a family member.</li></ul>"
    )
    return page("Home", body)


def _signup_form(data: FormsData, values: dict[str, str], errors: dict[str, str]) -> str:
    countries = [(c, c) for c in COUNTRIES]
    return (
        "<h1>Sign up</h1><p>Create a new account. You must be 18 or older.</p>"
        f'{error_summary(errors)}<form method="post" action="{href("/signup")}">'
        + text_field(
            "username",
            "Username",
            values.get("username", ""),
            errors,
            hint="3-20 letters or digits.",
        )
        + text_field("email", "Email", values.get("email", ""), errors, kind="email")
        + text_field(
            "password",
            "Password",
            values.get("password", ""),
            errors,
            kind="password",
            hint="At least 8 characters, including a digit.",
        )
        + text_field(
            "confirm", "Confirm password", values.get("confirm", ""), errors, kind="password"
        )
        + text_field(
            "birth_date",
            "Date of birth",
            values.get("birth_date", ""),
            errors,
            hint="Format: YYYY-MM-DD",
        )
        + select_field(
            "country",
            "Country",
            countries,
            values.get("country", ""),
            errors,
            placeholder="Choose a country",
        )
        + checkbox("terms", "I accept the terms", values.get("terms") == "yes", errors)
        + '<p><button type="submit">Create account</button></p></form>'
    )


async def signup(request: Request) -> Response:
    """The sign-up form (GET) and its submission (POST)."""
    data = data_of(request)
    if request.method == "GET":
        return page("Sign up", _signup_form(data, {}, {}))
    form = await posted(request)
    row, errors = validate_signup(data, form, _rows(request, "accounts"))
    if errors:
        return page("Sign up", _signup_form(data, form, errors))
    _insert(request, "accounts", row)
    return RedirectResponse(href(f"/signup/done?username={row['username']}"), status_code=303)


async def signup_done(request: Request) -> Response:
    """The page after a successful sign-up."""
    username = request.query_params.get("username", "")
    known = any(a["username"] == username for a in _rows(request, "accounts"))
    text = f"Account created. Welcome, {username}!" if known else "No such account."
    return page("Account created", f"<h1>Sign up</h1>{notice(text)}")


def _settings_form(values: dict[str, Any], errors: dict[str, str], saved: bool) -> str:
    return (
        "<h1>Settings</h1>"
        + (notice("Your settings have been saved.") if saved else "")
        + f'{error_summary(errors)}<form method="post" action="{href("/settings")}">'
        + text_field("display_name", "Display name", values.get("display_name", ""), errors)
        + text_field("email", "Email", values.get("email", ""), errors, kind="email")
        + text_field(
            "phone", "Phone", values.get("phone", ""), errors, kind="tel", hint="Needed for SMS."
        )
        + select_field(
            "timezone", "Timezone", [(t, t) for t in TIMEZONES], values.get("timezone", ""), errors
        )
        + select_field(
            "language", "Language", list(LANGUAGES.items()), values.get("language", ""), errors
        )
        + checkbox(
            "newsletter",
            "Send me the monthly newsletter",
            values.get("newsletter") in (1, "yes"),
            errors,
        )
        + radios(
            "notifications",
            "Booking reminders",
            NOTIFICATIONS,
            values.get("notifications", ""),
            errors,
        )
        + '<p><button type="submit">Save settings</button></p></form>'
    )


async def settings(request: Request) -> Response:
    """The signed-in user's settings (GET) and their saving (POST, only when all are valid)."""
    data = data_of(request)
    if request.method == "GET":
        (current,) = _rows(request, "settings")
        saved = request.query_params.get("saved") == "1"
        return page("Settings", _settings_form(current, {}, saved))
    form = await posted(request)
    row, errors = validate_settings(form, data.username, _rows(request, "accounts"))
    if errors:
        return page("Settings", _settings_form(form, errors, False))
    database = session_of(request).database
    assignments = ", ".join(f"{column} = ?" for column in row if column != "username")
    values = [v for column, v in row.items() if column != "username"]
    database.execute(
        f"UPDATE settings SET {assignments} WHERE username = ?",  # noqa: S608
        (*values, data.username),
    )
    database.execute(
        "UPDATE accounts SET email = ? WHERE username = ?", (row["email"], data.username)
    )
    database.commit()
    return RedirectResponse(href("/settings?saved=1"), status_code=303)


def _ticket_form(values: dict[str, str], errors: dict[str, str]) -> str:
    categories = [(c, c) for c in TICKET_CATEGORIES]
    return (
        "<h1>Support</h1><p>Tell us what went wrong; we answer within two working days.</p>"
        f'<p><a href="{href("/support/tickets")}">My tickets</a></p>'
        f'{error_summary(errors)}<form method="post" action="{href("/support")}">'
        + select_field(
            "category",
            "Category",
            categories,
            values.get("category", ""),
            errors,
            placeholder="Choose a category",
        )
        + text_field("subject", "Subject", values.get("subject", ""), errors)
        + textarea_field("message", "Message", values.get("message", ""), errors)
        + radios("priority", "Priority", PRIORITIES, values.get("priority", "Normal"), errors)
        + '<p><button type="submit">Submit ticket</button></p></form>'
    )


async def support(request: Request) -> Response:
    """The support form (GET) and a new ticket (POST)."""
    data = data_of(request)
    if request.method == "GET":
        return page("Support", _ticket_form({}, {}))
    form = await posted(request)
    row, errors = validate_ticket(form)
    if errors:
        return page("Support", _ticket_form(form, errors))
    number = max((t["number"] for t in _rows(request, "tickets")), default=1000) + 1
    row = {"number": number, **row, "status": "Open", "opened_on": data.today.isoformat()}
    _insert(request, "tickets", row)
    return RedirectResponse(href(f"/support/tickets/{number}?new=1"), status_code=303)


async def tickets(request: Request) -> Response:
    """The user's support tickets, newest first."""
    rows = "".join(
        f'<tr><td><a href="{href(f"/support/tickets/{number}")}">#{number}</a></td>'
        f"<td>{esc(t['subject'])}</td><td>{t['category']}</td><td>{t['priority']}</td>"
        f"<td>{t['status']}</td><td>{t['opened_on']}</td></tr>"
        for t in sorted(_rows(request, "tickets"), key=lambda t: -t["number"])
        for number in [t["number"]]
    )
    body = (
        "<h1>My tickets</h1><table><tr><th>Ticket</th><th>Subject</th><th>Category</th>"
        f"<th>Priority</th><th>Status</th><th>Opened</th></tr>{rows}</table>"
    )
    return page("My tickets", body)


async def ticket_detail(request: Request) -> Response:
    """One ticket; right after submitting it, the confirmation with its number."""
    number = request.path_params["number"]
    ticket = next((t for t in _rows(request, "tickets") if t["number"] == number), None)
    if ticket is None:
        return page("Not found", "<h1>Not found</h1><p>There is no such ticket.</p>", status=404)
    confirmed = request.query_params.get("new") == "1"
    body = (
        f"<h1>Ticket #{number}</h1>"
        + (notice(f"Ticket #{number} has been submitted.") if confirmed else "")
        + f"<ul><li>Subject: {esc(ticket['subject'])}</li><li>Category: {ticket['category']}</li>"
        f"<li>Priority: {ticket['priority']}</li><li>Status: {ticket['status']}</li>"
        f"<li>Opened: {ticket['opened_on']}</li></ul><p>{esc(ticket['message'])}</p>"
        f'<p><a href="{href("/support/tickets")}">All my tickets</a></p>'
    )
    return page(f"Ticket #{number}", body)


ROUTES = [
    Route("/", home),
    Route("/signup", signup, methods=["GET", "POST"]),
    Route("/signup/done", signup_done),
    Route("/settings", settings, methods=["GET", "POST"]),
    Route("/support", support, methods=["GET", "POST"]),
    Route("/support/tickets", tickets),
    Route("/support/tickets/{number:int}", ticket_detail),
]
"""The home, account and support routes, relative to the site root."""
