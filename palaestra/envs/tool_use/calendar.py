"""Calendar: people, meeting rooms and the meetings that fill one working week.

The calendar covers Monday 2026-03-02 to Friday 2026-03-06, 09:00 to 17:00, in 30-minute slots.
A meeting's participants are its organizer and its attendees. Nobody is in two meetings at once,
a room holds one meeting at a time and seats every participant. A cancelled meeting stays on
record with status "cancelled"; it blocks nobody and cannot be changed.
"""

from __future__ import annotations

import random
import re
import typing
from typing import Any, Literal

from palaestra.core.tools import tool
from palaestra.core.types import ToolCall
from palaestra.envs.tool_use.names import person_names
from palaestra.envs.tool_use.world import Domain, TaskDraft, World
from palaestra.errors import ToolError

__all__ = ["CALENDAR", "CalendarWorld"]

Day = Literal["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06"]
Duration = Literal[30, 60, 90, 120]
DAYS: tuple[str, ...] = typing.get_args(Day)
DAY_NAMES = dict(zip(DAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"), strict=True))
DURATIONS: tuple[int, ...] = typing.get_args(Duration)
SLOT = 30
"""Minutes per slot: meetings start on the hour or half hour and last whole slots."""
OPEN, CLOSE = 9 * 60, 17 * 60
SLOTS = (CLOSE - OPEN) // SLOT
MAX_SUBJECT = 80

_CLOCK = re.compile(r"([0-9]{2}):([0-9]{2})")
_ROOMS = "Atlas Birch Cedar Delta Ember Fjord Granite Harbor Iris Juniper Kestrel Lumen".split()
_CAPACITIES = (2, 3, 4, 6, 8, 10, 12)
_TITLES = (
    "Budget review",
    "Design sync",
    "Sprint planning",
    "Hiring panel",
    "Roadmap review",
    "Customer call",
    "Team retro",
    "Vendor demo",
    "Launch checklist",
    "Security review",
    "Quarterly forecast",
    "Onboarding session",
    "Data pipeline sync",
    "Pricing workshop",
    "Support escalation",
    "Partner update",
    "Marketing brainstorm",
    "Architecture review",
    "Release go/no-go",
    "Office move planning",
    "Board prep",
    "Incident postmortem",
)
_NEW_TITLES = (
    "Project kickoff",
    "Contract review",
    "Interview debrief",
    "Offsite planning",
    "Q2 goals",
    "API design chat",
    "Training plan",
    "Demo rehearsal",
    "Hiring sync",
    "Research readout",
    "Migration plan",
    "Feedback session",
)
_SOLO_TITLES = ("Focus time", "Report writing", "Interview prep", "Deep work", "Planning block")


def _clock(slot: int) -> str:
    minutes = OPEN + slot * SLOT
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _slot(clock: str) -> int:
    """The slot of a stored (valid) time."""
    return (int(clock[:2]) * 60 + int(clock[3:]) - OPEN) // SLOT


def _span(meeting: dict[str, Any]) -> tuple[int, int]:
    """A meeting's first slot and its length in slots."""
    first = _slot(meeting["start"])
    return first, _slot(meeting["end"]) - first


def _mask(first: int, length: int) -> int:
    return ((1 << length) - 1) << first


def _check_duration(duration_minutes: int) -> None:
    if duration_minutes not in DURATIONS:
        raise ToolError(f"duration_minutes must be 30, 60, 90 or 120, got {duration_minutes!r}.")


def _participants(meeting: dict[str, Any]) -> list[str]:
    return [meeting["organizer_id"], *meeting["attendee_ids"]]


class CalendarWorld(World):
    """People, rooms and a week of meetings."""

    domain = "calendar"
    policy = (
        "The calendar covers one week: "
        + ", ".join(f"{name} {day}" for day, name in DAY_NAMES.items())
        + ". Meetings start on the hour or half hour between 09:00 and 16:30, last "
        "30, 60, 90 or 120 minutes and end by 17:00. A meeting's participants are its organizer "
        "(who always attends and cannot be removed) and its attendees; nobody may be in two "
        "meetings at the same time, a room holds one meeting at a time, and the room must seat "
        "every participant. Cancelled meetings cannot be changed."
    )

    @classmethod
    def generate(cls, rng: random.Random) -> CalendarWorld:
        """A team of 6-8 people, 3-5 rooms and 12-18 meetings that never overlap."""
        people = {}
        for index, name in enumerate(person_names(rng, rng.randint(6, 8))):
            pid = f"U-{101 + index}"
            email = name.lower().replace(" ", ".") + "@example.com"
            people[pid] = {"id": pid, "name": name, "email": email}
        count = rng.randint(3, 5)
        picks = zip(rng.sample(_ROOMS, count), rng.sample(_CAPACITIES, count), strict=True)
        rooms: dict[str, dict[str, Any]] = {
            name: {"name": name, "capacity": capacity} for name, capacity in picks
        }
        ids = list(people)
        titles = rng.sample(_TITLES, len(_TITLES))
        busy: dict[tuple[str, str], int] = {}  # (person id or room, day) -> bitmask of slots
        meetings: dict[str, dict[str, Any]] = {}
        target = rng.randint(12, 18)
        for _ in range(4 * target):
            if len(meetings) == target:
                break
            organizer = rng.choice(ids)
            attendees = sorted(rng.sample([p for p in ids if p != organizer], rng.randint(1, 3)))
            group = [organizer, *attendees]
            day, length = rng.choice(DAYS), rng.choice((1, 2, 2, 2, 3, 4))
            first = rng.randrange(SLOTS - length + 1)
            mask = _mask(first, length)
            if any(busy.get((p, day), 0) & mask for p in group):
                continue
            fitting = [
                r["name"]
                for r in rooms.values()
                if r["capacity"] >= len(group) and not busy.get((r["name"], day), 0) & mask
            ]
            if not fitting:
                continue
            room = rng.choice(fitting)
            status = "cancelled" if rng.random() < 0.08 else "scheduled"
            if status == "scheduled":
                for key in (*group, room):
                    busy[key, day] = busy.get((key, day), 0) | mask
            mid = f"M-{301 + len(meetings)}"
            meetings[mid] = {
                "id": mid,
                "subject": titles.pop(),
                "organizer_id": organizer,
                "attendee_ids": attendees,
                "day": day,
                "start": _clock(first),
                "end": _clock(first + length),
                "room": room,
                "status": status,
            }
        state = {
            "people": people,
            "rooms": rooms,
            "meetings": meetings,
            "next_meeting": 301 + len(meetings),
        }
        return cls(state)

    # ------------------------------------------------------------------------------ look-ups
    def _person(self, person_id: str) -> dict[str, Any]:
        if person_id not in self.state["people"]:
            raise ToolError(f"No person with id {person_id!r}. Use find_person to look up ids.")
        return self.state["people"][person_id]

    def _room(self, room: str) -> dict[str, Any]:
        if room not in self.state["rooms"]:
            names = ", ".join(sorted(self.state["rooms"]))
            raise ToolError(f"No room named {room!r}. The rooms are: {names}.")
        return self.state["rooms"][room]

    def _meeting(self, meeting_id: str, *, change: bool = False) -> dict[str, Any]:
        meeting = self.state["meetings"].get(meeting_id)
        if meeting is None:
            raise ToolError(
                f"No meeting with id {meeting_id!r}. Use list_meetings to see a person's meetings."
            )
        if change and meeting["status"] != "scheduled":
            raise ToolError(
                f"Meeting {meeting_id} is cancelled and cannot be changed; create a new meeting "
                "instead."
            )
        return meeting

    @staticmethod
    def _day(day: str) -> str:
        if day not in DAYS:
            raise ToolError(f"day must be one of {', '.join(DAYS)}, got {day!r}.")
        return day

    @staticmethod
    def _slots(start: str, duration_minutes: int) -> tuple[int, int]:
        """The first slot and length of a meeting at ``start``; refuses times off the grid."""
        _check_duration(duration_minutes)
        match = _CLOCK.fullmatch(start)
        if match is None:
            raise ToolError(f"start must be a 24-hour time like '09:30' (HH:MM), got {start!r}.")
        hours, mins = int(match.group(1)), int(match.group(2))
        if hours > 23 or mins > 59:
            raise ToolError(f"start {start!r} is not a valid time; use HH:MM, like '09:30'.")
        minutes = hours * 60 + mins
        if minutes % SLOT:
            raise ToolError(
                f"start {start} is not on the 30-minute grid; meetings start on the hour or half "
                "hour, like 10:00 or 10:30."
            )
        if not OPEN <= minutes < CLOSE:
            raise ToolError(
                f"start {start} is outside working hours; meetings start between 09:00 and 16:30."
            )
        first, length = (minutes - OPEN) // SLOT, duration_minutes // SLOT
        if first + length > SLOTS:
            latest = _clock(SLOTS - length)
            raise ToolError(
                f"A {duration_minutes}-minute meeting starting at {start} would end after 17:00; "
                f"it must start by {latest}."
            )
        return first, length

    def _scheduled(self, day: str) -> list[dict[str, Any]]:
        meetings = self.state["meetings"].values()
        return [m for m in meetings if m["status"] == "scheduled" and m["day"] == day]

    def _conflict(
        self,
        person_ids: list[str],
        room: str | None,
        day: str,
        first: int,
        length: int,
        ignore: str | None = None,
    ) -> str | None:
        """Why these people or this room are not free then, or None when they are."""
        wanted = set(person_ids)
        for meeting in self._scheduled(day):
            other_first, other_length = _span(meeting)
            if meeting["id"] == ignore or not (
                other_first < first + length and first < other_first + other_length
            ):
                continue
            when = f"on {day} {meeting['start']}-{meeting['end']}"
            what = f"{meeting['subject']!r} ({meeting['id']})"
            if room is not None and meeting["room"] == room:
                return (
                    f"Room {room} is taken by {what} {when}. Choose another time, or another room "
                    "(find_free_rooms lists the free ones)."
                )
            busy = [p for p in _participants(meeting) if p in wanted]
            if busy:
                person = self.state["people"][busy[0]]
                return (
                    f"{person['name']} ({person['id']}) is already in {what} {when}. Choose a time "
                    "when everyone is free (find_free_slots lists them)."
                )
        return None

    def _free_starts(
        self,
        person_ids: list[str],
        room: str | None,
        day: str,
        length: int,
        ignore: str | None = None,
    ) -> list[int]:
        """The slots where these people (and the room) are free for ``length`` slots from then."""
        wanted, busy = set(person_ids), 0
        for meeting in self._scheduled(day):
            if meeting["id"] != ignore and (
                meeting["room"] == room or wanted.intersection(_participants(meeting))
            ):
                busy |= _mask(*_span(meeting))
        return [s for s in range(SLOTS - length + 1) if not busy & _mask(s, length)]

    def _free_rooms(
        self, day: str, first: int, length: int, min_capacity: int
    ) -> list[dict[str, Any]]:
        """Copies of the rooms that seat ``min_capacity`` and are free then, smallest first."""
        free = [
            dict(r)
            for r in self.state["rooms"].values()
            if r["capacity"] >= min_capacity
            and self._conflict([], r["name"], day, first, length) is None
        ]
        return sorted(free, key=lambda r: (r["capacity"], r["name"]))

    @staticmethod
    def _summary(meeting: dict[str, Any]) -> dict[str, Any]:
        keys = ("id", "subject", "day", "start", "end", "room", "organizer_id")
        return {key: meeting[key] for key in keys}

    # ---------------------------------------------------------------------------------- tools
    @tool
    def find_person(self, name: str) -> list[dict[str, Any]]:
        """Find people whose name contains the given text (case-insensitive).

        Args:
            name: Full or partial name, like "Ada Chen" or "Ada".
        """
        needle = name.strip().lower()
        if not needle:
            raise ToolError("name must not be empty.")
        return [dict(p) for p in self.state["people"].values() if needle in p["name"].lower()]

    @tool
    def list_rooms(self, min_capacity: int = 1) -> list[dict[str, Any]]:
        """List the meeting rooms with at least the given number of seats, smallest first.

        Args:
            min_capacity: Fewest seats the room must have.
        """
        if min_capacity < 1:
            raise ToolError(f"min_capacity must be at least 1, got {min_capacity}.")
        rooms = [dict(r) for r in self.state["rooms"].values() if r["capacity"] >= min_capacity]
        return sorted(rooms, key=lambda r: (r["capacity"], r["name"]))

    @tool
    def find_free_rooms(
        self, day: Day, start: str, duration_minutes: Duration, min_capacity: int = 1
    ) -> list[dict[str, Any]]:
        """List the rooms free for the whole of a time span, smallest first.

        Args:
            day: Date, like "2026-03-02".
            start: Start time, like "14:30".
            duration_minutes: Length of the span in minutes.
            min_capacity: Fewest seats the room must have.
        """
        self._day(day)
        first, length = self._slots(start, duration_minutes)
        if min_capacity < 1:
            raise ToolError(f"min_capacity must be at least 1, got {min_capacity}.")
        return self._free_rooms(day, first, length, min_capacity)

    @tool
    def list_meetings(self, person_id: str, day: Day | None = None) -> list[dict[str, Any]]:
        """List the scheduled meetings a person organizes or attends, in time order.

        Args:
            person_id: Person id, like "U-101".
            day: Only this date, like "2026-03-02"; every day of the week when omitted.
        """
        self._person(person_id)
        days = DAYS if day is None else (self._day(day),)
        found = [
            self._summary(m)
            for d in days
            for m in self._scheduled(d)
            if person_id in _participants(m)
        ]
        return sorted(found, key=lambda m: (m["day"], m["start"]))

    @tool
    def get_meeting(self, meeting_id: str) -> dict[str, Any]:
        """Get a meeting's details: subject, organizer, attendees, time, room and status.

        Args:
            meeting_id: Meeting id, like "M-301".
        """
        meeting = self._meeting(meeting_id)
        minutes = _span(meeting)[1] * SLOT
        attendees = list(meeting["attendee_ids"])
        return {**meeting, "attendee_ids": attendees, "duration_minutes": minutes}

    @tool
    def find_free_slots(
        self, person_ids: list[str], day: Day, duration_minutes: Duration, room: str | None = None
    ) -> list[str]:
        """List the start times on a day when all the given people (and the room) are free.

        Args:
            person_ids: Ids of everyone who must be free, like ["U-101", "U-102"].
            day: Date, like "2026-03-02".
            duration_minutes: How long they must be free, in minutes.
            room: A room that must be free too; leave out to ignore rooms.
        """
        if not person_ids:
            raise ToolError("person_ids must name at least one person.")
        for pid in person_ids:
            self._person(pid)
        self._day(day)
        if room is not None:
            self._room(room)
        _check_duration(duration_minutes)
        starts = self._free_starts(person_ids, room, day, duration_minutes // SLOT)
        return [_clock(s) for s in starts]

    @tool
    def create_meeting(
        self,
        subject: str,
        organizer_id: str,
        attendee_ids: list[str],
        day: Day,
        start: str,
        duration_minutes: Duration,
        room: str,
    ) -> dict[str, Any]:
        """Schedule a new meeting in a room; everyone and the room must be free then.

        Args:
            subject: What the meeting is called, like "Budget review".
            organizer_id: Id of the person who organizes it (and attends it).
            attendee_ids: Ids of the other people invited, without the organizer; may be empty.
            day: Date, like "2026-03-02".
            start: Start time on the half hour, like "14:30".
            duration_minutes: Length in minutes.
            room: Name of the room, like "Cedar".
        """
        subject = subject.strip()
        if not subject:
            raise ToolError("subject must not be empty.")
        if len(subject) > MAX_SUBJECT:
            raise ToolError(
                f"subject must be at most {MAX_SUBJECT} characters, got {len(subject)}."
            )
        self._person(organizer_id)
        for pid in attendee_ids:
            self._person(pid)
        if organizer_id in attendee_ids:
            raise ToolError(
                f"{organizer_id} is the organizer and attends automatically; leave them out of "
                "attendee_ids."
            )
        if len(set(attendee_ids)) != len(attendee_ids):
            raise ToolError("attendee_ids lists someone twice; name each attendee once.")
        self._day(day)
        capacity = self._room(room)["capacity"]
        first, length = self._slots(start, duration_minutes)
        group = [organizer_id, *attendee_ids]
        if len(group) > capacity:
            raise ToolError(
                f"Room {room} seats {capacity}, but the meeting has {len(group)} participants "
                "(the organizer counts). Choose a bigger room (list_rooms shows capacities)."
            )
        conflict = self._conflict(group, room, day, first, length)
        if conflict is not None:
            raise ToolError(conflict)
        mid = f"M-{self.state['next_meeting']}"
        self.state["next_meeting"] += 1
        self.state["meetings"][mid] = {
            "id": mid,
            "subject": subject,
            "organizer_id": organizer_id,
            "attendee_ids": sorted(attendee_ids),
            "day": day,
            "start": _clock(first),
            "end": _clock(first + length),
            "room": room,
            "status": "scheduled",
        }
        return self._summary(self.state["meetings"][mid])

    @tool
    def cancel_meeting(self, meeting_id: str) -> dict[str, Any]:
        """Cancel a scheduled meeting; its participants and room become free.

        Args:
            meeting_id: Meeting id, like "M-301".
        """
        meeting = self._meeting(meeting_id)
        if meeting["status"] == "cancelled":
            raise ToolError(f"Meeting {meeting_id} is already cancelled.")
        meeting["status"] = "cancelled"
        return {"meeting_id": meeting_id, "status": "cancelled"}

    @tool
    def reschedule_meeting(self, meeting_id: str, day: Day, start: str) -> dict[str, Any]:
        """Move a meeting to a new day and start time, keeping its length, room and participants.

        Args:
            meeting_id: Meeting id, like "M-301".
            day: New date, like "2026-03-02".
            start: New start time on the half hour, like "14:30".
        """
        meeting = self._meeting(meeting_id, change=True)
        self._day(day)
        length = _span(meeting)[1]
        first, _ = self._slots(start, length * SLOT)
        if day == meeting["day"] and first == _slot(meeting["start"]):
            raise ToolError(
                f"Meeting {meeting_id} is already at {start} on {day}; nothing to change."
            )
        conflict = self._conflict(
            _participants(meeting), meeting["room"], day, first, length, ignore=meeting_id
        )
        if conflict is not None:
            raise ToolError(conflict)
        meeting.update(day=day, start=_clock(first), end=_clock(first + length))
        return self._summary(meeting)

    @tool
    def change_room(self, meeting_id: str, room: str) -> dict[str, Any]:
        """Move a meeting to another room at the same time.

        Args:
            meeting_id: Meeting id, like "M-301".
            room: Name of the new room, like "Cedar".
        """
        meeting = self._meeting(meeting_id, change=True)
        capacity = self._room(room)["capacity"]
        if room == meeting["room"]:
            raise ToolError(f"Meeting {meeting_id} is already in {room}; nothing to change.")
        size = len(_participants(meeting))
        if size > capacity:
            raise ToolError(
                f"Room {room} seats {capacity}, but meeting {meeting_id} has {size} participants. "
                "Choose a bigger room (list_rooms shows capacities)."
            )
        conflict = self._conflict([], room, meeting["day"], *_span(meeting), ignore=meeting_id)
        if conflict is not None:
            raise ToolError(conflict)
        meeting["room"] = room
        return self._summary(meeting)

    @tool
    def add_attendee(self, meeting_id: str, person_id: str) -> dict[str, Any]:
        """Invite one more person to a meeting; they must be free and the room must have a seat.

        Args:
            meeting_id: Meeting id, like "M-301".
            person_id: Id of the person to add, like "U-101".
        """
        meeting = self._meeting(meeting_id, change=True)
        person = self._person(person_id)
        if person_id == meeting["organizer_id"]:
            raise ToolError(
                f"{person['name']} ({person_id}) organizes {meeting_id} and already attends."
            )
        if person_id in meeting["attendee_ids"]:
            raise ToolError(f"{person['name']} ({person_id}) already attends {meeting_id}.")
        capacity = self.state["rooms"][meeting["room"]]["capacity"]
        if len(_participants(meeting)) + 1 > capacity:
            raise ToolError(
                f"Room {meeting['room']} seats {capacity} and meeting {meeting_id} is full. "
                "Move it to a bigger room first (change_room)."
            )
        conflict = self._conflict([person_id], None, meeting["day"], *_span(meeting))
        if conflict is not None:
            raise ToolError(conflict)
        meeting["attendee_ids"] = sorted([*meeting["attendee_ids"], person_id])
        return {"meeting_id": meeting_id, "attendee_ids": list(meeting["attendee_ids"])}

    @tool
    def remove_attendee(self, meeting_id: str, person_id: str) -> dict[str, Any]:
        """Take a person off a meeting's attendees (the organizer cannot be removed).

        Args:
            meeting_id: Meeting id, like "M-301".
            person_id: Id of the person to remove, like "U-101".
        """
        meeting = self._meeting(meeting_id, change=True)
        person = self._person(person_id)
        if person_id == meeting["organizer_id"]:
            raise ToolError(
                f"{person['name']} ({person_id}) organizes {meeting_id} and cannot be removed; "
                "cancel the meeting instead."
            )
        if person_id not in meeting["attendee_ids"]:
            raise ToolError(f"{person['name']} ({person_id}) does not attend {meeting_id}.")
        meeting["attendee_ids"] = [p for p in meeting["attendee_ids"] if p != person_id]
        return {"meeting_id": meeting_id, "attendee_ids": list(meeting["attendee_ids"])}


# ----------------------------------------------------------------------------------- tasks
def _call(tool_name: str, /, **arguments: Any) -> ToolCall:
    return ToolCall(name=tool_name, arguments=arguments)


def _calendar(world: World) -> CalendarWorld:
    return world if isinstance(world, CalendarWorld) else CalendarWorld(world.state)


def _meetings(world: World) -> list[dict[str, Any]]:
    return [m for m in world.state["meetings"].values() if m["status"] == "scheduled"]


def _people(world: World) -> list[dict[str, Any]]:
    return list(world.state["people"].values())


def _name(world: World, person_id: str) -> str:
    name: str = world.state["people"][person_id]["name"]
    return name


def _on(day: str, rng: random.Random) -> str:
    """A day as a user might write it."""
    name = DAY_NAMES[day]
    return rng.choice([name, f"{name} ({day})", f"{name}, March {int(day[-2:])}", day])


def _joiners(world: World, meeting: dict[str, Any]) -> list[dict[str, Any]]:
    """People who could be added to a meeting: not in it, free then, and the room has a seat."""
    group = _participants(meeting)
    if len(group) >= world.state["rooms"][meeting["room"]]["capacity"]:
        return []
    cal = _calendar(world)
    return [
        p
        for p in _people(world)
        if p["id"] not in group
        and cal._conflict([p["id"]], None, meeting["day"], *_span(meeting)) is None
    ]


def _moves(world: World, meeting: dict[str, Any], days: tuple[str, ...]) -> list[tuple[str, int]]:
    """The (day, slot) pairs a meeting could be moved to, its current time excluded."""
    cal, length, group = _calendar(world), _span(meeting)[1], _participants(meeting)
    current = (meeting["day"], _slot(meeting["start"]))
    return [
        (day, s)
        for day in days
        for s in cal._free_starts(group, meeting["room"], day, length, meeting["id"])
        if (day, s) != current
    ]


def _draft(
    template: str, prompt: str, gold: list[ToolCall], answer: str | None = None
) -> TaskDraft:
    return TaskDraft(prompt, gold, answer=answer, metadata={"template": template})


# Level 1: one call, with every id given.
def _cancel_by_id(world: World, rng: random.Random) -> TaskDraft | None:
    meetings = _meetings(world)
    if not meetings:
        return None
    m = rng.choice(meetings)
    prompt = rng.choice(
        [
            "Please cancel meeting {mid} ({title}).",
            'Cancel {mid}, the "{title}" meeting; it is no longer needed.',
            'The "{title}" meeting ({mid}) is off. Please cancel it.',
            'Can you cancel {mid} for me? That is "{title}" on {day}.',
        ]
    ).format(mid=m["id"], title=m["subject"], day=_on(m["day"], rng))
    return _draft("cancel_by_id", prompt, [_call("cancel_meeting", meeting_id=m["id"])])


def _meeting_question(world: World, rng: random.Random) -> TaskDraft | None:
    meetings = _meetings(world)
    if not meetings:
        return None
    m = rng.choice(meetings)
    kind = rng.choice(["start", "end", "room", "size"])
    prompts = {
        "start": [
            "What time does meeting {mid} start? Reply with the time as HH:MM.",
            'When does the "{title}" meeting ({mid}) begin? Give the time as HH:MM.',
        ],
        "end": [
            "What time does meeting {mid} end? Reply with the time as HH:MM.",
            'When is "{title}" ({mid}) over? Answer with the end time as HH:MM.',
        ],
        "room": [
            "Which room is meeting {mid} in?",
            'Where is the "{title}" meeting ({mid}) held? Tell me the room name.',
        ],
        "size": [
            "How many people take part in meeting {mid}, counting the organizer?",
            'How many participants does "{title}" ({mid}) have, organizer included? '
            "Give the number.",
        ],
    }
    answers = {"start": m["start"], "end": m["end"], "room": m["room"]}
    answers["size"] = str(len(_participants(m)))
    prompt = rng.choice(prompts[kind]).format(mid=m["id"], title=m["subject"])
    gold = [_call("get_meeting", meeting_id=m["id"])]
    return _draft(f"meeting_{kind}", prompt, gold, answer=answers[kind])


def _add_by_id(world: World, rng: random.Random) -> TaskDraft | None:
    pairs = [(m, p) for m in _meetings(world) for p in _joiners(world, m)]
    if not pairs:
        return None
    m, p = rng.choice(pairs)
    prompt = rng.choice(
        [
            "Please add {name} ({pid}) to meeting {mid}.",
            'Invite {name} ({pid}) to {mid} ("{title}").',
            "{name}, id {pid}, should also attend meeting {mid}. Please add them.",
        ]
    ).format(name=p["name"], pid=p["id"], mid=m["id"], title=m["subject"])
    gold = [_call("add_attendee", meeting_id=m["id"], person_id=p["id"])]
    return _draft("add_by_id", prompt, gold)


def _remove_by_id(world: World, rng: random.Random) -> TaskDraft | None:
    pairs = [(m, pid) for m in _meetings(world) for pid in m["attendee_ids"]]
    if not pairs:
        return None
    m, pid = rng.choice(pairs)
    prompt = rng.choice(
        [
            "Remove {name} ({pid}) from meeting {mid}.",
            '{name} ({pid}) no longer needs to attend "{title}" ({mid}); take them off the invite.',
            "Please drop {pid} ({name}) from the attendees of {mid}.",
        ]
    ).format(name=_name(world, pid), pid=pid, mid=m["id"], title=m["subject"])
    gold = [_call("remove_attendee", meeting_id=m["id"], person_id=pid)]
    return _draft("remove_by_id", prompt, gold)


def _reschedule_by_id(world: World, rng: random.Random) -> TaskDraft | None:
    meetings = _meetings(world)
    if not meetings:
        return None
    m = rng.choice(meetings)
    moves = _moves(world, m, DAYS)
    if not moves:
        return None
    day, slot = rng.choice(moves)
    prompt = rng.choice(
        [
            "Move meeting {mid} to {day} at {time}.",
            'Please reschedule "{title}" ({mid}) to {time} on {day}.',
            "Can meeting {mid} start at {time} on {day} instead? Please move it.",
        ]
    ).format(mid=m["id"], title=m["subject"], day=_on(day, rng), time=_clock(slot))
    gold = [_call("reschedule_meeting", meeting_id=m["id"], day=day, start=_clock(slot))]
    return _draft("reschedule_by_id", prompt, gold)


def _change_room_by_id(world: World, rng: random.Random) -> TaskDraft | None:
    cal = _calendar(world)
    pairs = [
        (m, r["name"])
        for m in _meetings(world)
        for r in world.state["rooms"].values()
        if r["name"] != m["room"]
        and r["capacity"] >= len(_participants(m))
        and cal._conflict([], r["name"], m["day"], *_span(m)) is None
    ]
    if not pairs:
        return None
    m, room = rng.choice(pairs)
    prompt = rng.choice(
        [
            "Move meeting {mid} to room {room}.",
            'Please switch "{title}" ({mid}) to the {room} room, same time.',
            "Meeting {mid} should be held in {room} instead. Can you change that?",
        ]
    ).format(mid=m["id"], title=m["subject"], room=room)
    gold = [_call("change_room", meeting_id=m["id"], room=room)]
    return _draft("change_room_by_id", prompt, gold)


# Level 2: look someone up first, then act or answer.
def _cancel_by_title(world: World, rng: random.Random) -> TaskDraft | None:
    meetings = _meetings(world)
    if not meetings:
        return None
    m = rng.choice(meetings)
    name = _name(world, m["organizer_id"])
    prompt = rng.choice(
        [
            'Hi, I\'m {name}. Please cancel my "{title}" meeting.',
            'This is {name}: the "{title}" meeting I set up on {day} will not happen. '
            "Cancel it, please.",
            '{name} here. Could you call off the "{title}" meeting I organized?',
        ]
    ).format(name=name, title=m["subject"], day=_on(m["day"], rng))
    gold = [
        _call("find_person", name=name),
        _call("list_meetings", person_id=m["organizer_id"]),
        _call("cancel_meeting", meeting_id=m["id"]),
    ]
    return _draft("cancel_by_title", prompt, gold)


def _count_on_day(world: World, rng: random.Random) -> TaskDraft | None:
    person, day = rng.choice(_people(world)), rng.choice(DAYS)
    count = sum(m["day"] == day and person["id"] in _participants(m) for m in _meetings(world))
    prompt = rng.choice(
        [
            "How many meetings does {name} have on {day}? Reply with the number.",
            "Count the meetings on {name}'s calendar for {day} and tell me how many there are.",
            "How busy is {name} on {day}? Tell me the number of meetings they are in.",
        ]
    ).format(name=person["name"], day=_on(day, rng))
    gold = [
        _call("find_person", name=person["name"]),
        _call("list_meetings", person_id=person["id"], day=day),
    ]
    return _draft("count_on_day", prompt, gold, answer=str(count))


def _first_or_last(world: World, rng: random.Random) -> TaskDraft | None:
    person, day = rng.choice(_people(world)), rng.choice(DAYS)
    mine = [m for m in _meetings(world) if m["day"] == day and person["id"] in _participants(m)]
    if not mine:
        return None
    if rng.random() < 0.5:
        answer = min(m["start"] for m in mine)
        prompt = rng.choice(
            [
                "What time does {name}'s first meeting on {day} start? Answer as HH:MM.",
                "When is {name} first busy on {day}? Give the start time (HH:MM) of their first "
                "meeting.",
            ]
        )
    else:
        answer = max(m["end"] for m in mine)
        prompt = rng.choice(
            [
                "What time does {name}'s last meeting on {day} end? Answer as HH:MM.",
                "On {day}, when does {name}'s final meeting finish? Give the time as HH:MM.",
            ]
        )
    prompt = prompt.format(name=person["name"], day=_on(day, rng))
    gold = [
        _call("find_person", name=person["name"]),
        _call("list_meetings", person_id=person["id"], day=day),
    ]
    return _draft("first_or_last", prompt, gold, answer=answer)


def _invite_by_name(world: World, rng: random.Random) -> TaskDraft | None:
    pairs = [(m, p) for m in _meetings(world) for p in _joiners(world, m)]
    if not pairs:
        return None
    m, p = rng.choice(pairs)
    prompt = rng.choice(
        [
            "Please add {name} to meeting {mid}.",
            'Invite {name} to the "{title}" meeting ({mid}).',
            "{name} should join meeting {mid} too. Can you add them?",
        ]
    ).format(name=p["name"], mid=m["id"], title=m["subject"])
    gold = [
        _call("find_person", name=p["name"]),
        _call("add_attendee", meeting_id=m["id"], person_id=p["id"]),
    ]
    return _draft("invite_by_name", prompt, gold)


def _reschedule_by_title(world: World, rng: random.Random) -> TaskDraft | None:
    meetings = _meetings(world)
    if not meetings:
        return None
    m = rng.choice(meetings)
    moves = _moves(world, m, DAYS)
    if not moves:
        return None
    day, slot = rng.choice(moves)
    name = _name(world, m["organizer_id"])
    prompt = rng.choice(
        [
            'I\'m {name}. Please move my "{title}" meeting to {time} on {day}.',
            '{name} here: could you push the "{title}" meeting I organize to {day} at {time}?',
            'This is {name}. Reschedule my "{title}" to start at {time} on {day}, please.',
        ]
    ).format(name=name, title=m["subject"], day=_on(day, rng), time=_clock(slot))
    gold = [
        _call("find_person", name=name),
        _call("list_meetings", person_id=m["organizer_id"]),
        _call("reschedule_meeting", meeting_id=m["id"], day=day, start=_clock(slot)),
    ]
    return _draft("reschedule_by_title", prompt, gold)


def _book_solo(world: World, rng: random.Random) -> TaskDraft | None:
    cal = _calendar(world)
    person, day = rng.choice(_people(world)), rng.choice(DAYS)
    room, minutes = rng.choice(sorted(world.state["rooms"])), rng.choice(DURATIONS)
    starts = cal._free_starts([person["id"]], room, day, minutes // SLOT)
    if not starts:
        return None
    start, title = _clock(rng.choice(starts)), rng.choice(_SOLO_TITLES)
    prompt = rng.choice(
        [
            "I'm {name}. Book room {room} for me alone on {day} at {start} for {minutes} minutes, "
            'titled "{title}".',
            'This is {name}: please put a {minutes}-minute "{title}" block on my calendar on {day} '
            "starting {start}, in {room}. Nobody else is invited.",
        ]
    ).format(
        name=person["name"], room=room, day=_on(day, rng), start=start, minutes=minutes, title=title
    )
    gold = [
        _call("find_person", name=person["name"]),
        _call(
            "create_meeting",
            subject=title,
            organizer_id=person["id"],
            attendee_ids=[],
            day=day,
            start=start,
            duration_minutes=minutes,
            room=room,
        ),
    ]
    return _draft("book_solo", prompt, gold)


# Level 3: several look-ups and changes that build on each other.
def _group(world: World, rng: random.Random) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An organizer and one or two colleagues."""
    chosen = rng.sample(_people(world), rng.randint(2, 3))
    return chosen[0], chosen[1:]


def _names(people: list[dict[str, Any]]) -> str:
    return " and ".join(p["name"] for p in people)


def _book_common_slot(world: World, rng: random.Random) -> TaskDraft | None:
    cal = _calendar(world)
    organizer, others = _group(world, rng)
    ids = [organizer["id"], *(p["id"] for p in others)]
    minutes, title = rng.choice(DURATIONS), rng.choice(_NEW_TITLES)
    options = []  # (day, earliest slot, smallest free room that seats everyone)
    for day in DAYS:
        starts = cal._free_starts(ids, None, day, minutes // SLOT)
        if starts:
            rooms = cal._free_rooms(day, starts[0], minutes // SLOT, len(ids))
            if rooms:
                options.append((day, starts[0], rooms[0]["name"]))
    later = [option for option in options if option[1] > 0]  # prefer days not free at 09:00
    if not options:
        return None
    day, slot, room = rng.choice(later or options)
    ask_time = rng.random() < 0.5
    prompt = rng.choice(
        [
            'I\'m {me}. Set up a {minutes}-minute meeting called "{title}" with {others} on {day}, '
            "at the earliest time we are all free, in the smallest room that is free then and "
            "seats all of us.",
            'This is {me}. Please book "{title}" ({minutes} minutes) with {others} on {day}: take '
            "the first time slot when everyone is available and the smallest free room big enough "
            "for the group.",
        ]
    ).format(
        me=organizer["name"], minutes=minutes, title=title, others=_names(others), day=_on(day, rng)
    )
    if ask_time:
        prompt += " Tell me the start time."
    gold = [_call("find_person", name=p["name"]) for p in (organizer, *others)]
    gold += [
        _call("find_free_slots", person_ids=ids, day=day, duration_minutes=minutes),
        _call(
            "find_free_rooms",
            day=day,
            start=_clock(slot),
            duration_minutes=minutes,
            min_capacity=len(ids),
        ),
        _call(
            "create_meeting",
            subject=title,
            organizer_id=ids[0],
            attendee_ids=ids[1:],
            day=day,
            start=_clock(slot),
            duration_minutes=minutes,
            room=room,
        ),
    ]
    return _draft("book_common_slot", prompt, gold, answer=_clock(slot) if ask_time else None)


def _book_in_room(world: World, rng: random.Random) -> TaskDraft | None:
    cal = _calendar(world)
    organizer, others = _group(world, rng)
    ids = [organizer["id"], *(p["id"] for p in others)]
    rooms = [r["name"] for r in world.state["rooms"].values() if r["capacity"] >= len(ids)]
    if not rooms:
        return None
    room, day = rng.choice(sorted(rooms)), rng.choice(DAYS)
    minutes, title = rng.choice(DURATIONS), rng.choice(_NEW_TITLES)
    starts = cal._free_starts(ids, room, day, minutes // SLOT)
    if not starts:
        return None
    start = _clock(starts[0])
    prompt = rng.choice(
        [
            'I\'m {me}. Book {room} for a {minutes}-minute "{title}" with {others} on {day}, at '
            "the earliest time when all of us and the room are free.",
            "{me} here. I need {room} on {day} for {minutes} minutes with {others}; call it "
            '"{title}" and take the first time that works for everyone and for the room.',
        ]
    ).format(
        me=organizer["name"],
        room=room,
        minutes=minutes,
        title=title,
        others=_names(others),
        day=_on(day, rng),
    )
    gold = [_call("find_person", name=p["name"]) for p in (organizer, *others)]
    gold += [
        _call("find_free_slots", person_ids=ids, day=day, duration_minutes=minutes, room=room),
        _call(
            "create_meeting",
            subject=title,
            organizer_id=ids[0],
            attendee_ids=ids[1:],
            day=day,
            start=start,
            duration_minutes=minutes,
            room=room,
        ),
    ]
    return _draft("book_in_room", prompt, gold)


def _reschedule_and_invite(world: World, rng: random.Random) -> TaskDraft | None:
    meetings = _meetings(world)
    if not meetings:
        return None
    m = rng.choice(meetings)
    capacity = world.state["rooms"][m["room"]]["capacity"]
    outsiders = [p for p in _people(world) if p["id"] not in _participants(m)]
    if not outsiders or len(_participants(m)) >= capacity:
        return None
    guest = rng.choice(outsiders)
    cal, length = _calendar(world), _span(m)[1]
    group = [*_participants(m), guest["id"]]
    moves = [
        (day, s)
        for day in DAYS
        for s in cal._free_starts(group, m["room"], day, length, m["id"])
        if (day, s) != (m["day"], _slot(m["start"]))
    ]
    if not moves:
        return None
    day, slot = rng.choice(moves)
    me = _name(world, m["organizer_id"])
    prompt = rng.choice(
        [
            'I\'m {me}. Please move my "{title}" meeting to {day} at {time}, and invite {guest} '
            "to it.",
            '{me} here. The "{title}" meeting I organize should now start at {time} on {day}; also '
            "add {guest} as an attendee.",
        ]
    ).format(me=me, title=m["subject"], day=_on(day, rng), time=_clock(slot), guest=guest["name"])
    gold = [
        _call("find_person", name=me),
        _call("list_meetings", person_id=m["organizer_id"]),
        _call("find_person", name=guest["name"]),
        _call("reschedule_meeting", meeting_id=m["id"], day=day, start=_clock(slot)),
        _call("add_attendee", meeting_id=m["id"], person_id=guest["id"]),
    ]
    return _draft("reschedule_and_invite", prompt, gold)


def _clear_day(world: World, rng: random.Random) -> TaskDraft | None:
    meetings = _meetings(world)
    options = []
    for p in _people(world):
        for day in DAYS:
            mine = [m for m in meetings if m["day"] == day and p["id"] in _participants(m)]
            if len(mine) >= 2:
                options.append((p, day, mine))
    if not options:
        return None
    person, day, mine = rng.choice(options)
    prompt = rng.choice(
        [
            "I'm {name} and I will be out on {day}. Cancel the meetings I organize that day and "
            "take me off the ones I was only invited to.",
            "This is {name}; I'm taking {day} off. For that day, please cancel every meeting I "
            "organized, and remove me from the other meetings I attend.",
        ]
    ).format(name=person["name"], day=_on(day, rng))
    gold = [
        _call("find_person", name=person["name"]),
        _call("list_meetings", person_id=person["id"], day=day),
    ]
    for m in sorted(mine, key=lambda m: m["start"]):
        if m["organizer_id"] == person["id"]:
            gold.append(_call("cancel_meeting", meeting_id=m["id"]))
        else:
            gold.append(_call("remove_attendee", meeting_id=m["id"], person_id=person["id"]))
    return _draft("clear_day", prompt, gold)


def _move_to_earliest(world: World, rng: random.Random) -> TaskDraft | None:
    meetings = _meetings(world)
    if not meetings:
        return None
    m = rng.choice(meetings)
    day = rng.choice([d for d in DAYS if d != m["day"]])
    length, group = _span(m)[1], _participants(m)
    starts = _calendar(world)._free_starts(group, m["room"], day, length)
    if not starts:
        return None
    me, start, ask_time = _name(world, m["organizer_id"]), _clock(starts[0]), rng.random() < 0.5
    prompt = rng.choice(
        [
            'I\'m {me}. Please move my "{title}" meeting to {day}, at the earliest time when '
            "everyone in it and its room are free.",
            '{me} here. Push the "{title}" meeting I organize to {day}: pick the first slot that '
            "day when all its participants and its current room are available.",
        ]
    ).format(me=me, title=m["subject"], day=_on(day, rng))
    if ask_time:
        prompt += " What time will it start?"
    gold = [
        _call("find_person", name=me),
        _call("list_meetings", person_id=m["organizer_id"]),
        _call("get_meeting", meeting_id=m["id"]),
        _call(
            "find_free_slots",
            person_ids=group,
            day=day,
            duration_minutes=length * SLOT,
            room=m["room"],
        ),
        _call("reschedule_meeting", meeting_id=m["id"], day=day, start=start),
    ]
    return _draft("move_to_earliest", prompt, gold, answer=start if ask_time else None)


def _replace_attendee(world: World, rng: random.Random) -> TaskDraft | None:
    cal = _calendar(world)
    options = [
        (m, leaver, p)
        for m in _meetings(world)
        for leaver in m["attendee_ids"]
        for p in _people(world)
        if p["id"] not in _participants(m)
        and cal._conflict([p["id"]], None, m["day"], *_span(m)) is None
    ]
    if not options:
        return None
    m, leaver, substitute = rng.choice(options)
    name = _name(world, leaver)
    prompt = rng.choice(
        [
            '{leaver} can\'t make the "{title}" meeting on {day}. Please take them off it and '
            "invite {sub} instead.",
            'Swap {leaver} for {sub} in the "{title}" meeting: remove {leaver} and add {sub}.',
        ]
    ).format(leaver=name, sub=substitute["name"], title=m["subject"], day=_on(m["day"], rng))
    gold = [
        _call("find_person", name=name),
        _call("find_person", name=substitute["name"]),
        _call("list_meetings", person_id=leaver),
        _call("remove_attendee", meeting_id=m["id"], person_id=leaver),
        _call("add_attendee", meeting_id=m["id"], person_id=substitute["id"]),
    ]
    return _draft("replace_attendee", prompt, gold)


CALENDAR = Domain(
    name="calendar",
    world=CalendarWorld,
    templates={
        1: [
            _cancel_by_id,
            _meeting_question,
            _add_by_id,
            _remove_by_id,
            _reschedule_by_id,
            _change_room_by_id,
        ],
        2: [
            _cancel_by_title,
            _count_on_day,
            _first_or_last,
            _invite_by_name,
            _reschedule_by_title,
            _book_solo,
        ],
        3: [
            _book_common_slot,
            _book_in_room,
            _reschedule_and_invite,
            _clear_day,
            _move_to_earliest,
            _replace_attendee,
        ],
    },
    description="a team calendar: people, meeting rooms and a week of meetings",
    example=_call("list_meetings", person_id="U-101", day="2026-03-02"),
)
