"""Task templates of the travel domain: what users ask, and the gold calls that do it."""

from __future__ import annotations

import collections
import datetime
import random
from typing import Any

from palaestra.core.types import ToolCall
from palaestra.envs.tool_use.travel.world import (
    AISLE,
    BAG_LIMITS,
    WINDOW,
    TravelWorld,
    _free,
)
from palaestra.envs.tool_use.world import Domain, TaskDraft, World, gold_call

__all__ = ["TRAVEL"]


def _bookings(
    world: World, passenger_id: str | None = None, *, open_only: bool = False
) -> list[dict[str, Any]]:
    """Confirmed bookings (of one passenger); ``open_only`` keeps those not checked in."""
    return [
        b
        for b in world.state["bookings"].values()
        if b["status"] == "confirmed"
        and (passenger_id is None or b["passenger_id"] == passenger_id)
        and not (open_only and b["checked_in"])
    ]


def _flight_of(world: World, booking: dict[str, Any]) -> dict[str, Any]:
    return world.state["flights"][booking["flight_id"]]


def _name(world: World, passenger_id: str) -> str:
    return str(world.state["passengers"][passenger_id]["name"])


def _hello(name: str, rng: random.Random) -> str:
    return rng.choice(
        ["Hi, this is {n}.", "Hello, I'm {n}.", "{n} here.", "My name is {n}."]
    ).format(n=name)


def _place(world: World, code: str, rng: random.Random) -> tuple[str, bool]:
    """How a user names an airport, and whether they gave only the city (so look it up)."""
    city = world.state["airports"][code]["city"]
    said = rng.choice([city, f"{city} ({code})", code])
    return said, said == city


def _unique_destination(world: World) -> list[dict[str, Any]]:
    """Confirmed bookings to a place where their owner has no other confirmed booking."""
    return _unique_by(world, "destination")


def _unique_by(world: World, key: str) -> list[dict[str, Any]]:
    """Confirmed bookings whose flight's ``key`` no other confirmed booking of the owner shares."""
    mine = _bookings(world)
    seen = collections.Counter((b["passenger_id"], _flight_of(world, b)[key]) for b in mine)
    return [b for b in mine if seen[b["passenger_id"], _flight_of(world, b)[key]] == 1]


def _pick(rng: random.Random, items: list[Any]) -> Any:
    return rng.choice(items) if items else None


def _unique_seat(flight: dict[str, Any], row: int, letters: str) -> str | None:
    """The one free seat among ``letters`` in ``row``, or None when there are zero or two."""
    free = set(_free(flight))
    fits = [f"{row}{x}" for x in letters if f"{row}{x}" in free]
    return fits[0] if len(fits) == 1 else None


def _by_route_and_date(world: World) -> dict[tuple[str, str, str], list[dict[str, Any]]]:
    """The flights grouped by (origin, destination, date): what one search returns."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for flight in world.state["flights"].values():
        groups.setdefault((flight["origin"], flight["destination"], flight["date"]), []).append(
            flight
        )
    return groups


def _search_calls(
    world: World, flight: dict[str, Any], rng: random.Random, cabin: str | None = None
) -> tuple[str, str, list[ToolCall]]:
    """How the user names the flight's route, and the calls that find it."""
    origin, city_only_a = _place(world, flight["origin"], rng)
    destination, city_only_b = _place(world, flight["destination"], rng)
    calls = [gold_call("list_airports")] if city_only_a or city_only_b else []
    arguments: dict[str, Any] = {
        "origin": flight["origin"],
        "destination": flight["destination"],
        "date": flight["date"],
    }
    if cabin is not None:
        arguments["cabin"] = cabin
    calls.append(gold_call("search_flights", **arguments))
    return origin, destination, calls


