"""What the forms site's task templates share: values, dates, form steps and expected rows.

Values to ask for, dates as people say them, the gold steps of each form and the rows a
submitted form leaves.

Every helper reads only the world's records (`FormsData`), which are exactly the state every
episode starts from, so the rows and references computed here are the ones the site will write.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Sequence
from typing import Any

from palaestra.envs.tool_use.names import FIRST_NAMES, LAST_NAMES
from palaestra.envs.web_nav.sites.forms.rules import (
    BOOKINGS_PER_PAGE,
    cancellable,
    date_problem,
    free_times,
    listing,
    next_reference,
)
from palaestra.envs.web_nav.sites.forms.world import (
    LANGUAGES,
    NOTIFICATIONS,
    TICKET_CATEGORIES,
    TIMEZONES,
    WEEKDAYS,
    FormsData,
    Service,
)
from palaestra.envs.web_nav.tasks import Step, check, click, select, type_text

__all__ = [
    "DONE",
    "NOTES",
    "Booking",
    "Changes",
    "SettingsChange",
    "book_steps",
    "bookable_days",
    "booking_rows",
    "cancel_nth",
    "new_email",
    "new_name",
    "join_phrases",
    "new_phone",
    "say_day",
    "settings_changes",
    "ticket_request",
]

DONE = "Done."
"""What a gold plan answers after a state change."""
_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_DOMAINS = ("mail.com", "post.net", "inbox.org", "example.com", "webmail.eu")
NOTES = (
    "Wheelchair access needed",
    "I will bring the filled-in forms",
    "Coming straight from work, may be 5 minutes late",
    "Please send a reminder the day before",
    "Bringing my daughter along",
    "I need an interpreter for Spanish",
    "First visit",
    "Please use the side entrance bell",
    "Allergic to latex",
    "I have a hearing aid; please speak up",
)


def say_day(rng: random.Random, day: dt.date) -> str:
    """``day`` as a user might write it (the form wants YYYY-MM-DD; the agent converts)."""
    style = rng.randrange(4)
    if style == 0:
        return day.isoformat()
    if style == 1:
        return f"{WEEKDAYS[day.weekday()]} {day.isoformat()}"
    if style == 2:
        return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"
    return f"{WEEKDAYS[day.weekday()]}, {day.day} {_MONTHS[day.month - 1]} {day.year}"


def new_name(rng: random.Random) -> str:
    """A full name."""
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def new_email(rng: random.Random, data: FormsData, name: str | None = None) -> str:
    """An email address no account uses yet."""
    taken = {a["email"].lower() for a in data.accounts}
    while True:
        first, last = (name or new_name(rng)).lower().split()
        email = f"{rng.choice([first, first[0]])}{rng.choice(['.', '_', ''])}{last}"
        email += f"{rng.randint(1, 99)}@{rng.choice(_DOMAINS)}"
        if email not in taken:
            return email


def new_phone(rng: random.Random) -> str:
    """A phone number the settings form accepts."""
    return rng.choice(
        [
            f"+44 7700 {rng.randint(100000, 999999)}",
            f"+1 415 555 {rng.randint(1000, 9999)}",
            f"+49 151 {rng.randint(1000000, 9999999)}",
            f"+33 6 {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} "
            f"{rng.randint(10, 99)}",
        ]
    )


# ------------------------------------------------------------------------------------ bookings
Booking = dict[str, Any]
"""A bookings row."""


def bookable_days(
    data: FormsData, service: Service, bookings: Iterable[Booking] | None = None
) -> list[dt.date]:
    """Days ``service`` can be booked with a free time and no booking of the user that day."""
    bookings = list(data.bookings if bookings is None else bookings)
    busy_days = {b["date"] for b in bookings if b["status"] == "Confirmed"}
    days = []
    for offset in range(1, 61):
        day = data.today + dt.timedelta(days=offset)
        if day.isoformat() in busy_days or date_problem(data, service, day) is not None:
            continue
        if free_times(data, service, day, bookings):
            days.append(day)
    return days


def booking_rows(
    data: FormsData,
    existing: Sequence[Booking],
    service: Service,
    day: dt.date,
    time: str,
    people: int,
    notes: str = "",
) -> Booking:
    """The row a valid booking form saves, reference included."""
    return {
        "reference": next_reference(data.seed, [b["reference"] for b in existing]),
        "service": service.name,
        "date": day.isoformat(),
        "time": time,
        "people": people,
        "notes": notes,
        "status": "Confirmed",
        "booked_on": data.today.isoformat(),
    }


def book_steps(
    service: Service,
    day: dt.date,
    time: str,
    people: int,
    notes: str = "",
    *,
    open_form: bool = True,
    service_chosen: bool = False,
    show_times: bool = False,
) -> list[Step]:
    """Fill in and submit the booking form (opening it from the navigation first)."""
    steps = [click("link", "Book an appointment")] if open_form else []
    if not service_chosen:
        steps.append(select("Service", service.name))
    steps.append(type_text("Date", day.isoformat()))
    if show_times:
        steps.append(click("button", "Show available times"))
    steps.append(select("Time", time))
    if people != 1:
        steps.append(type_text("Number of people", str(people)))
    if notes:
        steps.append(type_text("Notes", notes))
    steps.append(click("button", "Book"))
    return steps


def cancel_nth(data: FormsData, bookings: Iterable[Booking], reference: str) -> int | None:
    """Which "Cancel booking" button of the first list page cancels ``reference``."""
    shown = listing(bookings)[:BOOKINGS_PER_PAGE]
    buttons = [b["reference"] for b in shown if cancellable(data, b)]
    return buttons.index(reference) if reference in buttons else None


# ------------------------------------------------------------------------------------ settings
Changes = dict[str, dict[str, dict[str, Any] | None]]
"""What a draft's ``changes`` holds: table -> row key -> the row it must end as."""
SettingsChange = tuple[str, list[Step], dict[str, Any]]
"""What the user asks for, the form steps that do it, and the settings columns it sets."""

