"""Level-2 tasks of the forms site: one form filled in, or two pages read together.

Book an appointment (time given, the service's opening time, or, with JavaScript, the earliest
free time the "Show available times" button lists), change two settings, open a support ticket,
cancel two bookings, or combine the bookings list with the services page. One template in
fifteen is infeasible: a booking on a closed day or at a taken time the user insists on.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from palaestra.envs.web_nav.sites.base import TaskTemplate, World
from palaestra.envs.web_nav.sites.forms.rules import (
    busy_times,
    cancellable,
    date_problem,
    free_times,
    service_times,
)
from palaestra.envs.web_nav.sites.forms.task_kit import (
    DONE,
    NOTES,
    book_steps,
    bookable_days,
    booking_rows,
    cancel_nth,
    join_phrases,
    new_phone,
    say_day,
    settings_changes,
    ticket_request,
)
from palaestra.envs.web_nav.sites.forms.world import ALL_TIMES, FormsData
from palaestra.envs.web_nav.tasks import (
    Answer,
    WebTaskDraft,
    answer,
    check,
    click,
    give_up,
    select,
    type_text,
)

__all__ = ["LEVEL_2"]

HOME = "/forms/"


def _data(world: World) -> FormsData:
    data: FormsData = world.data
    return data


def _party(rng: random.Random) -> tuple[int, str]:
    people = rng.choice([1, 1, 1, 2, 2, 3, 4])
    if people == 1:
        return 1, rng.choice(["", "", " for one person", " just for me"])
    return people, rng.choice([f" for {people} people", f" for a party of {people}"])


def _note(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.6:
        return "", ""
    note = rng.choice(NOTES)
    return note, rng.choice([f' Add the note "{note}"', f' Put "{note}" in the notes'])


def _book(world: World, rng: random.Random, route: str) -> WebTaskDraft | None:
    data = _data(world)
    service = rng.choice(data.services)
    days = bookable_days(data, service)
    if not days:
        return None
    day = rng.choice(days)
    free = free_times(data, service, day, data.bookings)
    people, party = _party(rng)
    note, note_phrase = _note(rng)
    when = say_day(rng, day)
    if route == "opening":
        time = service_times(service, day)[0]
        if time not in free:
            return None
        prompt = rng.choice(
            [
                f"Book {service.name} on {when} at the time it opens that day{party}.",
                f"I want the very first appointment of the day for {service.name} on {when}"
                f"{party}. Book it.",
            ]
        )
        steps = [click("link", "Services"), click("link", service.name)]
        steps += [click("link", "Book this service")]
        steps += book_steps(service, day, time, people, note, open_form=False, service_chosen=True)
    else:
        time = rng.choice(free)
        prompt = rng.choice(
            [
                f"Book an appointment for {service.name} on {when} at {time}{party}.",
                f"Please book {service.name} for me: {when}, {time}{party}.",
                f"I need a {service.name} appointment at {time} on {when}{party}.",
            ]
        )
        steps = book_steps(service, day, time, people, note)
        if route == "service page":
            steps = [click("link", service.name), click("link", "Book this service")]
            steps += book_steps(
                service, day, time, people, note, open_form=False, service_chosen=True
            )
    row = booking_rows(data, data.bookings, service, day, time, people, note)
    start = "/forms/services" if route == "service page" else HOME
    return WebTaskDraft(
        prompt + (note_phrase + "." if note else ""),
        start,
        (*steps, answer(DONE)),
        changes={"bookings": {row["reference"]: row}},
    )


def book_with_time(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Book S on D at T (for N people, with a note)."""
    return _book(world, rng, "form")


def book_from_service_page(world: World, rng: random.Random) -> WebTaskDraft | None:
    """The same, starting from the services list (its "Book this service" link)."""
    return _book(world, rng, "service page")