# level 1: one call --------------------------------------------------------------------------
def _cancel_by_id(world: World, rng: random.Random) -> TaskDraft | None:
    booking = _pick(rng, _bookings(world, open_only=True))
    if booking is None:
        return None
    hello = _hello(_name(world, booking["passenger_id"]), rng)
    prompt = rng.choice(
        [
            "{h} Please cancel my booking {b}.",
            "{h} I can't make the trip after all; cancel booking {b}, please.",
            "Cancel booking {b}. {h}",
        ]
    )
    return TaskDraft(
        prompt.format(h=hello, b=booking["id"]),
        [gold_call("cancel_booking", booking_id=booking["id"])],
    )


def _check_in_by_id(world: World, rng: random.Random) -> TaskDraft | None:
    booking = _pick(rng, _bookings(world, open_only=True))
    if booking is None:
        return None
    hello = _hello(_name(world, booking["passenger_id"]), rng)
    prompt = rng.choice(
        ["{h} Please check me in for booking {b}.", "{h} I'd like to check in: booking {b}."]
    )
    return TaskDraft(
        prompt.format(h=hello, b=booking["id"]), [gold_call("check_in", booking_id=booking["id"])]
    )


def _add_bag_by_id(world: World, rng: random.Random) -> TaskDraft | None:
    fits = [
        b
        for b in _bookings(world)
        if b["bags"] < BAG_LIMITS[world.state["passengers"][b["passenger_id"]]["tier"]]
    ]
    booking = _pick(rng, fits)
    if booking is None:
        return None
    hello = _hello(_name(world, booking["passenger_id"]), rng)
    prompt = rng.choice(
        [
            "{h} Please add one checked bag to booking {b}.",
            "{h} I'll be bringing a suitcase; add a bag to my booking {b}.",
        ]
    )
    return TaskDraft(
        prompt.format(h=hello, b=booking["id"]), [gold_call("add_bag", booking_id=booking["id"])]
    )


def _change_seat_by_id(world: World, rng: random.Random) -> TaskDraft | None:
    booking = _pick(rng, _bookings(world, open_only=True))
    if booking is None:
        return None
    seat = _pick(rng, _free(_flight_of(world, booking)))
    if seat is None:
        return None
    hello = _hello(_name(world, booking["passenger_id"]), rng)
    prompt = rng.choice(
        [
            "{h} Could you move booking {b} to seat {s}?",
            "{h} I'd rather sit in {s}; please change the seat on booking {b}.",
        ]
    )
    return TaskDraft(
        prompt.format(h=hello, b=booking["id"], s=seat),
        [gold_call("change_seat", booking_id=booking["id"], seat=seat)],
    )


def _book_by_ids(world: World, rng: random.Random) -> TaskDraft | None:
    passenger = rng.choice(list(world.state["passengers"].values()))
    held = {b["flight_id"] for b in _bookings(world, passenger["id"])}
    flight = _pick(
        rng, [f for f in world.state["flights"].values() if f["id"] not in held and _free(f)]
    )
    if flight is None:
        return None
    seat = rng.choice(_free(flight))
    prompt = rng.choice(
        [
            "I'm {n}, passenger {p}. Book me on flight {f}, seat {s}, please.",
            "Please book passenger {p} ({n}) on flight {f} in seat {s}.",
        ]
    )
    return TaskDraft(
        prompt.format(n=passenger["name"], p=passenger["id"], f=flight["id"], s=seat),
        [gold_call("book_flight", passenger_id=passenger["id"], flight_id=flight["id"], seat=seat)],
    )


def _seat_question(world: World, rng: random.Random) -> TaskDraft | None:
    booking = _pick(rng, _bookings(world))
    if booking is None:
        return None
    prompt = rng.choice(
        [
            "Which seat does booking {b} have?",
            "What seat am I in on booking {b}? Just tell me the seat.",
        ]
    )
    return TaskDraft(
        prompt.format(b=booking["id"]),
        [gold_call("get_booking", booking_id=booking["id"])],
        answer=booking["seat"],
    )


