"""Level-3 tasks of the forms site: a long form or several forms on several pages.

Sign up a new account (every field validated), change email then book, reschedule a booking,
book the earliest free time with JavaScript and then change a setting, change five settings,
open a ticket about a booking found by its date, book twice, or book one and cancel another.
One template in eleven is infeasible: a sign-up the site must refuse (the username the user
insists on is taken, or the person is under 18).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from palaestra.envs.web_nav.sites.base import TaskTemplate, World
from palaestra.envs.web_nav.sites.forms.rules import cancellable, free_times
from palaestra.envs.web_nav.sites.forms.task_kit import (
    DONE,
    Changes,
    book_steps,
    bookable_days,
    booking_rows,
    cancel_nth,
    join_phrases,
    new_email,
    new_name,
    say_day,
    settings_changes,
)
from palaestra.envs.web_nav.sites.forms.world import COUNTRIES, FormsData, Service, password_hash
from palaestra.envs.web_nav.tasks import (
    Step,
    WebTaskDraft,
    answer,
    check,
    click,
    give_up,
    select,
    type_text,
)

__all__ = ["LEVEL_3"]

HOME = "/forms/"
_WORDS = (
    "Maple River Sunny Cobalt Falcon Garden Harbor Lemon Marble Nimbus Orbit Pepper Quartz "
    "Saffron Tulip Velvet Willow Copper Meadow"
).split()
_RELATIVES = ("mother", "father", "sister", "brother", "aunt", "uncle", "grandmother", "partner")


def _data(world: World) -> FormsData:
    data: FormsData = world.data
    return data


def _new_username(rng: random.Random, data: FormsData, name: str) -> str:
    taken = {a["username"].lower() for a in data.accounts}
    first, last = name.split()
    while True:
        username = rng.choice(
            [
                f"{first.lower()}{rng.randint(100, 9999)}",
                f"{first[0]}{last}{rng.randint(1, 99)}".lower(),
                f"{first}{last[0]}{rng.randint(10, 99)}",
            ]
        )
        if username.lower() not in taken:
            return username


def _signup(data: FormsData, rng: random.Random, username: str, born: dt.date) -> dict[str, Any]:
    name = new_name(rng)
    password = f"{rng.choice(_WORDS)}{rng.randint(1, 99)}{rng.choice(_WORDS).lower()}"
    return {
        "name": name,
        "username": username or _new_username(rng, data, name),
        "email": new_email(rng, data, name),
        "password": password,
        "born": born,
        "country": rng.choice(COUNTRIES),
    }


def _signup_prompt(rng: random.Random, person: dict[str, Any], extra: str = "") -> str:
    relative = rng.choice(_RELATIVES)
    born = say_day(rng, person["born"])
    if rng.random() < 0.5:
        return (
            f"Sign up a new account for my {relative}, {person['name']}: username "
            f"{person['username']}{extra}, email {person['email']}, password {person['password']}, "
            f"date of birth {born}, country {person['country']}. Accept the terms."
        )
    return (
        f"Please create an account for my {relative} with these details{extra}:\n"
        f"- Username: {person['username']}\n- Email: {person['email']}\n"
        f"- Password: {person['password']}\n- Born: {born}\n- Country: {person['country']}\n"
        "They accept the terms."
    )


def _signup_steps(person: dict[str, Any]) -> list[Step]:
    return [
        click("link", "Sign up"),
        type_text("Username", person["username"]),
        type_text("Email", person["email"]),
        type_text("Password", person["password"]),
        type_text("Confirm password", person["password"]),
        type_text("Date of birth", person["born"].isoformat()),
        select("Country", person["country"]),
        check("I accept the terms"),
        click("button", "Create account"),
    ]


def sign_up(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Create an account with the given details."""
    data = _data(world)
    born = dt.date(data.today.year - rng.randint(19, 85), rng.randint(1, 12), rng.randint(1, 28))
    person = _signup(data, rng, "", born)
    row = {
        "username": person["username"],
        "email": person["email"],
        "password_sha256": password_hash(person["password"]),
        "date_of_birth": born.isoformat(),
        "country": person["country"],
        "created_on": data.today.isoformat(),
    }
    plan = (*_signup_steps(person), answer(DONE))
    changes: Changes = {"accounts": {row["username"]: row}}
    return WebTaskDraft(_signup_prompt(rng, person), HOME, plan, changes=changes)


