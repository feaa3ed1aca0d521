"""The forms site's rules: what each form accepts, which times are free, how references look.

Every form posts text fields; a ``validate_*`` function turns them into the row the form would
save and a dict of error messages by field (empty when the row may be saved). The pages and the
task templates share these rules, so a template never asks for something the site refuses.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import random
import re
from collections.abc import Iterable, Mapping
from typing import Any

from palaestra.envs.web_nav.sites.forms.world import (
    COUNTRIES,
    LANGUAGES,
    NOTIFICATIONS,
    PRIORITIES,
    TICKET_CATEGORIES,
    TIMEZONES,
    WEEKDAYS,
    FormsData,
    Service,
    password_hash,
)

__all__ = [
    "BOOKINGS_PER_PAGE",
    "Errors",
    "booking_reference",
    "busy_times",
    "cancellable",
    "date_problem",
    "free_times",
    "listing",
    "next_reference",
    "parse_day",
    "service_times",
    "validate_booking",
    "validate_settings",
    "validate_signup",
    "validate_ticket",
]

Errors = dict[str, str]
BOOKINGS_PER_PAGE = 10
MAX_PEOPLE = 4
_USERNAME = re.compile(r"^[A-Za-z0-9]{3,20}$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ]{6,18}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_REFERENCE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def parse_day(text: str) -> dt.date | None:
    """A YYYY-MM-DD date, or None when the text is not one."""
    if not _DAY.match(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


@functools.lru_cache(maxsize=1 << 16)
def service_times(service: Service, day: dt.date) -> tuple[str, ...]:
    """The half-hour start times of a service on ``day``; the last is 30 min before closing."""
    hours = service.opening(day)
    if hours is None:
        return ()
    opens, closes = (_minutes(t) for t in hours)
    return tuple(f"{m // 60:02d}:{m % 60:02d}" for m in range(opens, closes - 29, 30))


@functools.lru_cache(maxsize=1 << 16)
def busy_times(seed: int, service: Service, day: dt.date) -> frozenset[str]:
    """The times other residents already booked (fixed per world, service and day)."""
    rng = random.Random(f"forms/busy/{seed}/{service.slug}/{day.isoformat()}")
    return frozenset(t for t in service_times(service, day) if rng.random() < 0.4)


def date_problem(data: FormsData, service: Service | None, day: dt.date) -> str | None:
    """Why ``service`` cannot be booked on ``day`` (past, too far, closed), or None."""
    if day < data.today:
        return "That date is in the past."
    if day == data.today:
        return "Online bookings start from tomorrow."
    if day > data.last_bookable:
        return f"Bookings open at most 60 days ahead (until {data.last_bookable.isoformat()})."
    if day in data.holidays:
        return f"All services are closed on {day.isoformat()} ({data.holidays[day]})."
    if service is not None and service.opening(day) is None:
        return f"{service.name} is closed on {WEEKDAYS[day.weekday()]}s."
    return None


def free_times(
    data: FormsData, service: Service, day: dt.date, bookings: Iterable[Mapping[str, Any]]
) -> list[str]:
    """The times still free for ``service`` on ``day``, given the user's bookings."""
    if date_problem(data, service, day) is not None:
        return []
    mine = {
        b["time"]
        for b in bookings
        if b["service"] == service.name and b["date"] == day.isoformat()
        if b["status"] == "Confirmed"
    }
    busy = busy_times(data.seed, service, day) | mine
    return [t for t in service_times(service, day) if t not in busy]


def booking_reference(seed: int, number: int) -> str:
    """The reference of the ``number``-th booking made in world ``seed``."""
    digest = hashlib.blake2b(f"forms/booking/{seed}/{number}".encode(), digest_size=8).digest()
    value = int.from_bytes(digest, "big")
    letters = []
    for _ in range(5):
        value, index = divmod(value, len(_REFERENCE_LETTERS))
        letters.append(_REFERENCE_LETTERS[index])
    return "PS-" + "".join(letters)


def next_reference(seed: int, existing: Iterable[str]) -> str:
    """The reference a new booking gets, given every reference already made."""
    taken = set(existing)
    number = len(taken) + 1
    while booking_reference(seed, number) in taken:
        number += 1
    return booking_reference(seed, number)


def cancellable(data: FormsData, booking: Mapping[str, Any]) -> bool:
    """Whether the user may still cancel a booking (confirmed and not yet past)."""
    return booking["status"] == "Confirmed" and booking["date"] > data.today.isoformat()


