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
from palaestra.envs.tool_use.names import person_names
from palaestra.envs.tool_use.world import World
from palaestra.errors import ToolError

__all__ = ["CalendarWorld"]


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