def book_at_opening(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Book S on D at its opening time that day (read off the service's page)."""
    return _book(world, rng, "opening")


def book_earliest_free(world: World, rng: random.Random) -> WebTaskDraft | None:
    """JavaScript: book the earliest (or latest) free time of S on D, from the times list."""
    data = _data(world)
    service = rng.choice(data.services)
    days = [
        d
        for d in bookable_days(data, service)
        if len(free_times(data, service, d, data.bookings)) > 1
    ]
    if not days:
        return None
    day = rng.choice(days)
    free = free_times(data, service, day, data.bookings)
    latest = rng.random() < 0.3
    time = free[-1] if latest else free[0]
    which = "latest" if latest else "earliest"
    people, party = _party(rng)
    when = say_day(rng, day)
    prompt = rng.choice(
        [
            f"Book the {which} available {service.name} appointment on {when}{party}.",
            f"Get me the {which} free time for {service.name} on {when}{party} and book it.",
        ]
    )
    steps = book_steps(service, day, time, people, open_form=False, show_times=True)
    row = booking_rows(data, data.bookings, service, day, time, people)
    return WebTaskDraft(
        prompt,
        "/forms/book",
        (*steps, answer(DONE)),
        changes={"bookings": {row["reference"]: row}},
        requires_js=True,
    )


def free_times_question(world: World, rng: random.Random) -> WebTaskDraft | None:
    """JavaScript: the earliest free time, or how many are free, for S on D."""
    data = _data(world)
    service = rng.choice(data.services)
    days = bookable_days(data, service)
    if not days:
        return None
    day = rng.choice(days)
    free = free_times(data, service, day, data.bookings)
    when = say_day(rng, day)
    if rng.random() < 0.5:
        prompt = f"What is the earliest free time (HH:MM) for {service.name} on {when}?"
        expected = Answer(free[0])
    else:
        prompt = f"How many appointment times are still free for {service.name} on {when}?"
        expected = Answer(str(len(free)), "number")
    plan = (
        select("Service", service.name),
        type_text("Date", day.isoformat()),
        click("button", "Show available times"),
        answer(expected.value),
    )
    return WebTaskDraft(prompt, "/forms/book", plan, answer=expected, requires_js=True)


_KINDS = ["display_name", "email", "phone", "timezone", "language", "newsletter", "notices"]


def two_settings(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Change two settings in one go."""
    data = _data(world)
    made = settings_changes(data, rng, rng.sample(_KINDS, 2))
    if made is None:
        return None
    phrases, steps, changes = made
    ask = join_phrases(phrases)
    prompt = rng.choice([f"Please {ask}.", f"Update my settings: {ask}.", f"Could you {ask}?"])
    plan = (click("link", "Settings"), *steps, click("button", "Save settings"), answer(DONE))
    return WebTaskDraft(prompt, HOME, plan, changes=changes)


def sms_reminders(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Send my reminders by SMS to this (new) number."""
    data = _data(world)
    if data.settings["notifications"] == "SMS":
        return None
    phone = new_phone(rng)
    prompt = rng.choice(
        [
            f"I want my booking reminders by SMS, to {phone}.",
            f"Switch my booking reminders to text messages at {phone}.",
        ]
    )
    plan = (
        click("link", "Settings"),
        type_text("Phone", phone),
        check("SMS", role="radio"),
        click("button", "Save settings"),
        answer(DONE),
    )
    row = {**data.settings, "phone": phone, "notifications": "SMS"}
    return WebTaskDraft(prompt, HOME, plan, changes={"settings": {data.username: row}})


def submit_ticket(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Open a support ticket with the given category, subject, message and priority."""
    data = _data(world)
    wording, steps, row = ticket_request(data, rng)
    prompt = rng.choice(
        [
            f"Open a support ticket with {wording}.",
            f"Contact support for me: {wording}.",
            f"File a ticket ({wording}).",
        ]
    )
    from_home = rng.random() < 0.5
    plan = [click("link", "Support")] if from_home else []
    plan += [*steps, click("button", "Submit ticket"), answer(DONE)]
    start = HOME if from_home else "/forms/support"
    return WebTaskDraft(prompt, start, tuple(plan), changes={"tickets": {str(row["number"]): row}})


def _upcoming(data: FormsData) -> list[dict[str, Any]]:
    return [b for b in data.bookings if cancellable(data, b)]


def booking_cost(world: World, rng: random.Random) -> WebTaskDraft | None:
    """What will my booking on D cost in total (bookings list, then the services' prices)?"""
    data = _data(world)
    pairs = [(b, s) for b in _upcoming(data) if (s := data.service(b["service"])) is not None]
    if not pairs:
        return None
    booking, service = rng.choice(pairs)
    total = f"{service.price * booking['people']:.2f}"
    when = say_day(rng, dt.date.fromisoformat(booking["date"]))
    prompt = rng.choice(
        [
            f"How much will my appointment on {when} cost in total, for everyone booked?",
            f"What is the total price of my booking {booking['reference']}?",
        ]
    )
    plan = (click("link", "My bookings"), click("link", "Services"), answer(total))
    return WebTaskDraft(prompt, HOME, plan, answer=Answer(total, "money"))


def booking_location(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Where do I go for booking R (bookings list, then the service's page)?"""
    data = _data(world)
    booking = rng.choice(_upcoming(data) or list(data.bookings))
    service = data.service(booking["service"])
    if service is None:
        return None
    prompt = rng.choice(
        [
            f"Where do I have to go for my booking {booking['reference']}? "
            "Give the location as the site states it.",
            f"Which location is my appointment {booking['reference']} at? "
            "Answer with the location exactly as shown.",
        ]
    )
    plan = (
        click("link", "My bookings"),
        click("link", "Services"),
        click("link", service.name),
        answer(service.location),
    )
    return WebTaskDraft(prompt, HOME, plan, answer=Answer(service.location))


def cancel_two(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Cancel bookings R1 and R2."""
    data = _data(world)
    upcoming = _upcoming(data)
    if len(upcoming) < 2:
        return None
    first, second = rng.sample(upcoming, 2)
    plan = [click("link", "My bookings")]
    bookings = list(data.bookings)
    changes: dict[str, dict[str, Any] | None] = {}
    for booking in (first, second):
        nth = cancel_nth(data, bookings, booking["reference"])
        if nth is None:
            return None
        plan.append(click("button", "Cancel booking", nth=nth))
        row = {**booking, "status": "Cancelled"}
        bookings = [row if b["reference"] == row["reference"] else b for b in bookings]
        changes[row["reference"]] = row
    prompt = rng.choice(
        [
            f"Cancel both of my bookings {first['reference']} and {second['reference']}.",
            f"Please cancel bookings {first['reference']} and {second['reference']}.",
        ]
    )
    return WebTaskDraft(prompt, HOME, (*plan, answer(DONE)), changes={"bookings": changes})


def closed_or_taken(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Infeasible: book S at exactly D and T, where S is closed that day or T is taken."""
    data = _data(world)
    service = rng.choice(data.services)
    window = [data.today + dt.timedelta(days=n) for n in range(1, 61)]
    mode = rng.choice(["closed", "holiday", "taken", "taken"])
    if mode == "closed":
        days = [d for d in window if service.opening(d) is None and d not in data.holidays]
        time = rng.choice(ALL_TIMES[2:14])
    elif mode == "holiday":
        days = list(data.holidays)
        time = rng.choice(ALL_TIMES[2:14])
    else:
        days = bookable_days(data, service)
        time = ""
    if not days:
        return None
    day = rng.choice(days)
    reason = date_problem(data, service, day)
    if mode == "taken":
        taken = sorted(busy_times(data.seed, service, day))
        if not taken:
            return None
        time = rng.choice(taken)
        reason = f"{time} on {day.isoformat()} is already booked for {service.name}."
    if reason is None:
        return None
    when = say_day(rng, day)
    prompt = rng.choice(
        [
            f"Book {service.name} on {when} at {time}. It has to be exactly that day and time; "
            "if that is impossible, tell me.",
            f"I can only come on {when} at {time}: book {service.name} then, and no other "
            "day or time.",
        ]
    )
    steps = book_steps(service, day, time, 1)
    return WebTaskDraft(prompt, HOME, (*steps, give_up(reason)), feasible=False)


LEVEL_2: list[TaskTemplate] = [
    book_with_time,
    book_with_time,
    book_from_service_page,
    book_at_opening,
    book_earliest_free,
    free_times_question,
    two_settings,
    two_settings,
    sms_reminders,
    submit_ticket,
    submit_ticket,
    booking_cost,
    booking_location,
    cancel_two,
    closed_or_taken,
]
"""Level 2: 15 entries, one infeasible, two needing JavaScript."""