def sign_up_refused(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Infeasible: a sign-up with a taken username the user insists on, or for a minor."""
    data = _data(world)
    if rng.random() < 0.7:
        taken = rng.choice(data.accounts)["username"]
        born = dt.date(
            data.today.year - rng.randint(20, 70), rng.randint(1, 12), rng.randint(1, 28)
        )
        person = _signup(data, rng, taken, born)
        extra = rng.choice([" (exactly this username, no other)", " (it must be this username)"])
        reason = f"The username {taken} is already taken, and no other username will do."
    else:
        born = dt.date(
            data.today.year - rng.randint(10, 17), rng.randint(1, 12), rng.randint(1, 28)
        )
        person = _signup(data, rng, "", born)
        extra = ""
        reason = "They are under 18, and the site only lets adults create accounts."
    plan = (*_signup_steps(person), give_up(reason))
    return WebTaskDraft(_signup_prompt(rng, person, extra), HOME, plan, feasible=False)


def _booking(data: FormsData, rng: random.Random, bookings: list[dict[str, Any]]) -> Any:
    service = rng.choice(data.services)
    taken_days = {b["date"] for b in bookings if b["status"] == "Confirmed"}
    days = [d for d in bookable_days(data, service, bookings) if d.isoformat() not in taken_days]
    if not days:
        return None
    day = rng.choice(days)
    time = rng.choice(free_times(data, service, day, bookings))
    people = rng.choice([1, 1, 2, 3])
    party = f" for {people} people" if people > 1 else ""
    phrase = f"{service.name} on {say_day(rng, day)} at {time}{party}"
    return service, day, time, people, phrase


def email_then_book(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Update my email, then book S on D at T."""
    data = _data(world)
    made = settings_changes(data, rng, ["email"])
    booking = _booking(data, rng, list(data.bookings))
    if made is None or booking is None:
        return None
    phrases, steps, changes = made
    service, day, time, people, phrase = booking
    row = booking_rows(data, data.bookings, service, day, time, people)
    changes["bookings"] = {row["reference"]: row}
    prompt = rng.choice(
        [
            f"First {phrases[0]}. Then book {phrase}.",
            f"Book {phrase}, but before that, {phrases[0]}.",
        ]
    )
    plan = [click("link", "Settings"), *steps, click("button", "Save settings")]
    plan += [*book_steps(service, day, time, people), answer(DONE)]
    return WebTaskDraft(prompt, HOME, tuple(plan), changes=changes)


def reschedule(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Cancel booking R and book the same service, for as many people, on D at T."""
    data = _data(world)
    upcoming = [b for b in data.bookings if cancellable(data, b)]
    if not upcoming:
        return None
    old = rng.choice(upcoming)
    service = data.service(old["service"])
    nth = cancel_nth(data, data.bookings, old["reference"])
    if service is None or nth is None:
        return None
    cancelled = {**old, "status": "Cancelled"}
    bookings = [cancelled if b is old else b for b in data.bookings]
    days = bookable_days(data, service, bookings)
    if not days:
        return None
    day = rng.choice(days)
    time = rng.choice(free_times(data, service, day, bookings))
    row = booking_rows(data, bookings, service, day, time, old["people"])
    when = say_day(rng, day)
    prompt = rng.choice(
        [
            f"Move my booking {old['reference']} to {when} at {time}: cancel it and book the "
            "same service for the same number of people then.",
            f"I need to reschedule {old['reference']}. Cancel it, and book the same service at "
            f"{time} on {when}, for as many people as before.",
        ]
    )
    plan = [click("link", "My bookings"), click("button", "Cancel booking", nth=nth)]
    plan += [*book_steps(service, day, time, old["people"]), answer(DONE)]
    changes: Changes = {"bookings": {old["reference"]: cancelled, row["reference"]: row}}
    return WebTaskDraft(prompt, HOME, tuple(plan), changes=changes)


def earliest_then_settings(world: World, rng: random.Random) -> WebTaskDraft | None:
    """JavaScript: book the earliest free time of S on D, then change one setting."""
    data = _data(world)
    service: Service = rng.choice(data.services)
    days = bookable_days(data, service)
    made = settings_changes(data, rng, [rng.choice(["timezone", "language", "notices", "phone"])])
    if not days or made is None:
        return None
    phrases, steps, changes = made
    day = rng.choice(days)
    time = free_times(data, service, day, data.bookings)[0]
    people = rng.choice([1, 2])
    party = " for 2 people" if people == 2 else ""
    row = booking_rows(data, data.bookings, service, day, time, people)
    changes["bookings"] = {row["reference"]: row}
    prompt = (
        f"Book the earliest free {service.name} time on {say_day(rng, day)}{party}, "
        f"and then {phrases[0]}."
    )
    plan = [*book_steps(service, day, time, people, show_times=True), click("link", "Settings")]
    plan += [*steps, click("button", "Save settings"), answer(DONE)]
    return WebTaskDraft(prompt, HOME, tuple(plan), changes=changes, requires_js=True)


def many_settings(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Change five settings at once."""
    data = _data(world)
    kinds = ["display_name", "email", "phone", "timezone", "language", "newsletter", "notices"]
    made = settings_changes(data, rng, rng.sample(kinds, 5))
    if made is None:
        return None
    phrases, steps, changes = made
    prompt = f"Update my settings: {join_phrases(phrases)}."
    plan = (click("link", "Settings"), *steps, click("button", "Save settings"), answer(DONE))
    return WebTaskDraft(prompt, HOME, plan, changes=changes)


def ticket_about_booking(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Open a ticket whose subject is the reference of my booking on D (looked up first)."""
    data = _data(world)
    booking = rng.choice(data.bookings)
    reference = booking["reference"]
    subject = f"Booking {reference}"
    message = rng.choice(
        [
            f"Can I bring one more person to this {booking['service']} appointment?",
            "I was charged for this booking but it did not take place.",
            "Please send me a written confirmation of this booking.",
            "The reminder for this booking never reached me.",
        ]
    )
    priority = rng.choice(["Low", "Normal", "High"])
    when = say_day(rng, dt.date.fromisoformat(booking["date"]))
    prompt = (
        f"Open a support ticket about my {booking['service']} booking on {when}: category "
        f'Bookings, priority {priority}, the subject "Booking" followed by that booking\'s '
        f'reference (like "Booking PS-XXXXX"), and the message "{message}"'
    )
    plan = [click("link", "My bookings"), click("link", "Support")]
    plan += [select("Category", "Bookings"), type_text("Subject", subject)]
    plan.append(type_text("Message", message))
    if priority != "Normal":
        plan.append(check(priority, role="radio"))
    plan += [click("button", "Submit ticket"), answer(DONE)]
    number = max(t["number"] for t in data.tickets) + 1
    row = {
        "number": number,
        "category": "Bookings",
        "subject": subject,
        "message": message,
        "priority": priority,
        "status": "Open",
        "opened_on": data.today.isoformat(),
    }
    return WebTaskDraft(prompt, HOME, tuple(plan), changes={"tickets": {str(number): row}})


def book_two(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Book two appointments on two days."""
    data = _data(world)
    bookings = list(data.bookings)
    plan: list[Step] = []
    rows: dict[str, dict[str, Any] | None] = {}
    phrases = []
    for _ in range(2):
        booking = _booking(data, rng, bookings)
        if booking is None:
            return None
        service, day, time, people, phrase = booking
        row = booking_rows(data, bookings, service, day, time, people)
        bookings.append(row)
        rows[row["reference"]] = row
        plan += book_steps(service, day, time, people)
        phrases.append(phrase)
    prompt = rng.choice(
        [
            f"Book two appointments for me: {phrases[0]}, and {phrases[1]}.",
            f"Please make two bookings. One: {phrases[0]}. Two: {phrases[1]}.",
        ]
    )
    return WebTaskDraft(prompt, HOME, (*plan, answer(DONE)), changes={"bookings": rows})


def book_and_cancel(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Book S on D at T, then cancel booking R."""
    data = _data(world)
    upcoming = [b for b in data.bookings if cancellable(data, b)]
    booking = _booking(data, rng, list(data.bookings))
    if not upcoming or booking is None:
        return None
    old = rng.choice(upcoming)
    service, day, time, people, phrase = booking
    row = booking_rows(data, data.bookings, service, day, time, people)
    nth = cancel_nth(data, [*data.bookings, row], old["reference"])
    if nth is None:
        return None
    prompt = rng.choice(
        [
            f"Book {phrase}, and cancel my booking {old['reference']}.",
            f"Two things: book {phrase}; then cancel booking {old['reference']}.",
        ]
    )
    plan = [*book_steps(service, day, time, people), click("link", "My bookings")]
    plan += [click("button", "Cancel booking", nth=nth), answer(DONE)]
    cancelled = {**old, "status": "Cancelled"}
    changes: Changes = {"bookings": {row["reference"]: row, old["reference"]: cancelled}}
    return WebTaskDraft(prompt, HOME, tuple(plan), changes=changes)


LEVEL_3: list[TaskTemplate] = [
    sign_up,
    sign_up,
    sign_up_refused,
    email_then_book,
    reschedule,
    earliest_then_settings,
    many_settings,
    ticket_about_booking,
    book_two,
    book_and_cancel,
    reschedule,
]
"""Level 3: 11 entries, one infeasible, one needing JavaScript."""
