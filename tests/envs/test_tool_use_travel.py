"""Travel tools: what each does, every refusal (with the world left as it was), and the tasks."""

from __future__ import annotations

import json
import random

import pytest

from palaestra.core.types import ToolCall
from palaestra.envs.tool_use.travel import TRAVEL, TravelWorld
from palaestra.envs.tool_use.travel.world import BAG_LIMITS, SEAT_LETTERS
from palaestra.errors import ToolError

READ_ONLY = {
    "list_airports",
    "find_passenger",
    "list_bookings",
    "get_booking",
    "search_flights",
    "get_flight",
    "seat_map",
}


def _flight(fid, origin, destination, date, departure, price, rows=2, taken=(), cabin="economy"):
    return {
        "id": fid,
        "origin": origin,
        "destination": destination,
        "date": date,
        "departure": departure,
        "arrival": "23:00",
        "price": price,
        "cabin": cabin,
        "rows": rows,
        "taken": list(taken),
    }


def _booking(bid, pid, fid, seat, status="confirmed", checked_in=False, bags=0, price=100.0):
    return {
        "id": bid,
        "passenger_id": pid,
        "flight_id": fid,
        "seat": seat,
        "status": status,
        "checked_in": checked_in,
        "bags": bags,
        "price": price,
    }


@pytest.fixture
def world():
    """A small hand-made world: every refusal below has exactly one cause.

    FL-101 (LIS-BER, 2 rows): 1A is Ada's BK-701, 1B an outsider's, 1C is free again since Leo
    cancelled BK-703. FL-102 (LIS-BER next day): 1D is Leo's BK-704. FL-201 (LIS-MAD): 2C is
    Ada's checked-in BK-702, with the one bag a standard passenger may check. FL-301 is full.
    """
    state = {
        "airports": {
            code: {"code": code, "city": city}
            for code, city in (("LIS", "Lisbon"), ("BER", "Berlin"), ("MAD", "Madrid"))
        },
        "flights": {
            "FL-101": _flight(
                "FL-101", "LIS", "BER", "2025-05-12", "08:00", 120.0, taken=["1A", "1B"]
            ),
            "FL-102": _flight("FL-102", "LIS", "BER", "2025-05-13", "09:30", 95.5, taken=["1D"]),
            "FL-201": _flight("FL-201", "LIS", "MAD", "2025-05-12", "07:15", 80.0, taken=["2C"]),
            "FL-301": _flight(
                "FL-301",
                "BER",
                "LIS",
                "2025-05-14",
                "18:00",
                99.0,
                rows=1,
                taken=list("1A 1B 1C 1D".split()),
            ),
        },
        "passengers": {
            "PX-101": {"id": "PX-101", "name": "Ada Chen", "tier": "standard"},
            "PX-102": {"id": "PX-102", "name": "Leo Rossi", "tier": "gold"},
        },
        "bookings": {
            "BK-701": _booking("BK-701", "PX-101", "FL-101", "1A", price=120.0),
            "BK-702": _booking("BK-702", "PX-101", "FL-201", "2C", checked_in=True, bags=1),
            "BK-703": _booking("BK-703", "PX-102", "FL-101", "1C", status="cancelled"),
            "BK-704": _booking("BK-704", "PX-102", "FL-102", "1D", bags=3, price=95.5),
        },
        "next_booking": 705,
    }
    return TravelWorld(state)


def refuses(world, tool, match, **arguments):
    before = json.dumps(world.state)
    with pytest.raises(ToolError, match=match):
        getattr(world, tool)(**arguments)
    assert json.dumps(world.state) == before


def consistent(world):
    """Every taken seat is listed once, in seat order, and holds every confirmed booking."""
    for fid, flight in world.state["flights"].items():
        seats = [f"{row}{x}" for row in range(1, flight["rows"] + 1) for x in SEAT_LETTERS]
        assert flight["taken"] == [s for s in seats if s in flight["taken"]]
        confirmed = [
            b
            for b in world.state["bookings"].values()
            if b["flight_id"] == fid and b["status"] == "confirmed"
        ]
        assert all(b["seat"] in flight["taken"] for b in confirmed)
        assert len({b["seat"] for b in confirmed}) == len(confirmed)
        assert len({b["passenger_id"] for b in confirmed}) == len(confirmed)
    for booking in world.state["bookings"].values():
        tier = world.state["passengers"][booking["passenger_id"]]["tier"]
        assert 0 <= booking["bags"] <= BAG_LIMITS[tier]
        assert not (booking["checked_in"] and booking["status"] == "cancelled")
    return True