def listing(bookings: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Bookings in the order "My bookings" lists them: newest date first."""
    return sorted(bookings, key=lambda b: (b["date"], b["time"]), reverse=True)


def validate_booking(
    data: FormsData, form: Mapping[str, str], bookings: Iterable[Mapping[str, Any]]
) -> tuple[dict[str, Any], Errors]:
    """The booking a form describes (without reference and dates) and its errors."""
    errors: Errors = {}
    bookings = list(bookings)
    service = data.service(form.get("service", ""))
    if service is None:
        errors["service"] = "Choose a service."
    day = parse_day(form.get("date", "").strip())
    if day is None:
        errors["date"] = "Enter the date as YYYY-MM-DD, for example 2025-06-30."
    elif (problem := date_problem(data, service, day)) is not None:
        errors["date"] = problem
    time = form.get("time", "")
    if not time:
        errors["time"] = "Choose a time."
    elif service is not None and day is not None and "date" not in errors:
        hours = service.opening(day)
        if time not in service_times(service, day) and hours is not None:
            errors["time"] = (
                f"{service.name} takes bookings from {hours[0]} until 30 minutes before "
                f"{hours[1]} on {WEEKDAYS[day.weekday()]}s."
            )
        elif time not in free_times(data, service, day, bookings):
            errors["time"] = f"{time} is already booked. Choose another time."
        elif any(
            b["date"] == day.isoformat() and b["time"] == time and b["status"] == "Confirmed"
            for b in bookings
        ):
            errors["time"] = f"You already have a booking at {time} on {day.isoformat()}."
    people = form.get("people", "").strip()
    if not people.isdigit() or not 1 <= int(people) <= MAX_PEOPLE:
        errors["people"] = f"Enter a number of people from 1 to {MAX_PEOPLE}."
    notes = form.get("notes", "").strip()
    if len(notes) > 200:
        errors["notes"] = "Keep notes to 200 characters."
    row = {
        "service": service.name if service else "",
        "date": day.isoformat() if day else "",
        "time": time,
        "people": int(people) if people.isdigit() else 0,
        "notes": notes,
    }
    return row, errors


def _adult(data: FormsData, born: dt.date) -> bool:
    today = data.today
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return age >= 18


def validate_signup(
    data: FormsData, form: Mapping[str, str], accounts: Iterable[Mapping[str, Any]]
) -> tuple[dict[str, Any], Errors]:
    """The account a sign-up form describes and its errors."""
    errors: Errors = {}
    accounts = list(accounts)
    username = form.get("username", "").strip()
    email = form.get("email", "").strip()
    if not _USERNAME.match(username):
        errors["username"] = "Usernames are 3-20 letters or digits, with no spaces."
    elif any(a["username"].lower() == username.lower() for a in accounts):
        errors["username"] = f"The username {username} is taken. Choose another one."
    if not _EMAIL.match(email):
        errors["email"] = "Enter a valid email address, like name@example.com."
    elif any(a["email"].lower() == email.lower() for a in accounts):
        errors["email"] = "An account with this email address already exists."
    password = form.get("password", "")
    if len(password) < 8 or not any(c.isdigit() for c in password):
        errors["password"] = "Passwords need at least 8 characters, including a digit."
    elif form.get("confirm", "") != password:
        errors["confirm"] = "The two passwords do not match."
    born = parse_day(form.get("birth_date", "").strip())
    if born is None or born.year < 1900:
        errors["birth_date"] = "Enter your date of birth as YYYY-MM-DD, for example 1990-04-23."
    elif not _adult(data, born):
        errors["birth_date"] = "You must be 18 or older to create an account."
    country = form.get("country", "")
    if country not in COUNTRIES:
        errors["country"] = "Choose your country."
    if form.get("terms") != "yes":
        errors["terms"] = "You must accept the terms to create an account."
    row = {
        "username": username,
        "email": email,
        "password_sha256": password_hash(password),
        "date_of_birth": born.isoformat() if born else "",
        "country": country,
        "created_on": data.today.isoformat(),
    }
    return row, errors


def validate_settings(
    form: Mapping[str, str], username: str, accounts: Iterable[Mapping[str, Any]]
) -> tuple[dict[str, Any], Errors]:
    """The settings row a settings form describes and its errors."""
    errors: Errors = {}
    display_name = form.get("display_name", "").strip()
    if not 1 <= len(display_name) <= 40:
        errors["display_name"] = "Enter a display name of 1 to 40 characters."
    email = form.get("email", "").strip()
    if not _EMAIL.match(email):
        errors["email"] = "Enter a valid email address, like name@example.com."
    elif any(a["email"].lower() == email.lower() and a["username"] != username for a in accounts):
        errors["email"] = "Another account uses this email address."
    phone = form.get("phone", "").strip()
    notifications = form.get("notifications", "")
    if phone and not _PHONE.match(phone):
        errors["phone"] = "Enter a phone number of digits and spaces, like +44 7700 900123."
    elif notifications == "SMS" and not phone:
        errors["phone"] = "Add a phone number to get SMS notifications."
    if form.get("timezone") not in TIMEZONES:
        errors["timezone"] = "Choose a timezone."
    if form.get("language") not in LANGUAGES:
        errors["language"] = "Choose a language."
    if notifications not in NOTIFICATIONS:
        errors["notifications"] = "Choose how we notify you."
    row = {
        "username": username,
        "display_name": display_name,
        "email": email,
        "phone": phone,
        "timezone": form.get("timezone", ""),
        "language": form.get("language", ""),
        "newsletter": int(form.get("newsletter") == "yes"),
        "notifications": notifications,
    }
    return row, errors


def validate_ticket(form: Mapping[str, str]) -> tuple[dict[str, Any], Errors]:
    """The ticket a support form describes (without number and dates) and its errors."""
    errors: Errors = {}
    category = form.get("category", "")
    if category not in TICKET_CATEGORIES:
        errors["category"] = "Choose a category."
    subject = form.get("subject", "").strip()
    if not 3 <= len(subject) <= 80:
        errors["subject"] = "Enter a subject of 3 to 80 characters."
    message = form.get("message", "").strip()
    if not 10 <= len(message) <= 1000:
        errors["message"] = "Describe the problem in 10 to 1000 characters."
    priority = form.get("priority", "")
    if priority not in PRIORITIES:
        errors["priority"] = "Choose a priority."
    row = {"category": category, "subject": subject, "message": message, "priority": priority}
    return row, errors