def _flight_question(world: World, rng: random.Random) -> TaskDraft | None:
    flight = rng.choice(list(world.state["flights"].values()))
    field, prompt = rng.choice(
        [
            ("departure", "What time does flight {f} depart? Answer with the time as HH:MM."),
            ("arrival", "When does flight {f} arrive? Give the arrival time as HH:MM."),
            ("price", "How much is a ticket on flight {f}? Answer with the price."),
        ]
    )
    answer = f"{flight['price']:.2f}" if field == "price" else flight[field]
    return TaskDraft(
        prompt.format(f=flight["id"]),
        [gold_call("get_flight", flight_id=flight["id"])],
        answer=answer,
    )


# level 2: two or three calls ----------------------------------------------------------------
def _find(world: World, passenger_id: str) -> list[ToolCall]:
    return [
        gold_call("find_passenger", name=_name(world, passenger_id)),
        gold_call("list_bookings", passenger_id=passenger_id),
    ]


def _cheapest(world: World, cabin: str | None = None) -> list[dict[str, Any]]:
    """Flights that are the unique cheapest (of a cabin) on a route and date with 2+ flights."""
    found = []
    for group in _by_route_and_date(world).values():
        fitting = [f for f in group if cabin is None or f["cabin"] == cabin]
        if len(group) < 2 or not fitting:
            continue
        low = min(f["price"] for f in fitting)
        best = [f for f in fitting if f["price"] == low]
        if len(best) == 1:
            found.append(best[0])
    return found


def _bookable(world: World, flight: dict[str, Any]) -> list[dict[str, Any]]:
    """Passengers who may book the flight (they hold no confirmed booking on it)."""
    holders = {b["passenger_id"] for b in _bookings(world) if b["flight_id"] == flight["id"]}
    return [p for p in world.state["passengers"].values() if p["id"] not in holders]


def _check_in_by_destination(world: World, rng: random.Random) -> TaskDraft | None:
    booking = _pick(rng, [b for b in _unique_destination(world) if not b["checked_in"]])
    if booking is None:
        return None
    pid = booking["passenger_id"]
    place, _ = _place(world, _flight_of(world, booking)["destination"], rng)
    prompt = rng.choice(
        [
            "{h} Please check me in for my flight to {d}.",
            "{h} Can you do the check-in for my trip to {d}?",
            "{h} I want to check in for my {d} flight.",
        ]
    ).format(h=_hello(_name(world, pid), rng), d=place)
    return TaskDraft(prompt, [*_find(world, pid), gold_call("check_in", booking_id=booking["id"])])


def _cancel_by_date(world: World, rng: random.Random) -> TaskDraft | None:
    booking = _pick(rng, [b for b in _unique_by(world, "date") if not b["checked_in"]])
    if booking is None:
        return None
    pid = booking["passenger_id"]
    day = datetime.date.fromisoformat(_flight_of(world, booking)["date"])
    said = rng.choice([day.isoformat(), f"{day:%B} {day.day}", f"{day.day} {day:%B}"])
    prompt = rng.choice(
        [
            "{h} I'm not travelling on {d} any more; please cancel my booking for that day.",
            "{h} Cancel my flight on {d}, please.",
        ]
    ).format(h=_hello(_name(world, pid), rng), d=said)
    return TaskDraft(
        prompt, [*_find(world, pid), gold_call("cancel_booking", booking_id=booking["id"])]
    )


def _seat_by_destination(world: World, rng: random.Random) -> TaskDraft | None:
    booking = _pick(rng, _unique_destination(world))
    if booking is None:
        return None
    pid = booking["passenger_id"]
    place, _ = _place(world, _flight_of(world, booking)["destination"], rng)
    prompt = rng.choice(
        [
            "{h} Which seat do I have on my flight to {d}?",
            "{h} Remind me of my seat number for the {d} flight.",
        ]
    ).format(h=_hello(_name(world, pid), rng), d=place)
    return TaskDraft(prompt, _find(world, pid), answer=booking["seat"])