# ------------------------------------------------------------------------------ generation
def test_generated_worlds_are_deterministic_consistent_and_json():
    assert (
        TravelWorld.generate(random.Random(0)).state == TravelWorld.generate(random.Random(0)).state
    )
    for seed in range(200):
        world = TravelWorld.generate(random.Random(seed))
        assert consistent(world)
        assert json.loads(json.dumps(world.state)) == world.state
        ids = [int(b[3:]) for b in world.state["bookings"]]
        assert not ids or world.state["next_booking"] == max(ids) + 1


# --------------------------------------------------------------------------------- look-ups
def test_look_ups_return_copies(world):
    assert [a["code"] for a in world.list_airports()] == ["LIS", "BER", "MAD"]
    assert [p["id"] for p in world.find_passenger("ROSSI")] == ["PX-102"]
    assert [b["id"] for b in world.list_bookings("PX-101")] == ["BK-701", "BK-702"]
    booking = world.get_booking("BK-704")
    assert (booking["seat"], booking["destination"], booking["date"]) == ("1D", "BER", "2025-05-13")
    found = world.search_flights("lis", "BER", "2025-05-12")
    assert [(f["id"], f["free_seats"]) for f in found] == [("FL-101", 6)]
    assert world.search_flights("LIS", "BER", "2025-05-12", cabin="business") == []
    assert world.get_flight("FL-102")["price"] == 95.5
    assert world.seat_map("FL-101")["free_seats"] == ["1C", "1D", "2A", "2B", "2C", "2D"]
    before = json.dumps(world.state)
    world.get_booking("BK-701")["seat"] = "9Z"
    world.seat_map("FL-101")["free_seats"].append("9Z")
    world.list_airports()[0]["city"] = "Atlantis"
    assert json.dumps(world.state) == before


# ---------------------------------------------------------------------------------- changes
def test_book_flight_takes_the_seat_and_advances_the_counter(world):
    result = world.book_flight("PX-101", "FL-102", " 2a ")
    assert result["id"] == "BK-705" and result["seat"] == "2A" and result["price"] == 95.5
    assert world.state["flights"]["FL-102"]["taken"] == ["1D", "2A"]
    assert world.state["next_booking"] == 706
    assert consistent(world)


def test_cancel_frees_the_seat_and_a_seat_change_moves_it(world):
    world.cancel_booking("BK-701")
    assert world.state["bookings"]["BK-701"]["status"] == "cancelled"
    assert world.state["flights"]["FL-101"]["taken"] == ["1B"]
    world.change_seat("BK-704", "1a")
    assert world.state["flights"]["FL-102"]["taken"] == ["1A"]
    assert world.state["bookings"]["BK-704"]["seat"] == "1A"
    assert consistent(world)


def test_change_flight_moves_the_seat_and_reports_the_fare_difference(world):
    result = world.change_flight("BK-701", "FL-102", "2D")
    assert result == {
        "booking_id": "BK-701",
        "flight_id": "FL-102",
        "seat": "2D",
        "fare_difference": -24.5,
    }
    assert world.state["flights"]["FL-101"]["taken"] == ["1B"]
    assert world.state["flights"]["FL-102"]["taken"] == ["1D", "2D"]
    assert consistent(world)


def test_bags_and_check_in(world):
    assert world.add_bag("BK-701") == {"booking_id": "BK-701", "bags": 1}
    assert world.check_in("BK-701") == {
        "booking_id": "BK-701",
        "checked_in": True,
        "flight_id": "FL-101",
        "seat": "1A",
        "departure": "2025-05-12 08:00",
    }
    assert world.state["bookings"]["BK-701"]["checked_in"] is True
    assert consistent(world)


# --------------------------------------------------------------------------------- refusals
def test_unknown_ids_are_refused(world):
    refuses(
        world,
        "list_bookings",
        r"No passenger with id 'PX-999'\. Use find_passenger",
        passenger_id="PX-999",
    )
    refuses(
        world,
        "get_booking",
        r"No booking with id 'bk-701'\. Use list_bookings",
        booking_id="bk-701",
    )
    refuses(
        world, "get_flight", r"No flight with id 'FL-999'\. Use search_flights", flight_id="FL-999"
    )
    refuses(world, "seat_map", "No flight with id", flight_id="")
    refuses(
        world, "book_flight", "No passenger", passenger_id="PX-0", flight_id="FL-101", seat="2A"
    )
    refuses(world, "book_flight", "No flight", passenger_id="PX-101", flight_id="FL-0", seat="2A")
    for tool in ("cancel_booking", "add_bag", "check_in"):
        refuses(world, tool, "No booking with id 'BK-1'", booking_id="BK-1")
    refuses(world, "change_seat", "No booking", booking_id="BK-1", seat="2A")
    refuses(
        world, "change_flight", "No booking", booking_id="BK-1", new_flight_id="FL-102", seat="2A"
    )
    refuses(
        world, "change_flight", "No flight", booking_id="BK-701", new_flight_id="FL-9", seat="2A"
    )


