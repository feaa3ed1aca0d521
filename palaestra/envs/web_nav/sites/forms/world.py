"""The forms site's world: the services on offer, the signed-in resident and their records.

One world is a services portal on a fixed day (``FormsData.today``): 9 of the services below
with their weekly opening hours, two public holidays ahead, about forty other accounts (so that
"this username is taken" happens), and the signed-in user's settings, bookings and support
tickets. The records are kept as the dicts the state tables hold, so task templates build the
rows they expect in the same shape the verifier reads.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import sqlite3
from dataclasses import dataclass
from typing import Any

from palaestra.envs.tool_use.names import FIRST_NAMES, LAST_NAMES

__all__ = [
    "ALL_TIMES",
    "COUNTRIES",
    "LANGUAGES",
    "NOTIFICATIONS",
    "PRIORITIES",
    "SCHEMA",
    "TICKET_CATEGORIES",
    "TIMEZONES",
    "WEEKDAYS",
    "FormsData",
    "Service",
    "build_database",
    "generate_data",
    "password_hash",
]

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ALL_TIMES = tuple(f"{hour:02d}:{minute:02d}" for hour in range(8, 19) for minute in (0, 30))
"""Every time the booking form offers (08:00-18:30); each service opens for some of them."""
COUNTRIES = sorted(
    "Australia Austria Belgium Brazil Canada Denmark France Germany India Ireland Italy Japan "
    "Mexico Netherlands Norway Portugal Spain Sweden".split()
    + ["New Zealand", "United Kingdom", "United States"]
)
TIMEZONES = (
    "UTC Europe/London Europe/Paris Europe/Berlin Europe/Madrid America/New_York America/Chicago "
    "America/Denver America/Los_Angeles Asia/Tokyo Asia/Kolkata Australia/Sydney"
).split()
LANGUAGES = {
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
}
"""Language code (what the settings row stores) -> the name the form shows."""
NOTIFICATIONS = ("Email", "SMS", "None")
TICKET_CATEGORIES = ("Bookings", "Account", "Payments", "Accessibility", "Other")
PRIORITIES = ("Low", "Normal", "High")

# name, minutes, base price, where, what
_SERVICES = (
    ("Haircut", 30, 25.0, "Salon, ground floor", "A wash, cut and style with a stylist."),
    ("Passport photo", 15, 12.5, "Photo studio, room 2", "Four biometric passport photos."),
    ("General consultation", 20, 40.0, "Clinic, room 11", "A visit with a general doctor."),
    ("Vaccination", 15, 15.0, "Clinic, room 9", "Seasonal and travel vaccines."),
    ("Blood test", 15, 18.0, "Clinic lab, room 14", "A blood sample taken by a nurse."),
    ("Eye test", 30, 30.0, "Optician, first floor", "A full sight test with an optician."),
    ("Dental check-up", 30, 55.0, "Dental suite, room 21", "An exam and clean with a dentist."),
    ("Tax advice", 45, 60.0, "Advice centre, desk 3", "Help with a tax return or a bill."),
    ("Legal advice", 45, 75.0, "Advice centre, desk 5", "A first meeting with a lawyer."),
    ("Driving licence renewal", 20, 35.0, "Licensing office, counter 4", "Renew a licence."),
    ("Parking permit", 15, 20.0, "Licensing office, counter 2", "A resident parking permit."),
    ("Library card", 10, 5.0, "Library, front desk", "A new or replacement library card."),
    ("Physiotherapy", 45, 65.0, "Clinic, room 16", "A session with a physiotherapist."),
    ("Nutrition counselling", 30, 45.0, "Clinic, room 12", "Advice on diet from a dietitian."),
    ("ID card renewal", 20, 30.0, "Civic centre, counter 1", "Renew a national ID card."),
    ("Bike repair", 30, 15.0, "Workshop, yard entrance", "A safety check and small repairs."),
    ("Pet vaccination", 20, 28.0, "Vet clinic, annex B", "Yearly vaccines for cats and dogs."),
)
_HOLIDAYS = ("Spring holiday", "Founders' Day", "Civic holiday", "Harvest festival", "Unity Day")
_TICKET_SUBJECTS = (
    ("Bookings", "Reminder email never arrived"),
    ("Bookings", "Wrong service on my booking"),
    ("Account", "Cannot change my password"),
    ("Account", "Please merge my two accounts"),
    ("Payments", "Charged twice for one visit"),
    ("Payments", "Need a receipt for my visit"),
    ("Accessibility", "Step-free access to room 14"),
    ("Accessibility", "Large print forms"),
    ("Other", "Lost umbrella in the waiting room"),
    ("Other", "Parking at the civic centre"),
)
SCHEMA = """
CREATE TABLE accounts (username TEXT PRIMARY KEY, email TEXT NOT NULL,
    password_sha256 TEXT NOT NULL, date_of_birth TEXT NOT NULL, country TEXT NOT NULL,
    created_on TEXT NOT NULL);