def _book_cheapest(world: World, rng: random.Random) -> TaskDraft | None:
    flight = _pick(rng, [f for f in _cheapest(world) if _free(f) and _bookable(world, f)])
    if flight is None:
        return None
    passenger = rng.choice(_bookable(world, flight))
    seat = rng.choice(_free(flight))
    origin, destination, search = _search_calls(world, flight, rng)
    prompt = rng.choice(
        [
            "I'm {n}, passenger {p}. Book me on the cheapest flight from {a} to {b} on {d}, "
            "seat {s}.",
            "Please book passenger {p} ({n}) on the lowest-priced flight {a} to {b} on {d}, "
            "in {s}.",
        ]
    ).format(
        n=passenger["name"], p=passenger["id"], a=origin, b=destination, d=flight["date"], s=seat
    )
    book = gold_call("book_flight", passenger_id=passenger["id"], flight_id=flight["id"], seat=seat)
    return TaskDraft(prompt, [*search, book])


def _add_bags(world: World, rng: random.Random) -> TaskDraft | None:
    def room(b: dict[str, Any]) -> int:
        return BAG_LIMITS[world.state["passengers"][b["passenger_id"]]["tier"]] - int(b["bags"])

    if rng.random() < 0.5:
        booking = _pick(rng, [b for b in _bookings(world) if room(b) >= 2])
        if booking is None:
            return None
        prompt = rng.choice(
            [
                "{h} Please add two checked bags to booking {b}.",
                "{h} We're bringing two suitcases; add 2 bags to my booking {b}.",
            ]
        ).format(h=_hello(_name(world, booking["passenger_id"]), rng), b=booking["id"])
        return TaskDraft(prompt, [gold_call("add_bag", booking_id=booking["id"])] * 2)
    booking = _pick(rng, [b for b in _unique_destination(world) if room(b) >= 1])
    if booking is None:
        return None
    pid = booking["passenger_id"]
    place, _ = _place(world, _flight_of(world, booking)["destination"], rng)
    prompt = rng.choice(
        [
            "{h} Add one checked bag to my flight to {d}, please.",
            "{h} I need to check a bag on my trip to {d}.",
        ]
    ).format(h=_hello(_name(world, pid), rng), d=place)
    return TaskDraft(prompt, [*_find(world, pid), gold_call("add_bag", booking_id=booking["id"])])


def _change_seat_by_destination(world: World, rng: random.Random) -> TaskDraft | None:
    booking = _pick(rng, [b for b in _unique_destination(world) if not b["checked_in"]])
    if booking is None:
        return None
    pid = booking["passenger_id"]
    seat = _pick(rng, _free(_flight_of(world, booking)))
    if seat is None:
        return None
    place, _ = _place(world, _flight_of(world, booking)["destination"], rng)
    prompt = rng.choice(
        [
            "{h} On my flight to {d}, please move me to seat {s}.",
            "{h} Could I switch to seat {s} on my {d} flight?",
        ]
    ).format(h=_hello(_name(world, pid), rng), d=place, s=seat)
    change = gold_call("change_seat", booking_id=booking["id"], seat=seat)
    return TaskDraft(prompt, [*_find(world, pid), change])


# level 3: four calls or more ----------------------------------------------------------------
def _seat_wish(flight: dict[str, Any], rng: random.Random) -> tuple[str, str] | None:
    """A seat the user asks for by kind and row, when exactly one seat fits; and the wording."""
    kind, letters = rng.choice([("window", WINDOW), ("aisle", AISLE)])
    rows = list(range(1, flight["rows"] + 1))
    rng.shuffle(rows)
    for row in rows:
        seat = _unique_seat(flight, row, letters)
        if seat is not None:
            return seat, f"the free {kind} seat in row {row}"
    return None