def test_search_arguments_are_checked(world):
    refuses(world, "find_passenger", "name must not be empty", name="  ")
    refuses(
        world,
        "search_flights",
        r"Unknown origin airport 'XXX'\. Known airports: LIS \(Lisbon\), BER \(Berlin\)",
        origin="XXX",
        destination="BER",
        date="2025-05-12",
    )
    refuses(
        world,
        "search_flights",
        "Unknown destination airport 'Berlin'",
        origin="LIS",
        destination="Berlin",
        date="2025-05-12",
    )
    refuses(
        world,
        "search_flights",
        "origin and destination must be different",
        origin="LIS",
        destination="lis",
        date="2025-05-12",
    )
    for date in ("12/05/2025", "tomorrow", ""):
        refuses(
            world,
            "search_flights",
            "date must be written as YYYY-MM-DD",
            origin="LIS",
            destination="BER",
            date=date,
        )


def test_seats_must_exist_and_be_free(world):
    for seat in ("3A", "1E", "0A", "A1", "", "1 A", "12"):
        refuses(
            world,
            "book_flight",
            r"Flight FL-101 has no seat .*rows 1-2, letters A-D",
            passenger_id="PX-102",
            flight_id="FL-101",
            seat=seat,
        )
    refuses(
        world,
        "book_flight",
        r"Seat 1B on flight FL-101 is taken\. Call seat_map",
        passenger_id="PX-102",
        flight_id="FL-101",
        seat="1b",
    )
    refuses(
        world,
        "book_flight",
        r"Flight FL-301 is full",
        passenger_id="PX-101",
        flight_id="FL-301",
        seat="1A",
    )
    refuses(
        world, "change_seat", r"Seat 1B on flight FL-101 is taken", booking_id="BK-701", seat="1B"
    )
    refuses(world, "change_seat", "Flight FL-101 has no seat '7C'", booking_id="BK-701", seat="7C")
    refuses(
        world,
        "change_flight",
        r"Seat 1D on flight FL-102 is taken",
        booking_id="BK-701",
        new_flight_id="FL-102",
        seat="1D",
    )
    refuses(
        world,
        "change_flight",
        "Flight FL-102 has no seat '5A'",
        booking_id="BK-701",
        new_flight_id="FL-102",
        seat="5A",
    )


def test_one_confirmed_booking_per_passenger_and_flight(world):
    refuses(
        world,
        "book_flight",
        r"PX-101 already holds confirmed booking BK-701 on flight FL-101",
        passenger_id="PX-101",
        flight_id="FL-101",
        seat="2A",
    )
    # Leo's cancelled BK-703 on FL-101 does not count, so he may book it again ...
    assert world.book_flight("PX-102", "FL-101", "2A")["id"] == "BK-705"
    # ... but his confirmed BK-704 on FL-102 keeps him from moving BK-705 there.
    refuses(
        world,
        "change_flight",
        r"PX-102 already holds confirmed booking BK-704 on flight FL-102",
        booking_id="BK-705",
        new_flight_id="FL-102",
        seat="2B",
    )


def test_cancelled_bookings_cannot_change(world):
    refuses(world, "cancel_booking", r"Booking BK-703 is already cancelled", booking_id="BK-703")
    refuses(
        world,
        "change_seat",
        r"BK-703 is cancelled, so it cannot change seat\. Make a new",
        booking_id="BK-703",
        seat="2A",
    )
    refuses(
        world,
        "change_flight",
        r"BK-703 is cancelled, so it cannot change flight",
        booking_id="BK-703",
        new_flight_id="FL-102",
        seat="2A",
    )
    refuses(world, "add_bag", r"BK-703 is cancelled; bags cannot be added", booking_id="BK-703")
    refuses(world, "check_in", r"BK-703 is cancelled and cannot be checked in", booking_id="BK-703")


def test_checked_in_bookings_keep_their_flight_and_seat(world):
    refuses(
        world,
        "cancel_booking",
        r"BK-702 is already checked in, so it cannot be cancelled",
        booking_id="BK-702",
    )
    refuses(
        world,
        "change_seat",
        r"BK-702 is already checked in, so it cannot change seat",
        booking_id="BK-702",
        seat="1A",
    )
    refuses(
        world,
        "change_flight",
        r"BK-702 is already checked in, so it cannot change flight",
        booking_id="BK-702",
        new_flight_id="FL-201",
        seat="1A",
    )
    refuses(world, "check_in", r"Booking BK-702 is already checked in\.", booking_id="BK-702")


