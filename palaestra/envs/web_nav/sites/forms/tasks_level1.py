"""Level-1 tasks of the forms site: one page and one or two actions.

Cancel a booking, change one setting, or read one fact off the bookings, services or tickets
page; one template in sixteen is infeasible (cancelling a booking that cannot be cancelled).
"""

from __future__ import annotations

import datetime as dt
import random

from palaestra.envs.web_nav.sites.base import TaskTemplate, World
from palaestra.envs.web_nav.sites.forms.rules import booking_reference, cancellable
from palaestra.envs.web_nav.sites.forms.task_kit import (
    DONE,
    cancel_nth,
    join_phrases,
    say_day,
    settings_changes,
)
from palaestra.envs.web_nav.sites.forms.world import WEEKDAYS, FormsData
from palaestra.envs.web_nav.tasks import Answer, WebTaskDraft, answer, click, give_up

__all__ = ["LEVEL_1"]

HOME = "/forms/"


def _data(world: World) -> FormsData:
    data: FormsData = world.data
    return data


def _cancel(data: FormsData, rng: random.Random, by_date: bool) -> WebTaskDraft | None:
    open_ones = [b for b in data.bookings if cancellable(data, b)]
    if not open_ones:
        return None
    booking = rng.choice(open_ones)
    nth = cancel_nth(data, data.bookings, booking["reference"])
    if nth is None:
        return None
    if by_date:
        day = say_day(rng, dt.date.fromisoformat(booking["date"]))
        prompt = rng.choice(
            [
                f"Cancel my {booking['service']} appointment on {day}.",
                f"I can't make my {booking['service']} booking on {day}; please cancel it.",
                f"Please cancel the {booking['service']} appointment I have on {day}.",
            ]
        )
    else:
        reference = booking["reference"]
        prompt = rng.choice(
            [
                f"Cancel my booking {reference}.",
                f"Please cancel booking {reference}; I can't come.",
                f"I won't make it to appointment {reference}. Cancel it, please.",
                f"Booking reference {reference}: cancel it for me.",
            ]
        )
    plan = (click("link", "My bookings"), click("button", "Cancel booking", nth=nth), answer(DONE))
    row = {**booking, "status": "Cancelled"}
    return WebTaskDraft(prompt, HOME, plan, changes={"bookings": {booking["reference"]: row}})


