"""The calendar domain: its world, its tools' refusals and its task templates."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from palaestra.core.types import ToolCall
from palaestra.envs.tool_use.calendar import CALENDAR, CalendarWorld
from palaestra.envs.tool_use.calendar.world import DAYS
from palaestra.errors import ToolError

MON, TUE = "2026-03-02", "2026-03-03"


def _meeting(
    mid: str,
    subject: str,
    organizer: str,
    attendees: list[str],
    day: str,
    start: str,
    end: str,
    room: str,
    status: str = "scheduled",
) -> dict[str, Any]:
    return {
        "id": mid,
        "subject": subject,
        "organizer_id": organizer,
        "attendee_ids": attendees,
        "day": day,
        "start": start,
        "end": end,
        "room": room,
        "status": status,
    }


@pytest.fixture
def world() -> CalendarWorld:
    people = {
        pid: {"id": pid, "name": name, "email": f"{name.lower().replace(' ', '.')}@example.com"}
        for pid, name in [
            ("U-101", "Ada Chen"),
            ("U-102", "Ben Kim"),
            ("U-103", "Carla Rossi"),
            ("U-104", "Dana Weber"),
        ]
    }
    rooms = {"Pod": {"name": "Pod", "capacity": 2}, "Cedar": {"name": "Cedar", "capacity": 4}}
    meetings = {
        "M-301": _meeting(
            "M-301", "Budget review", "U-101", ["U-102"], MON, "10:00", "11:00", "Pod"
        ),
        "M-302": _meeting(
            "M-302", "Design sync", "U-103", ["U-101", "U-104"], MON, "13:00", "14:00", "Cedar"
        ),
        "M-303": _meeting(
            "M-303", "Old sync", "U-102", ["U-103"], TUE, "09:00", "09:30", "Cedar", "cancelled"
        ),
    }
    state = {"people": people, "rooms": rooms, "meetings": meetings, "next_meeting": 304}
    return CalendarWorld(state)


def _run(world: CalendarWorld, tool_name: str, /, **arguments: Any) -> Any:
    """Validate like the env does, then run."""
    checked, error = world.toolbox().validate(ToolCall(name=tool_name, arguments=arguments))
    assert error is None, error.message
    return world.call(tool_name, checked)


def _refuses(world: CalendarWorld, match: str, tool_name: str, /, **arguments: Any) -> None:
    before = json.dumps(world.state)
    with pytest.raises(ToolError, match=match):
        _run(world, tool_name, **arguments)
    assert json.dumps(world.state) == before


def _create(**changes: Any) -> dict[str, Any]:
    arguments = {
        "subject": "Kickoff",
        "organizer_id": "U-101",
        "attendee_ids": ["U-103"],
        "day": TUE,
        "start": "10:00",
        "duration_minutes": 60,
        "room": "Cedar",
    }
    return {**arguments, **changes}


# --------------------------------------------------------------------------- read-only tools
def test_lookups_refuse_bad_input(world: CalendarWorld) -> None:
    _refuses(world, "name must not be empty", "find_person", name="  ")
    _refuses(world, "min_capacity must be at least 1", "list_rooms", min_capacity=0)
    _refuses(world, "No person with id 'U-999'.*find_person", "list_meetings", person_id="U-999")
    _refuses(world, "No meeting with id 'M-999'.*list_meetings", "get_meeting", meeting_id="M-999")
    _refuses(
        world,
        "not on the 30-minute grid",
        "find_free_rooms",
        day=MON,
        start="10:10",
        duration_minutes=30,
    )
    _refuses(
        world,
        "min_capacity must be at least 1",
        "find_free_rooms",
        day=MON,
        start="10:00",
        duration_minutes=30,
        min_capacity=-1,
    )
    _refuses(
        world, "at least one person", "find_free_slots", person_ids=[], day=MON, duration_minutes=30
    )
    _refuses(
        world,
        "No person with id 'U-999'",
        "find_free_slots",
        person_ids=["U-101", "U-999"],
        day=MON,
        duration_minutes=30,
    )
    _refuses(
        world,
        "No room named 'Atlas'. The rooms are: Cedar, Pod",
        "find_free_slots",
        person_ids=["U-101"],
        day=MON,
        duration_minutes=30,
        room="Atlas",
    )


def test_lookups_answer_from_the_state(world: CalendarWorld) -> None:
    assert [p["id"] for p in _run(world, "find_person", name="ada")] == ["U-101"]
    assert [r["name"] for r in _run(world, "list_rooms", min_capacity=3)] == ["Cedar"]
    assert [m["id"] for m in _run(world, "list_meetings", person_id="U-101")] == ["M-301", "M-302"]
    assert _run(world, "list_meetings", person_id="U-102", day=TUE) == []  # M-303 is cancelled
    assert _run(world, "get_meeting", meeting_id="M-302")["duration_minutes"] == 60
    free = _run(
        world, "find_free_slots", person_ids=["U-101", "U-102"], day=MON, duration_minutes=60
    )
    assert "09:00" in free and "09:30" not in free and "10:00" not in free and "11:00" in free
    assert "12:30" not in free and "14:00" in free and free[-1] == "16:00"
    free_rooms = _run(world, "find_free_rooms", day=MON, start="10:30", duration_minutes=30)
    assert [r["name"] for r in free_rooms] == ["Cedar"]


def test_results_are_copies(world: CalendarWorld) -> None:
    before = json.dumps(world.state)
    _run(world, "get_meeting", meeting_id="M-301")["attendee_ids"].append("U-104")
    _run(world, "find_person", name="Ada")[0]["name"] = "changed"
    _run(world, "list_rooms")[0]["capacity"] = 99
    _run(world, "list_meetings", person_id="U-101")[0]["start"] = "16:00"
    assert json.dumps(world.state) == before


# ---------------------------------------------------------------------------- create_meeting
@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"subject": "   "}, "subject must not be empty"),
        ({"subject": "x" * 81}, "at most 80 characters"),
        ({"organizer_id": "U-999"}, "No person with id 'U-999'"),
        ({"attendee_ids": ["U-103", "U-998"]}, "No person with id 'U-998'"),
        ({"attendee_ids": ["U-101", "U-103"]}, "organizer and attends automatically"),
        ({"attendee_ids": ["U-103", "U-103"]}, "lists someone twice"),
        ({"room": "Atlas"}, "No room named 'Atlas'"),
        ({"start": "9:00"}, "24-hour time like '09:30'"),
        ({"start": "12:60"}, "not a valid time"),
        ({"start": "10:15"}, "not on the 30-minute grid"),
        ({"start": "08:30"}, "outside working hours"),
        ({"start": "17:00"}, "outside working hours"),
        ({"start": "16:30"}, "would end after 17:00; it must start by 16:00"),
        ({"start": "15:30", "duration_minutes": 120}, "it must start by 15:00"),
        ({"room": "Pod", "attendee_ids": ["U-102", "U-103"]}, "Room Pod seats 2, but the meeting"),
        ({"day": MON, "start": "10:30"}, r"Ada Chen \(U-101\) is already in 'Budget review'"),
        (
            {"day": MON, "organizer_id": "U-104", "attendee_ids": [], "start": "13:30"},
            r"Room Cedar is taken by 'Design sync' \(M-302\)",
        ),
    ],
)
def test_create_meeting_refusals(world: CalendarWorld, changes: dict[str, Any], match: str) -> None:
    _refuses(world, match, "create_meeting", **_create(**changes))


def test_create_meeting_counts_only_successes(world: CalendarWorld) -> None:
    _refuses(world, "outside working hours", "create_meeting", **_create(start="18:00"))
    made = _run(world, "create_meeting", **_create(attendee_ids=["U-104", "U-103"]))
    assert made["id"] == "M-304" and world.state["next_meeting"] == 305
    assert world.state["meetings"]["M-304"]["attendee_ids"] == ["U-103", "U-104"]  # sorted
    assert world.state["meetings"]["M-304"]["end"] == "11:00"
    # a cancelled meeting blocks nobody: Tuesday 09:00 in Cedar is free again
    made = _run(world, "create_meeting", **_create(start="09:00", duration_minutes=30))
    assert made["id"] == "M-305"


# ------------------------------------------------------------------- changes to a meeting
def test_cancel_refusals(world: CalendarWorld) -> None:
    _refuses(world, "No meeting with id 'M-999'", "cancel_meeting", meeting_id="M-999")
    _refuses(world, "M-303 is already cancelled", "cancel_meeting", meeting_id="M-303")
    _run(world, "cancel_meeting", meeting_id="M-301")
    _refuses(world, "M-301 is already cancelled", "cancel_meeting", meeting_id="M-301")


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("reschedule_meeting", {"day": MON, "start": "15:00"}),
        ("change_room", {"room": "Pod"}),
        ("add_attendee", {"person_id": "U-101"}),
        ("remove_attendee", {"person_id": "U-103"}),
    ],
)
def test_cancelled_meetings_cannot_change(
    world: CalendarWorld, name: str, arguments: dict[str, Any]
) -> None:
    _refuses(
        world, "M-303 is cancelled and cannot be changed", name, meeting_id="M-303", **arguments
    )


def test_reschedule_refusals(world: CalendarWorld) -> None:
    _refuses(
        world,
        "No meeting with id 'M-1'",
        "reschedule_meeting",
        meeting_id="M-1",
        day=MON,
        start="15:00",
    )
    _refuses(
        world,
        "already at 10:00 on 2026-03-02; nothing to change",
        "reschedule_meeting",
        meeting_id="M-301",
        day=MON,
        start="10:00",
    )
    _refuses(
        world,
        "not on the 30-minute grid",
        "reschedule_meeting",
        meeting_id="M-301",
        day=MON,
        start="15:45",
    )
    _refuses(
        world,
        "would end after 17:00; it must start by 16:00",
        "reschedule_meeting",
        meeting_id="M-301",
        day=MON,
        start="16:30",
    )
    _refuses(
        world,
        r"Ada Chen \(U-101\) is already in 'Design sync'",
        "reschedule_meeting",
        meeting_id="M-301",
        day=MON,
        start="13:30",
    )
    _run(
        world,
        "create_meeting",
        **_create(day=TUE, start="11:00", organizer_id="U-104", attendee_ids=[], room="Pod"),
    )
    _refuses(
        world,
        r"Room Pod is taken by 'Kickoff' \(M-304\)",
        "reschedule_meeting",
        meeting_id="M-301",
        day=TUE,
        start="11:00",
    )
    # overlapping its own old slot is fine: the meeting does not block itself
    moved = _run(world, "reschedule_meeting", meeting_id="M-301", day=MON, start="10:30")
    assert moved["end"] == "11:30"


def test_change_room_refusals(world: CalendarWorld) -> None:
    _refuses(
        world, "already in Pod; nothing to change", "change_room", meeting_id="M-301", room="Pod"
    )
    _refuses(world, "No room named 'Atlas'", "change_room", meeting_id="M-301", room="Atlas")
    _refuses(
        world,
        "Room Pod seats 2, but meeting M-302 has 3 participants",
        "change_room",
        meeting_id="M-302",
        room="Pod",
    )
    _run(
        world,
        "create_meeting",
        **_create(
            day=MON, start="10:00", organizer_id="U-104", attendee_ids=[], duration_minutes=30
        ),
    )
    _refuses(
        world,
        r"Room Cedar is taken by 'Kickoff' \(M-304\)",
        "change_room",
        meeting_id="M-301",
        room="Cedar",
    )


def test_add_attendee_refusals(world: CalendarWorld) -> None:
    _refuses(
        world, "No person with id 'U-999'", "add_attendee", meeting_id="M-302", person_id="U-999"
    )
    _refuses(
        world,
        r"Carla Rossi \(U-103\) organizes M-302 and already attends",
        "add_attendee",
        meeting_id="M-302",
        person_id="U-103",
    )
    _refuses(
        world,
        r"Dana Weber \(U-104\) already attends M-302",
        "add_attendee",
        meeting_id="M-302",
        person_id="U-104",
    )
    _refuses(
        world,
        "Room Pod seats 2 and meeting M-301 is full",
        "add_attendee",
        meeting_id="M-301",
        person_id="U-103",
    )
    _run(
        world,
        "create_meeting",
        **_create(
            day=MON,
            start="13:30",
            organizer_id="U-102",
            attendee_ids=[],
            room="Pod",
            duration_minutes=30,
        ),
    )
    _refuses(
        world,
        r"Ben Kim \(U-102\) is already in 'Kickoff' \(M-304\)",
        "add_attendee",
        meeting_id="M-302",
        person_id="U-102",
    )


def test_remove_attendee_refusals(world: CalendarWorld) -> None:
    _refuses(
        world,
        "organizes M-302 and cannot be removed; cancel the meeting instead",
        "remove_attendee",
        meeting_id="M-302",
        person_id="U-103",
    )
    _refuses(
        world,
        r"Ben Kim \(U-102\) does not attend M-302",
        "remove_attendee",
        meeting_id="M-302",
        person_id="U-102",
    )
    _refuses(
        world, "No person with id 'U-999'", "remove_attendee", meeting_id="M-302", person_id="U-999"
    )
    assert _run(world, "remove_attendee", meeting_id="M-302", person_id="U-101") == {
        "meeting_id": "M-302",
        "attendee_ids": ["U-104"],
    }


def test_the_toolbox_rejects_wrong_types_before_the_world(world: CalendarWorld) -> None:
    toolbox = world.toolbox()
    for arguments in (
        _create(duration_minutes="60"),
        _create(duration_minutes=45),
        _create(day="Monday"),
        _create(attendee_ids="U-103"),
        {**_create(), "notes": "extra"},
    ):
        _, error = toolbox.validate(ToolCall(name="create_meeting", arguments=arguments))
        assert error is not None and error.type == "invalid_arguments"


# ------------------------------------------------------------------ generation and fuzzing
def _assert_consistent(world: CalendarWorld) -> None:
    state = world.state
    busy: dict[tuple[str, str], set[str]] = {}
    for meeting in state["meetings"].values():
        group = [meeting["organizer_id"], *meeting["attendee_ids"]]
        assert len(set(group)) == len(group) and set(group) <= set(state["people"])
        assert meeting["attendee_ids"] == sorted(meeting["attendee_ids"])
        assert "09:00" <= meeting["start"] < meeting["end"] <= "17:00"
        if meeting["status"] != "scheduled":
            continue
        assert len(group) <= state["rooms"][meeting["room"]]["capacity"]
        slots = {f"{h:02d}:{m:02d}" for h in range(9, 17) for m in (0, 30)}
        taken = {s for s in slots if meeting["start"] <= s < meeting["end"]}
        for key in (*group, meeting["room"]):
            held = busy.setdefault((key, meeting["day"]), set())
            assert not held & taken, f"{key} double-booked by {meeting['id']}"
            held |= taken


def test_generation_is_deterministic_and_consistent() -> None:
    for seed in range(200):
        world = CalendarWorld.generate(random.Random(seed))
        assert world.state == CalendarWorld.generate(random.Random(seed)).state
        assert world.state["next_meeting"] == 301 + len(world.state["meetings"])
        _assert_consistent(world)


def test_random_calls_never_corrupt_the_world() -> None:
    rng = random.Random(0)
    toolbox = CalendarWorld.toolbox()
    pools: dict[str, list[Any]] = {
        "day": [*DAYS, "2026-03-09"],
        "duration_minutes": [30, 60, 90, 120, 45],
        "start": ["09:00", "10:30", "12:00", "15:30", "16:30", "10:15", "8:00", "17:00"],
        "min_capacity": [0, 1, 3, 5, 9],
        "subject": ["Sync", " ", "x" * 90],
        "name": ["a", "Chen", ""],
    }
    refused = 0
    for index in range(60):
        world = CalendarWorld.generate(random.Random(index))
        people, rooms = [*world.state["people"], "U-999"], [*world.state["rooms"], "Nowhere"]
        pools.update(
            meeting_id=[*world.state["meetings"], "M-999"],
            person_id=people,
            organizer_id=people,
            room=rooms,
            person_ids=[rng.sample(people, k) for k in (0, 1, 2, 3)],
            attendee_ids=[rng.sample(people, k) for k in (0, 1, 2, 3)],
        )
        for _ in range(50):
            name = rng.choice(list(toolbox.tools))
            fields = toolbox.tools[name].arguments.model_fields
            arguments = {field: rng.choice(pools[field]) for field in fields}
            checked, error = toolbox.validate(ToolCall(name=name, arguments=arguments))
            if error is not None:
                continue
            before = json.dumps(world.state)
            try:
                result = world.call(name, checked)
            except ToolError:
                refused += 1
                assert json.dumps(world.state) == before
                continue
            json.dumps(result)  # plain JSON data
            _assert_consistent(world)
    assert refused > 100


# --------------------------------------------------------------------------------- tasks
_READ_ONLY = {
    "find_person",
    "list_rooms",
    "find_free_rooms",
    "list_meetings",
    "get_meeting",
    "find_free_slots",
}


@pytest.mark.parametrize("level", [1, 2, 3])
def test_templates_write_replayable_tasks(level: int) -> None:
    made = 0
    for index in range(120):
        rng = random.Random(f"calendar-test/{level}/{index}")
        world = CalendarWorld.generate(rng)
        start = json.dumps(world.state)
        draft = rng.choice(CALENDAR.templates[level])(world, rng)
        assert json.dumps(world.state) == start  # templates only read the world
        if draft is None:
            continue
        made += 1
        replay = world.copy()
        for call in draft.gold_actions:
            replay.run(call)
        _assert_consistent(replay)
        calls = len(draft.gold_actions)
        assert {1: calls == 1, 2: 2 <= calls <= 3, 3: calls >= 4}[level], draft
        changes = any(call.name not in _READ_ONLY for call in draft.gold_actions)
        assert replay.state != world.state if changes else replay.state == world.state
        assert changes or draft.answer, "a task must change the world or ask a question"
    assert made >= 100
