"""Task templates of the calendar domain: what users ask, and the gold calls that do it."""

from __future__ import annotations

import random
from typing import Any

from palaestra.core.types import ToolCall
from palaestra.envs.tool_use.calendar.world import (
    _NEW_TITLES,
    _SOLO_TITLES,
    DAY_NAMES,
    DAYS,
    DURATIONS,
    SLOT,
    CalendarWorld,
    _clock,
    _participants,
    _slot,
    _span,
)
from palaestra.envs.tool_use.world import Domain, TaskDraft, World, gold_call

__all__ = ["CALENDAR"]


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
    return _draft("cancel_by_id", prompt, [gold_call("cancel_meeting", meeting_id=m["id"])])


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
    gold = [gold_call("get_meeting", meeting_id=m["id"])]
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
    gold = [gold_call("add_attendee", meeting_id=m["id"], person_id=p["id"])]
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
    gold = [gold_call("remove_attendee", meeting_id=m["id"], person_id=pid)]
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
    gold = [gold_call("reschedule_meeting", meeting_id=m["id"], day=day, start=_clock(slot))]
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
    gold = [gold_call("change_room", meeting_id=m["id"], room=room)]
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
        gold_call("find_person", name=name),
        gold_call("list_meetings", person_id=m["organizer_id"]),
        gold_call("cancel_meeting", meeting_id=m["id"]),
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
        gold_call("find_person", name=person["name"]),
        gold_call("list_meetings", person_id=person["id"], day=day),
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
        gold_call("find_person", name=person["name"]),
        gold_call("list_meetings", person_id=person["id"], day=day),
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
        gold_call("find_person", name=p["name"]),
        gold_call("add_attendee", meeting_id=m["id"], person_id=p["id"]),
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
        gold_call("find_person", name=name),
        gold_call("list_meetings", person_id=m["organizer_id"]),
        gold_call("reschedule_meeting", meeting_id=m["id"], day=day, start=_clock(slot)),
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
        gold_call("find_person", name=person["name"]),
        gold_call(
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
    gold = [gold_call("find_person", name=p["name"]) for p in (organizer, *others)]
    gold += [
        gold_call("find_free_slots", person_ids=ids, day=day, duration_minutes=minutes),
        gold_call(
            "find_free_rooms",
            day=day,
            start=_clock(slot),
            duration_minutes=minutes,
            min_capacity=len(ids),
        ),
        gold_call(
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
    gold = [gold_call("find_person", name=p["name"]) for p in (organizer, *others)]
    gold += [
        gold_call("find_free_slots", person_ids=ids, day=day, duration_minutes=minutes, room=room),
        gold_call(
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
        gold_call("find_person", name=me),
        gold_call("list_meetings", person_id=m["organizer_id"]),
        gold_call("find_person", name=guest["name"]),
        gold_call("reschedule_meeting", meeting_id=m["id"], day=day, start=_clock(slot)),
        gold_call("add_attendee", meeting_id=m["id"], person_id=guest["id"]),
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
        gold_call("find_person", name=person["name"]),
        gold_call("list_meetings", person_id=person["id"], day=day),
    ]
    for m in sorted(mine, key=lambda m: m["start"]):
        if m["organizer_id"] == person["id"]:
            gold.append(gold_call("cancel_meeting", meeting_id=m["id"]))
        else:
            gold.append(gold_call("remove_attendee", meeting_id=m["id"], person_id=person["id"]))
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
        gold_call("find_person", name=me),
        gold_call("list_meetings", person_id=m["organizer_id"]),
        gold_call("get_meeting", meeting_id=m["id"]),
        gold_call(
            "find_free_slots",
            person_ids=group,
            day=day,
            duration_minutes=length * SLOT,
            room=m["room"],
        ),
        gold_call("reschedule_meeting", meeting_id=m["id"], day=day, start=start),
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
        gold_call("find_person", name=name),
        gold_call("find_person", name=substitute["name"]),
        gold_call("list_meetings", person_id=leaver),
        gold_call("remove_attendee", meeting_id=m["id"], person_id=leaver),
        gold_call("add_attendee", meeting_id=m["id"], person_id=substitute["id"]),
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
    example=gold_call("list_meetings", person_id="U-101", day="2026-03-02"),
)