def cancel_by_reference(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Cancel booking R."""
    return _cancel(_data(world), rng, by_date=False)


def cancel_by_date(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Cancel my S appointment on D."""
    return _cancel(_data(world), rng, by_date=True)


def cancel_impossible(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Infeasible: cancel a booking that is past, already cancelled, or does not exist."""
    data = _data(world)
    closed = [b for b in data.bookings if not cancellable(data, b)]
    known = {b["reference"] for b in data.bookings}
    if closed and rng.random() < 0.7:
        booking = rng.choice(closed)
        reference = booking["reference"]
        reason = f"Booking {reference} is {booking['status'].lower()}; it cannot be cancelled."
    else:
        reference = booking_reference(data.seed, rng.randint(50, 5000))
        if reference in known:
            return None
        reason = f"There is no booking {reference} in my bookings."
    prompt = rng.choice(
        [
            f"Cancel my booking {reference}, please.",
            f"Please cancel appointment {reference}.",
            f"I need booking {reference} cancelled.",
        ]
    )
    plan = (click("link", "My bookings"), give_up(reason))
    return WebTaskDraft(prompt, HOME, plan, feasible=False)


def _one_setting(world: World, rng: random.Random, kinds: list[str]) -> WebTaskDraft | None:
    data = _data(world)
    made = settings_changes(data, rng, [rng.choice(kinds)])
    if made is None:
        return None
    phrases, steps, changes = made
    ask = join_phrases(phrases)
    prompt = rng.choice(
        [f"Please {ask}.", f"{ask[0].upper()}{ask[1:]}.", f"In my settings, {ask}, please."]
    )
    plan = (*steps, click("button", "Save settings"), answer(DONE))
    return WebTaskDraft(prompt, "/forms/settings", plan, changes=changes)


def change_contact(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Change the display name, email or phone."""
    return _one_setting(world, rng, ["display_name", "email", "phone"])


def change_preference(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Change the timezone, language, newsletter or reminders."""
    return _one_setting(world, rng, ["timezone", "language", "newsletter", "notices"])


def booking_reference_on(world: World, rng: random.Random) -> WebTaskDraft | None:
    """What is the reference of my booking on D?"""
    data = _data(world)
    booking = rng.choice(data.bookings)
    day = say_day(rng, dt.date.fromisoformat(booking["date"]))
    prompt = rng.choice(
        [
            f"What is the reference of my booking on {day}?",
            f"I need the booking reference of my {booking['service']} appointment on {day}.",
            f"Look up the reference number of the booking I have (or had) on {day}.",
        ]
    )
    plan = (click("link", "My bookings"), answer(booking["reference"]))
    return WebTaskDraft(prompt, HOME, plan, answer=Answer(booking["reference"]))


def booking_fact(world: World, rng: random.Random) -> WebTaskDraft | None:
    """The time, party size or status of one of my bookings."""
    data = _data(world)
    booking = rng.choice(data.bookings)
    reference = booking["reference"]
    day = say_day(rng, dt.date.fromisoformat(booking["date"]))
    fact = rng.randrange(3)
    if fact == 0:
        prompt = rng.choice(
            [
                f"What time is my {booking['service']} appointment on {day}? Answer as HH:MM.",
                f"At what time (HH:MM) is booking {reference}?",
            ]
        )
        expected = Answer(booking["time"])
    elif fact == 1:
        prompt = rng.choice(
            [
                f"For how many people is my booking {reference}?",
                f"How many people did I book for on {day}?",
            ]
        )
        expected = Answer(str(booking["people"]), "number")
    else:
        prompt = rng.choice(
            [
                f"What is the status of my booking {reference}?",
                f"Is my {booking['service']} booking on {day} confirmed, cancelled or completed?",
            ]
        )
        expected = Answer(booking["status"])
    plan = (click("link", "My bookings"), answer(expected.value))
    return WebTaskDraft(prompt, HOME, plan, answer=expected)


def service_hours(world: World, rng: random.Random) -> WebTaskDraft | None:
    """What time does service S open or close on weekday W?"""
    data = _data(world)
    service = rng.choice(data.services)
    index, hours = rng.choice([(i, h) for i, h in enumerate(service.hours) if h is not None])
    weekday = WEEKDAYS[index]
    if rng.random() < 0.5:
        prompt = rng.choice(
            [
                f"What time does {service.name} close on {weekday}s? Answer as HH:MM.",
                f"Until when (HH:MM) is {service.name} open on a {weekday}?",
            ]
        )
        value = hours[1]
    else:
        prompt = rng.choice(
            [
                f"What time does {service.name} open on {weekday}s? Answer as HH:MM.",
                f"From what time (HH:MM) can I see {service.name} on a {weekday}?",
            ]
        )
        value = hours[0]
    plan = (click("link", service.name), answer(value))
    return WebTaskDraft(prompt, "/forms/services", plan, answer=Answer(value))


def services_on_day(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Which services are offered on weekday W? (a set answer)."""
    data = _data(world)
    index = rng.randrange(7)
    names = [s.name for s in data.services if s.hours[index] is not None]
    if not names or len(names) == len(data.services):
        return None
    weekday = WEEKDAYS[index]
    prompt = rng.choice(
        [
            f"Which services are offered on {weekday}s? List all of them.",
            f"Name every service that is open on {weekday}s.",
            f"I can only come on a {weekday}. Which services could I book? List them all.",
        ]
    )
    value = ", ".join(names)
    plan = (click("link", "Services"), answer(value))
    return WebTaskDraft(prompt, HOME, plan, answer=Answer(value, "set"))


def service_price_or_length(world: World, rng: random.Random) -> WebTaskDraft | None:
    """How much does service S cost, or how long does it take?"""
    data = _data(world)
    service = rng.choice(data.services)
    if rng.random() < 0.5:
        prompt = rng.choice(
            [
                f"How much does {service.name} cost per person?",
                f"What is the price of {service.name} for one person?",
            ]
        )
        expected = Answer(f"{service.price:.2f}", "money")
    else:
        prompt = rng.choice(
            [
                f"How many minutes does a {service.name} appointment last?",
                f"How long is {service.name}, in minutes?",
            ]
        )
        expected = Answer(str(service.minutes), "number")
    plan = (click("link", "Services"), answer(expected.value))
    return WebTaskDraft(prompt, HOME, plan, answer=expected)


def holiday_date(world: World, rng: random.Random) -> WebTaskDraft | None:
    """On which date is holiday H (all services closed)?"""
    data = _data(world)
    day, name = rng.choice(list(data.holidays.items()))
    prompt = rng.choice(
        [
            f"On which date are all services closed for {name}?",
            f"When is {name}, the public holiday when everything is closed? Give the date.",
        ]
    )
    plan = (click("link", "Services"), answer(day.isoformat()))
    return WebTaskDraft(prompt, HOME, plan, answer=Answer(day.isoformat(), "date"))


def ticket_status(world: World, rng: random.Random) -> WebTaskDraft | None:
    """What is the status of my ticket T?"""
    data = _data(world)
    ticket = rng.choice(data.tickets)
    prompt = rng.choice(
        [
            f'What is the status of my support ticket "{ticket["subject"]}"?',
            f"What is the current status of support ticket #{ticket['number']}?",
            f'Has my ticket about "{ticket["subject"]}" been dealt with? Tell me its status.',
        ]
    )
    plan = (click("link", "My tickets"), answer(ticket["status"]))
    return WebTaskDraft(prompt, "/forms/support", plan, answer=Answer(ticket["status"]))


LEVEL_1: list[TaskTemplate] = [
    cancel_by_reference,
    cancel_by_date,
    cancel_impossible,
    change_contact,
    change_contact,
    change_preference,
    change_preference,
    booking_reference_on,
    booking_fact,
    booking_fact,
    service_hours,
    services_on_day,
    service_price_or_length,
    holiday_date,
    ticket_status,
    cancel_by_reference,
]
"""Level 1: 16 entries (some templates twice, to weigh them), one infeasible."""