def test_flight_changes_keep_the_route_and_change_something(world):
    refuses(
        world,
        "change_flight",
        r"FL-201 flies LIS-MAD, but booking BK-701 is for LIS-BER",
        booking_id="BK-701",
        new_flight_id="FL-201",
        seat="1A",
    )
    refuses(
        world,
        "change_flight",
        r"BK-701 is already on flight FL-101; use change_seat",
        booking_id="BK-701",
        new_flight_id="FL-101",
        seat="2A",
    )
    refuses(
        world, "change_seat", r"Booking BK-701 already has seat 1A", booking_id="BK-701", seat="1a"
    )


def test_bag_allowance_follows_the_tier(world):
    refuses(
        world,
        "add_bag",
        r"BK-702 already has 1 bag\(s\), the most a standard tier passenger",
        booking_id="BK-702",
    )
    refuses(
        world,
        "add_bag",
        r"BK-704 already has 3 bag\(s\), the most a gold tier",
        booking_id="BK-704",
    )


def test_refused_booking_does_not_advance_the_counter(world):
    refuses(world, "book_flight", "is taken", passenger_id="PX-102", flight_id="FL-101", seat="1A")
    assert world.book_flight("PX-102", "FL-101", "2B")["id"] == "BK-705"


def test_strict_validation_rejects_wrong_types_before_any_tool_runs():
    toolbox = TravelWorld.toolbox()
    for arguments in ({"booking_id": 701}, {"booking_id": "BK-701", "seat": "1A"}, {}):
        _, error = toolbox.validate(ToolCall(name="add_bag", arguments=arguments))
        assert error is not None and error.type == "invalid_arguments"
    _, error = toolbox.validate(
        ToolCall(
            name="search_flights",
            arguments={
                "origin": "LIS",
                "destination": "BER",
                "date": "2025-05-12",
                "cabin": "first",
            },
        )
    )
    assert error is not None and "'cabin' must be one of" in error.message


def test_random_calls_never_crash_and_refusals_change_nothing():
    rng = random.Random(7)
    toolbox = TravelWorld.toolbox()
    for seed in range(60):
        world = TravelWorld.generate(random.Random(seed))
        pools = {
            "booking_id": [*world.state["bookings"], "BK-1"],
            "flight_id": [*world.state["flights"], "FL-1"],
            "new_flight_id": [*world.state["flights"], "FL-1"],
            "passenger_id": [*world.state["passengers"], "PX-1"],
            "seat": [f"{r}{x}" for r in range(8) for x in "ABCDE"],
            "origin": [*world.state["airports"], "XXX"],
            "destination": [*world.state["airports"], "XXX"],
            "date": sorted({f["date"] for f in world.state["flights"].values()}) + ["soon"],
            "cabin": ["economy", "business", None],
            "name": [p["name"] for p in world.state["passengers"].values()] + [""],
        }
        for _ in range(50):
            name = rng.choice(list(toolbox.tools))
            fields = toolbox.tools[name].arguments.model_fields
            arguments = {key: rng.choice(pools[key]) for key in fields}
            before = json.dumps(world.state)
            try:
                result = world.run(ToolCall(name=name, arguments=arguments))
            except ToolError:
                assert json.dumps(world.state) == before
            else:
                json.dumps(result)
                assert name not in READ_ONLY or json.dumps(world.state) == before
        assert consistent(world)


# ------------------------------------------------------------------------------------ tasks
@pytest.mark.parametrize("level", [1, 2, 3])
def test_templates_write_replayable_tasks_with_the_right_number_of_calls(level):
    written = set()
    for index in range(150):
        rng = random.Random(f"travel/{level}/{index}")
        world = TravelWorld.generate(rng)
        start = world.snapshot()
        draft = rng.choice(TRAVEL.templates[level])(world, rng)
        if draft is None:
            continue
        assert world.state == start  # templates only read the world
        replay = TravelWorld(world.snapshot())
        for call in draft.gold_actions:
            replay.run(call)
        calls = len(draft.gold_actions)
        assert calls == 1 if level == 1 else (2 <= calls <= 3 if level == 2 else calls >= 4)
        changes = any(c.name not in READ_ONLY for c in draft.gold_actions)
        assert changes == (replay.state != start)
        assert changes or draft.answer is not None  # a look-up task always asks something
        written.add(draft.prompt)
    assert len(written) > 100