CREATE TABLE settings (username TEXT PRIMARY KEY, display_name TEXT NOT NULL, email TEXT NOT NULL,
    phone TEXT NOT NULL, timezone TEXT NOT NULL, language TEXT NOT NULL,
    newsletter INTEGER NOT NULL, notifications TEXT NOT NULL);
CREATE TABLE bookings (reference TEXT PRIMARY KEY, service TEXT NOT NULL, date TEXT NOT NULL,
    time TEXT NOT NULL, people INTEGER NOT NULL, notes TEXT NOT NULL, status TEXT NOT NULL,
    booked_on TEXT NOT NULL);
CREATE TABLE tickets (number INTEGER PRIMARY KEY, category TEXT NOT NULL, subject TEXT NOT NULL,
    message TEXT NOT NULL, priority TEXT NOT NULL, status TEXT NOT NULL, opened_on TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Service:
    """A bookable service and its weekly opening hours."""

    slug: str
    name: str
    minutes: int
    price: float
    location: str
    description: str
    hours: tuple[tuple[str, str] | None, ...]
    """Monday..Sunday: (opens, closes) as HH:MM, or None when closed that day."""

    def opening(self, day: dt.date) -> tuple[str, str] | None:
        """The hours on ``day``'s weekday (holidays aside), or None when closed."""
        return self.hours[day.weekday()]

    @property
    def open_days(self) -> tuple[str, ...]:
        """The weekdays it opens, Monday first."""
        return tuple(WEEKDAYS[i] for i, hours in enumerate(self.hours) if hours is not None)


@dataclass(frozen=True)
class FormsData:
    """One world's records (rows as the state tables hold them)."""

    seed: int
    today: dt.date
    """The portal's fixed 'today': bookings, ages and ticket dates are relative to it."""
    username: str
    """The signed-in user."""
    services: tuple[Service, ...]
    holidays: dict[dt.date, str]
    accounts: tuple[dict[str, Any], ...]
    settings: dict[str, Any]
    bookings: tuple[dict[str, Any], ...]
    tickets: tuple[dict[str, Any], ...]

    def service(self, key: str) -> Service | None:
        """The service with this slug or name, if offered."""
        return next((s for s in self.services if key in (s.slug, s.name)), None)

    @property
    def last_bookable(self) -> dt.date:
        """The latest day the booking form accepts (60 days ahead)."""
        return self.today + dt.timedelta(days=60)


def password_hash(password: str) -> str:
    """What the accounts table stores for a password."""
    return hashlib.sha256(password.encode("utf-8")).hexdigest()


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-")


def _hours(rng: random.Random) -> tuple[tuple[str, str] | None, ...]:
    weekday = (rng.choice(["08:00", "08:30", "09:00", "10:00"]), rng.choice(ALL_TIMES[16:]))
    week: list[tuple[str, str] | None] = [weekday] * 5
    if rng.random() < 0.3:
        week[rng.choice([0, 2])] = None
    if rng.random() < 0.3:
        week[3] = (weekday[0], "19:00")
    saturday = rng.choice([None, None, ("09:00", "13:00"), ("10:00", "14:00"), ("09:00", "12:30")])
    sunday = ("10:00", "14:00") if rng.random() < 0.1 else None
    return (*week, saturday, sunday)


def _services(rng: random.Random) -> tuple[Service, ...]:
    picks = sorted(rng.sample(range(len(_SERVICES)), 9))
    services = []
    for index in picks:
        name, minutes, price, location, description = _SERVICES[index]
        price = max(2.5, price + rng.choice([-5.0, -2.5, 0.0, 2.5, 5.0]))
        services.append(
            Service(_slug(name), name, minutes, price, location, description, _hours(rng))
        )
    return tuple(services)


def _username(rng: random.Random, first: str, last: str) -> str:
    style = rng.randrange(4)
    if style == 0:
        return f"{first.lower()}{rng.randint(1, 99)}"
    if style == 1:
        return f"{first[0].lower()}{last.lower()}"
    if style == 2:
        return f"{first.lower()}{last[0].lower()}{rng.randint(70, 99)}"
    return f"{last.lower()}{first[0].lower()}"


def _accounts(rng: random.Random, today: dt.date) -> list[dict[str, Any]]:
    accounts: list[dict[str, Any]] = []
    taken: set[str] = set()
    while len(accounts) < 41:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        username = _username(rng, first, last)
        if username.lower() in taken:
            continue
        taken.add(username.lower())
        born = dt.date(rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28))
        accounts.append(
            {
                "username": username,
                "email": f"{first.lower()}.{last.lower()}{rng.randint(1, 999)}@example.org",
                "password_sha256": password_hash(f"{first}{rng.randint(1000, 9999)}"),
                "date_of_birth": born.isoformat(),
                "country": rng.choice(COUNTRIES),
                "created_on": (today - dt.timedelta(days=rng.randint(10, 2000))).isoformat(),
                "_name": f"{first} {last}",
            }
        )
    return accounts