_FORM_ORDER = ("display_name", "email", "phone", "timezone", "language", "newsletter", "notices")


def _change(kind: str, data: FormsData, rng: random.Random, phone: str) -> SettingsChange | None:
    current = data.settings
    if kind == "display_name":
        name = new_name(rng)
        if name == current["display_name"]:
            return None
        phrase = rng.choice(["change my display name to {}", "show my name as {}"])
        return phrase.format(name), [type_text("Display name", name)], {"display_name": name}
    if kind == "email":
        email = new_email(rng, data)
        phrase = rng.choice(["update my email address to {}", "use {} as my email"])
        return phrase.format(email), [type_text("Email", email)], {"email": email}
    if kind == "phone":
        number = phone
        phrase = rng.choice(["change my phone number to {}", "set my phone to {}"])
        return phrase.format(number), [type_text("Phone", number)], {"phone": number}
    if kind == "timezone":
        zone = rng.choice([z for z in TIMEZONES if z != current["timezone"]])
        phrase = rng.choice(["set my timezone to {}", "switch my timezone to {}"])
        return phrase.format(zone), [select("Timezone", zone)], {"timezone": zone}
    if kind == "language":
        code = rng.choice([c for c in LANGUAGES if c != current["language"]])
        phrase = rng.choice(["switch the site language to {}", "show the site in {}"])
        name = LANGUAGES[code]
        return phrase.format(name), [select("Language", name)], {"language": code}
    if kind == "newsletter":
        subscribed = bool(current["newsletter"])
        phrase = rng.choice(
            ["unsubscribe me from the newsletter", "stop the monthly newsletter"]
            if subscribed
            else ["subscribe me to the newsletter", "sign me up for the monthly newsletter"]
        )
        step = check("Send me the monthly newsletter")
        return phrase, [step], {"newsletter": 0 if subscribed else 1}
    allowed = [n for n in NOTIFICATIONS if n != current["notifications"] and (n != "SMS" or phone)]
    choice = rng.choice(allowed)
    phrases = {
        "Email": ["send my booking reminders by email", "switch my reminders to email"],
        "SMS": ["send my booking reminders by SMS", "switch my reminders to text messages (SMS)"],
        "None": ["turn off booking reminders", "stop sending me booking reminders"],
    }[choice]
    return rng.choice(phrases), [check(choice, role="radio")], {"notifications": choice}