def _book_cheapest_window(world: World, rng: random.Random) -> TaskDraft | None:
    cabin = rng.choice([None, None, "economy", "business"])
    flight = _pick(rng, [f for f in _cheapest(world, cabin) if _bookable(world, f)])
    wish = _seat_wish(flight, rng) if flight is not None else None
    if flight is None or wish is None:
        return None
    seat, wording = wish
    passenger = rng.choice(_bookable(world, flight))
    origin, destination, search = _search_calls(world, flight, rng, cabin)
    kind = f"{cabin} " if cabin else ""
    prompt = rng.choice(
        [
            "{h} Book me on the cheapest {c}flight from {a} to {b} on {d}, in {w}.",
            "{h} I need to fly {a} to {b} on {d}. Take the cheapest {c}option and give me {w}.",
        ]
    ).format(
        h=_hello(passenger["name"], rng),
        c=kind,
        a=origin,
        b=destination,
        d=flight["date"],
        w=wording,
    )
    answer = None
    if rng.random() < 0.4:
        prompt += " Also tell me when it departs."
        answer = flight["departure"]
    gold = [
        gold_call("find_passenger", name=passenger["name"]),
        *search,
        gold_call("seat_map", flight_id=flight["id"]),
        gold_call("book_flight", passenger_id=passenger["id"], flight_id=flight["id"], seat=seat),
    ]
    return TaskDraft(prompt, gold, answer=answer)


def _cancel_and_rebook(world: World, rng: random.Random) -> TaskDraft | None:
    old = _pick(rng, [b for b in _unique_destination(world) if not b["checked_in"]])
    if old is None:
        return None
    pid = old["passenger_id"]
    route = (_flight_of(world, old)["origin"], _flight_of(world, old)["destination"])
    held = {b["flight_id"] for b in _bookings(world, pid)}
    earliest = [
        min(group, key=lambda f: f["departure"])
        for (a, b, _), group in _by_route_and_date(world).items()
        if (a, b) != route
    ]
    flight = _pick(rng, [f for f in earliest if f["id"] not in held and _free(f)])
    if flight is None:
        return None
    seat = rng.choice(_free(flight))
    place, _ = _place(world, route[1], rng)
    origin, destination, search = _search_calls(world, flight, rng)
    prompt = rng.choice(
        [
            "{h} My plans changed: cancel my booking to {x}, and book me instead on the earliest "
            "flight from {a} to {b} on {d}, seat {s}.",
            "{h} I no longer need my flight to {x}, please cancel it. Then put me on the first "
            "flight of {d} from {a} to {b}, in seat {s}.",
        ]
    ).format(
        h=_hello(_name(world, pid), rng), x=place, a=origin, b=destination, d=flight["date"], s=seat
    )
    gold = [
        *_find(world, pid),
        gold_call("cancel_booking", booking_id=old["id"]),
        *search,
        gold_call("book_flight", passenger_id=pid, flight_id=flight["id"], seat=seat),
    ]
    return TaskDraft(prompt, gold)


def _move_to_latest(world: World, rng: random.Random) -> TaskDraft | None:
    booking = _pick(rng, [b for b in _unique_destination(world) if not b["checked_in"]])
    if booking is None:
        return None
    pid = booking["passenger_id"]
    current = _flight_of(world, booking)
    held = {b["flight_id"] for b in _bookings(world, pid)}
    latest = [
        max(group, key=lambda f: f["departure"])
        for (a, b, _), group in _by_route_and_date(world).items()
        if (a, b) == (current["origin"], current["destination"])
    ]
    flight = _pick(rng, [f for f in latest if f["id"] not in held])
    wish = _seat_wish(flight, rng) if flight is not None else None
    if flight is None or wish is None:
        return None
    seat, wording = wish
    place, _ = _place(world, current["destination"], rng)
    prompt = rng.choice(
        [
            "{h} Please move my booking to {x} onto the last flight of {d} on the same route, "
            "and give me {w}.",
            "{h} I'd like to take the latest flight on {d} instead for my trip to {x}; I want {w}.",
        ]
    ).format(h=_hello(_name(world, pid), rng), x=place, d=flight["date"], w=wording)
    answer = None
    if rng.random() < 0.4:
        prompt += " What time will I leave?"
        answer = flight["departure"]
    gold = [
        *_find(world, pid),
        gold_call(
            "search_flights",
            origin=flight["origin"],
            destination=flight["destination"],
            date=flight["date"],
        ),
        gold_call("seat_map", flight_id=flight["id"]),
        gold_call("change_flight", booking_id=booking["id"], new_flight_id=flight["id"], seat=seat),
    ]
    return TaskDraft(prompt, gold, answer=answer)