def _bookings(
    rng: random.Random, seed: int, today: dt.date, services: tuple[Service, ...], holidays: Any
) -> list[dict[str, Any]]:
    # The rules module reads this one's constants, so it is imported here, not at the top.
    from palaestra.envs.web_nav.sites.forms.rules import busy_times, next_reference, service_times

    offsets = rng.sample([*range(-40, -2), *range(1, 45)], 30)
    plan = ["Completed", "Completed", "Cancelled", "Confirmed", "Confirmed", "Confirmed"]
    plan += rng.sample(["Confirmed", "Completed", "Cancelled"], rng.randint(0, 2))
    bookings: list[dict[str, Any]] = []
    for status in plan:
        for offset in offsets:
            day = today + dt.timedelta(days=offset)
            if (offset < 0) != (status == "Completed") or day in holidays:
                continue
            if any(b["date"] == day.isoformat() for b in bookings):
                continue
            service = rng.choice(services)
            free = [
                t for t in service_times(service, day) if t not in busy_times(seed, service, day)
            ]
            if not free:
                continue
            offsets.remove(offset)
            reference = next_reference(seed, [b["reference"] for b in bookings])
            booked = min(day, today) - dt.timedelta(days=rng.randint(3, 20))
            note = rng.choice(["", "", "", "First visit.", "Please call if you run late."])
            bookings.append(
                {
                    "reference": reference,
                    "service": service.name,
                    "date": day.isoformat(),
                    "time": rng.choice(free),
                    "people": rng.choice([1, 1, 1, 2, 3]),
                    "notes": note,
                    "status": status,
                    "booked_on": booked.isoformat(),
                }
            )
            break
    return bookings


def _tickets(rng: random.Random, today: dt.date) -> list[dict[str, Any]]:
    start = rng.randrange(1200, 9000)
    statuses = ["Open", "In progress", "Resolved", "Closed"]
    picks = rng.sample(_TICKET_SUBJECTS, rng.randint(3, 5))
    return [
        {
            "number": start + index,
            "category": category,
            "subject": subject,
            "message": f"{subject}. Could you help, please?",
            "priority": rng.choice(PRIORITIES),
            "status": rng.choice(statuses),
            "opened_on": (today - dt.timedelta(days=rng.randint(2, 90))).isoformat(),
        }
        for index, (category, subject) in enumerate(picks)
    ]


def generate_data(seed: int) -> FormsData:
    """The records of world ``seed``."""
    rng = random.Random(f"forms/world/{seed}")
    today = dt.date(2025, 1, 6) + dt.timedelta(days=rng.randrange(330))
    services = _services(rng)
    ahead = [today + dt.timedelta(days=d) for d in range(5, 58)]
    holidays = {
        day: name
        for day, name in zip(
            sorted(rng.sample([d for d in ahead if d.weekday() < 5], 2)),
            rng.sample(_HOLIDAYS, 2),
            strict=True,
        )
    }
    accounts = _accounts(rng, today)
    me = accounts[0]
    first, last = me.pop("_name").split()
    for account in accounts[1:]:
        del account["_name"]
    phone = rng.choice(["", f"+44 7700 {rng.randint(100000, 999999)}"])
    settings = {
        "username": me["username"],
        "display_name": f"{first} {last}",
        "email": me["email"],
        "phone": phone,
        "timezone": rng.choice(TIMEZONES),
        "language": rng.choice(list(LANGUAGES)),
        "newsletter": rng.choice([0, 1]),
        "notifications": rng.choice(["Email", "SMS"] if phone else ["Email", "None"]),
    }
    return FormsData(
        seed=seed,
        today=today,
        username=me["username"],
        services=services,
        holidays=holidays,
        accounts=tuple(sorted(accounts, key=lambda a: a["username"])),
        settings=settings,
        bookings=tuple(_bookings(rng, seed, today, services, holidays)),
        tickets=tuple(_tickets(rng, today)),
    )


def build_database(data: FormsData) -> sqlite3.Connection:
    """The template database of a world, filled with its records."""
    database = sqlite3.connect(":memory:", check_same_thread=False)
    database.executescript(SCHEMA)
    for table, rows in (
        ("accounts", data.accounts),
        ("settings", (data.settings,)),
        ("bookings", data.bookings),
        ("tickets", data.tickets),
    ):
        for row in rows:
            marks = ", ".join("?" for _ in row)
            database.execute(
                f"INSERT INTO {table} ({', '.join(row)}) VALUES ({marks})",  # noqa: S608
                tuple(row.values()),
            )
    database.commit()
    return database