def settings_changes(
    data: FormsData, rng: random.Random, kinds: Sequence[str]
) -> tuple[list[str], list[Step], Changes] | None:
    """Phrases, form steps (in form order, without opening or saving) and the expected rows.

    ``kinds`` are settings columns (``notices`` for the reminder radios); a new phone number
    comes first so that SMS reminders may be asked for in the same request.
    """
    phone = new_phone(rng) if "phone" in kinds else data.settings["phone"]
    made: dict[str, SettingsChange] = {}
    for kind in kinds:
        found = _change(kind, data, rng, phone)
        if found is None:
            return None
        made[kind] = found
    phrases = [made[kind][0] for kind in kinds]
    steps = [step for kind in _FORM_ORDER if kind in made for step in made[kind][1]]
    row = dict(data.settings)
    for _, _, columns in made.values():
        row.update(columns)
    changes: Changes = {"settings": {data.username: row}}
    if "email" in made:
        account = next(a for a in data.accounts if a["username"] == data.username)
        changes["accounts"] = {data.username: {**account, "email": row["email"]}}
    return phrases, steps, changes


def join_phrases(phrases: Sequence[str]) -> str:
    """``a, b and c``."""
    if len(phrases) == 1:
        return phrases[0]
    return ", ".join(phrases[:-1]) + " and " + phrases[-1]


# ------------------------------------------------------------------------------------- tickets
def ticket_request(
    data: FormsData, rng: random.Random, category: str | None = None
) -> tuple[str, list[Step], dict[str, Any]]:
    """A support request: its wording, the form steps (no opening, no submit) and the row."""
    category = category or rng.choice(TICKET_CATEGORIES)
    service = rng.choice(data.services)
    day = data.today - dt.timedelta(days=rng.randint(1, 30))
    subject = rng.choice(
        {
            "Bookings": [
                f"Question about {service.name}",
                f"No reminder for {day.isoformat()}",
                "Booking page shows a wrong time",
            ],
            "Account": ["Cannot sign in on my phone", "Two accounts, one email", "Delete old data"],
            "Payments": [
                f"Refund for {service.name}",
                f"Receipt for {day.isoformat()}",
                "Card charged twice",
            ],
            "Accessibility": [
                f"Step-free access to {service.location}",
                "Sign language interpreter",
                "Forms are hard to read",
            ],
            "Other": ["Lost glove in the waiting room", "Thanks to the staff", "Opening hours"],
        }[category]
    )
    message = rng.choice(
        [
            f"Hello, this is about {service.name}. Please call me back.",
            f"I visited on {day.isoformat()} and need help with this.",
            "Could someone look into this for me? Thank you.",
            f"Please reply by email. Regards, {data.settings['display_name']}",
        ]
    )
    priority = rng.choice(["Low", "Normal", "High", "High"])
    steps = [select("Category", category), type_text("Subject", subject)]
    steps.append(type_text("Message", message))
    if priority != "Normal":
        steps.append(check(priority, role="radio"))
    number = max(t["number"] for t in data.tickets) + 1
    row = {
        "number": number,
        "category": category,
        "subject": subject,
        "message": message,
        "priority": priority,
        "status": "Open",
        "opened_on": data.today.isoformat(),
    }
    wording = (
        f'category {category}, priority {priority}, subject "{subject}" and message "{message}"'
    )
    return wording, steps, row