def _check_in_all_and_bag(world: World, rng: random.Random) -> TaskDraft | None:
    def room(b: dict[str, Any]) -> bool:
        return bool(b["bags"] < BAG_LIMITS[world.state["passengers"][b["passenger_id"]]["tier"]])

    bagged = _pick(
        rng,
        [
            b
            for b in _unique_destination(world)
            if not b["checked_in"]
            and room(b)
            and len(_bookings(world, b["passenger_id"], open_only=True)) >= 2
        ],
    )
    if bagged is None:
        return None
    pid = bagged["passenger_id"]
    upcoming = _bookings(world, pid, open_only=True)
    place, _ = _place(world, _flight_of(world, bagged)["destination"], rng)
    prompt = rng.choice(
        [
            "{h} Check me in for all my upcoming flights, and add one checked bag to my "
            "flight to {x}.",
            "{h} Please do the check-in for every flight I have booked that isn't checked in yet. "
            "I'm also bringing a bag on the {x} trip, so add one bag there.",
        ]
    ).format(h=_hello(_name(world, pid), rng), x=place)
    gold = [
        *_find(world, pid),
        *[gold_call("check_in", booking_id=b["id"]) for b in upcoming],
        gold_call("add_bag", booking_id=bagged["id"]),
    ]
    return TaskDraft(prompt, gold)


def _book_with_bags(world: World, rng: random.Random) -> TaskDraft | None:
    earliest = [min(g, key=lambda f: f["departure"]) for g in _by_route_and_date(world).values()]
    flight = _pick(rng, [f for f in earliest if _free(f) and _bookable(world, f)])
    if flight is None:
        return None
    passenger = rng.choice(_bookable(world, flight))
    seat = rng.choice(_free(flight))
    bags = rng.randint(1, BAG_LIMITS[passenger["tier"]])
    origin, destination, search = _search_calls(world, flight, rng)
    luggage = "one checked bag" if bags == 1 else f"{bags} checked bags"
    prompt = rng.choice(
        [
            "{h} Book me on the earliest flight from {a} to {b} on {d}, seat {s}, with {l}.",
            "{h} I'd like the first flight of {d} from {a} to {b}. Seat {s}, please, and add {l}.",
        ]
    ).format(
        h=_hello(passenger["name"], rng),
        a=origin,
        b=destination,
        d=flight["date"],
        s=seat,
        l=luggage,
    )
    new_id = f"BK-{world.state['next_booking']}"
    gold = [
        gold_call("find_passenger", name=passenger["name"]),
        *search,
        gold_call("book_flight", passenger_id=passenger["id"], flight_id=flight["id"], seat=seat),
        *[gold_call("add_bag", booking_id=new_id)] * bags,
    ]
    return TaskDraft(prompt, gold)


TRAVEL = Domain(
    name="travel",
    world=TravelWorld,
    templates={
        1: [
            _cancel_by_id,
            _check_in_by_id,
            _add_bag_by_id,
            _change_seat_by_id,
            _book_by_ids,
            _seat_question,
            _flight_question,
        ],
        2: [
            _check_in_by_destination,
            _cancel_by_date,
            _seat_by_destination,
            _book_cheapest,
            _add_bags,
            _change_seat_by_destination,
        ],
        3: [
            _book_cheapest_window,
            _cancel_and_rebook,
            _move_to_latest,
            _check_in_all_and_bag,
            _book_with_bags,
        ],
    },
    description="an airline: flights, seat maps, passengers, bookings, check-in and bags",
    example=gold_call("get_booking", booking_id="BK-701"),
)
