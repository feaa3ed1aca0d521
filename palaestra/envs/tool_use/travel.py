"""Travel: an airline's airports, flights, passengers and bookings.

A booking is confirmed or cancelled, and a confirmed one may be checked in. Every seat a flight
lists as taken belongs to exactly one confirmed booking or to a traveller outside the world. A
taken seat cannot be booked, a passenger holds at most one confirmed booking per flight, a
cancelled booking cannot change, and a checked-in booking keeps its flight and seat. A flight
change keeps the route; checked bags are limited by the passenger's loyalty tier.
"""

from __future__ import annotations

import collections
import datetime
import random
import re
from typing import Any, Literal

from palaestra.core.tools import tool
from palaestra.core.types import ToolCall
from palaestra.envs.tool_use.names import person_names
from palaestra.envs.tool_use.world import Domain, TaskDraft, World
from palaestra.errors import ToolError

__all__ = ["TRAVEL", "TravelWorld"]

Cabin = Literal["economy", "business"]
SEAT_LETTERS = "ABCD"
WINDOW, AISLE = "AD", "BC"
BAG_LIMITS = {"standard": 1, "silver": 2, "gold": 3}
_AIRPORTS = {
    "LIS": "Lisbon", "BER": "Berlin", "MAD": "Madrid", "CDG": "Paris", "AMS": "Amsterdam",
    "FCO": "Rome", "VIE": "Vienna", "CPH": "Copenhagen", "DUB": "Dublin", "ATH": "Athens",
    "PRG": "Prague", "OSL": "Oslo", "WAW": "Warsaw", "BCN": "Barcelona",
}  # fmt: skip
_SEAT = re.compile(r"([1-9][0-9]?)([A-Z])")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SEATS = tuple(f"{row}{letter}" for row in range(1, 10) for letter in SEAT_LETTERS)
_SEAT_ORDER = {seat: index for index, seat in enumerate(_SEATS)}


def _seats(flight: dict[str, Any]) -> tuple[str, ...]:
    """Every seat of the flight, front to back."""
    return _SEATS[: flight["rows"] * len(SEAT_LETTERS)]


def _free(flight: dict[str, Any]) -> list[str]:
    """The flight's free seats, front to back."""
    taken = set(flight["taken"])
    return [seat for seat in _seats(flight) if seat not in taken]


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _make_flights(
    rng: random.Random, codes: list[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, set[str]]]:
    """Flights on three routes over three days, and the seats outsiders hold on each."""
    start = datetime.date(2025, rng.randint(3, 10), rng.randint(1, 26))
    dates = [(start + datetime.timedelta(days=d)).isoformat() for d in range(3)]
    specs = []
    for origin, destination in rng.sample([(a, b) for a in codes for b in codes if a != b], 3):
        duration, base = rng.randrange(70, 220, 5), rng.randint(60, 200)
        for day, date in enumerate(dates):
            count = rng.choice((1, 2, 2, 3) if day == 0 else (0, 1, 2, 2, 3))
            for departure in sorted(rng.sample(range(360, 1201, 5), count)):  # 06:00-20:00
                business = rng.random() < 0.2
                cents = rng.randint(base * 70, base * 180) * (3 if business else 1)
                specs.append((origin, destination, date, departure, duration, cents, business))
    flights: dict[str, dict[str, Any]] = {}
    occupied: dict[str, set[str]] = {}
    for number, spec in zip(rng.sample(range(100, 1000), len(specs)), specs, strict=True):
        origin, destination, date, departure, duration, cents, business = spec
        fid = f"FL-{number}"
        rows, fill = rng.choice((5, 6)), rng.uniform(0.2, 0.5)
        seats = _SEATS[: rows * len(SEAT_LETTERS)]
        occupied[fid] = {seat for seat in seats if rng.random() < fill}
        flights[fid] = {
            "id": fid, "origin": origin, "destination": destination, "date": date,
            "departure": _clock(departure), "arrival": _clock(departure + duration),
            "price": cents / 100, "cabin": "business" if business else "economy",
            "rows": rows, "taken": [],
        }  # fmt: skip
    return flights, occupied


def _make_bookings(
    rng: random.Random,
    flights: dict[str, dict[str, Any]],
    passengers: dict[str, dict[str, Any]],
    occupied: dict[str, set[str]],
    first: int,
) -> dict[str, dict[str, Any]]:
    """Bookings numbered from ``first``; a confirmed one adds its seat to ``occupied``."""
    bookings: dict[str, dict[str, Any]] = {}
    holding: set[tuple[str, str]] = set()
    flight_ids, passenger_ids = list(flights), list(passengers)
    for _ in range(rng.randint(8, 12)):
        pid, fid = rng.choice(passenger_ids), rng.choice(flight_ids)
        flight = flights[fid]
        free = [seat for seat in _seats(flight) if seat not in occupied[fid]]
        if (pid, fid) in holding or not free:
            continue
        seat = rng.choice(free)
        confirmed = rng.random() < 0.8
        if confirmed:
            holding.add((pid, fid))
            occupied[fid].add(seat)
        bid = f"BK-{first + len(bookings)}"
        bookings[bid] = {
            "id": bid, "passenger_id": pid, "flight_id": fid, "seat": seat,
            "status": "confirmed" if confirmed else "cancelled",
            "checked_in": confirmed and rng.random() < 0.25,
            "bags": rng.randint(0, BAG_LIMITS[passengers[pid]["tier"]]),
            "price": flight["price"],
        }  # fmt: skip
    return bookings


class TravelWorld(World):
    """Airports, flights with seat maps, passengers and their bookings."""

    domain = "travel"
    policy = (
        "Seats are named by row and letter, like 3A; A and D are window seats, B and C aisle "
        "seats. A taken seat cannot be booked, and a passenger holds at most one confirmed "
        "booking per flight. A cancelled booking cannot be changed. Once checked in, a booking "
        "cannot be cancelled, moved to another flight or given another seat. A flight change "
        "keeps the route (same origin and destination; any date). Checked bags per booking: "
        + ", ".join(f"{tier} tier {n}" for tier, n in BAG_LIMITS.items())
        + "."
    )

    @classmethod
    def generate(cls, rng: random.Random) -> TravelWorld:
        """Four airports, three routes over three days, 6-9 passengers, up to 12 bookings."""
        codes = rng.sample(sorted(_AIRPORTS), 4)
        airports = {code: {"code": code, "city": _AIRPORTS[code]} for code in codes}
        flights, occupied = _make_flights(rng, codes)
        passengers = {}
        for index, name in enumerate(person_names(rng, rng.randint(6, 9))):
            pid = f"PX-{101 + index}"
            tier = rng.choice(("standard", "standard", "silver", "gold"))
            passengers[pid] = {"id": pid, "name": name, "tier": tier}
        first = rng.randint(70, 98) * 10 + 1
        bookings = _make_bookings(rng, flights, passengers, occupied, first)
        for fid, flight in flights.items():
            flight["taken"] = [seat for seat in _seats(flight) if seat in occupied[fid]]
        state = {
            "airports": airports,
            "flights": flights,
            "passengers": passengers,
            "bookings": bookings,
            "next_booking": first + len(bookings),
        }
        return cls(state)

    # ------------------------------------------------------------------------------ look-ups
    def _passenger(self, passenger_id: str) -> dict[str, Any]:
        if passenger_id not in self.state["passengers"]:
            raise ToolError(
                f"No passenger with id {passenger_id!r}. Use find_passenger to look up ids."
            )
        return self.state["passengers"][passenger_id]

    def _flight(self, flight_id: str) -> dict[str, Any]:
        if flight_id not in self.state["flights"]:
            raise ToolError(
                f"No flight with id {flight_id!r}. Use search_flights to find flights on a route."
            )
        return self.state["flights"][flight_id]

    def _booking(self, booking_id: str) -> dict[str, Any]:
        if booking_id not in self.state["bookings"]:
            raise ToolError(
                f"No booking with id {booking_id!r}. "
                "Use list_bookings to see a passenger's bookings."
            )
        return self.state["bookings"][booking_id]

    def _airport(self, code: str, role: str) -> str:
        wanted = code.strip().upper()
        if wanted not in self.state["airports"]:
            known = ", ".join(f"{a['code']} ({a['city']})" for a in self.state["airports"].values())
            raise ToolError(f"Unknown {role} airport {code!r}. Known airports: {known}.")
        return wanted

    def _seat(self, flight: dict[str, Any], seat: str) -> str:
        """The seat's canonical name; it must exist on the flight and be free."""
        wanted = seat.strip().upper()
        match = _SEAT.fullmatch(wanted)
        if (
            match is None
            or int(match.group(1)) > flight["rows"]
            or match.group(2) not in SEAT_LETTERS
        ):
            raise ToolError(
                f"Flight {flight['id']} has no seat {seat!r}: its seats are rows "
                f"1-{flight['rows']}, letters {SEAT_LETTERS[0]}-{SEAT_LETTERS[-1]} (like 3A)."
            )
        if wanted in flight["taken"]:
            raise ToolError(
                f"Seat {wanted} on flight {flight['id']} is taken. "
                "Call seat_map to see the free seats."
            )
        return wanted

    def _changeable(self, booking: dict[str, Any], change: str) -> None:
        if booking["status"] != "confirmed":
            raise ToolError(
                f"Booking {booking['id']} is cancelled, so it cannot {change}. "
                "Make a new booking with book_flight instead."
            )
        if booking["checked_in"]:
            raise ToolError(
                f"Booking {booking['id']} is already checked in, so it cannot {change}."
            )

    def _holds(self, passenger_id: str, flight_id: str) -> str | None:
        for booking in self.state["bookings"].values():
            if (
                booking["passenger_id"] == passenger_id
                and booking["flight_id"] == flight_id
                and booking["status"] == "confirmed"
            ):
                return str(booking["id"])
        return None

    def _summary(self, flight: dict[str, Any]) -> dict[str, Any]:
        free = flight["rows"] * len(SEAT_LETTERS) - len(flight["taken"])
        keep = ("id", "origin", "destination", "date", "departure", "arrival", "price", "cabin")
        return {**{key: flight[key] for key in keep}, "free_seats": free}

    def _booking_view(self, booking: dict[str, Any]) -> dict[str, Any]:
        flight = self.state["flights"][booking["flight_id"]]
        keep = ("origin", "destination", "date", "departure", "arrival")
        return {**booking, **{key: flight[key] for key in keep}}

    def _take(self, flight: dict[str, Any], seat: str) -> None:
        flight["taken"] = sorted([*flight["taken"], seat], key=_SEAT_ORDER.__getitem__)

    def _release(self, flight: dict[str, Any], seat: str) -> None:
        flight["taken"] = [s for s in flight["taken"] if s != seat]

    # ---------------------------------------------------------------------------------- tools
    @tool
    def list_airports(self) -> list[dict[str, Any]]:
        """List the airports served: their codes and cities."""
        return [dict(airport) for airport in self.state["airports"].values()]

    @tool
    def find_passenger(self, name: str) -> list[dict[str, Any]]:
        """Find passengers whose name contains the given text (case-insensitive).

        Args:
            name: Full or partial passenger name.
        """
        needle = name.strip().lower()
        if not needle:
            raise ToolError("name must not be empty.")
        return [dict(p) for p in self.state["passengers"].values() if needle in p["name"].lower()]

    @tool
    def list_bookings(self, passenger_id: str) -> list[dict[str, Any]]:
        """List a passenger's bookings (confirmed and cancelled) with their flights.

        Args:
            passenger_id: Passenger id, like "PX-101".
        """
        self._passenger(passenger_id)
        return [
            self._booking_view(b)
            for b in self.state["bookings"].values()
            if b["passenger_id"] == passenger_id
        ]

    @tool
    def get_booking(self, booking_id: str) -> dict[str, Any]:
        """Get a booking's details: passenger, flight, seat, status, check-in and bags.

        Args:
            booking_id: Booking id, like "BK-701".
        """
        return self._booking_view(self._booking(booking_id))

    @tool
    def search_flights(
        self, origin: str, destination: str, date: str, cabin: Cabin | None = None
    ) -> list[dict[str, Any]]:
        """Search the flights on a route and date, earliest departure first.

        Args:
            origin: Airport code to fly from, like "LIS".
            destination: Airport code to fly to, like "BER".
            date: Day of departure, as YYYY-MM-DD.
            cabin: Only flights of this cabin; any cabin when omitted.
        """
        start = self._airport(origin, "origin")
        end = self._airport(destination, "destination")
        if start == end:
            raise ToolError("origin and destination must be different airports.")
        if _DATE.fullmatch(date.strip()) is None:
            raise ToolError(f"date must be written as YYYY-MM-DD, like 2025-05-14; got {date!r}.")
        found = [
            self._summary(f)
            for f in self.state["flights"].values()
            if (f["origin"], f["destination"], f["date"]) == (start, end, date.strip())
            and (cabin is None or f["cabin"] == cabin)
        ]
        return sorted(found, key=lambda f: (f["departure"], f["id"]))

    @tool
    def get_flight(self, flight_id: str) -> dict[str, Any]:
        """Get a flight's details: route, date, times, price, cabin and free seat count.

        Args:
            flight_id: Flight id, like "FL-401".
        """
        return self._summary(self._flight(flight_id))

    @tool
    def seat_map(self, flight_id: str) -> dict[str, Any]:
        """Show a flight's seat layout and its free seats.

        Args:
            flight_id: Flight id, like "FL-401".
        """
        flight = self._flight(flight_id)
        return {
            "flight_id": flight_id,
            "layout": f"rows 1-{flight['rows']}, seats A-D; A and D window, B and C aisle",
            "free_seats": _free(flight),
        }

    @tool
    def book_flight(self, passenger_id: str, flight_id: str, seat: str) -> dict[str, Any]:
        """Book a passenger on a flight in a free seat.

        Args:
            passenger_id: Passenger id, like "PX-101".
            flight_id: Flight id, like "FL-401".
            seat: A free seat, like "3A".
        """
        self._passenger(passenger_id)
        flight = self._flight(flight_id)
        if len(flight["taken"]) >= flight["rows"] * len(SEAT_LETTERS):
            raise ToolError(f"Flight {flight_id} is full. Use search_flights to find another.")
        held = self._holds(passenger_id, flight_id)
        if held is not None:
            raise ToolError(
                f"Passenger {passenger_id} already holds confirmed booking {held} on flight "
                f"{flight_id}; use change_seat to change its seat."
            )
        code = self._seat(flight, seat)
        bid = f"BK-{self.state['next_booking']}"
        self.state["next_booking"] += 1
        self._take(flight, code)
        booking = {
            "id": bid, "passenger_id": passenger_id, "flight_id": flight_id, "seat": code,
            "status": "confirmed", "checked_in": False, "bags": 0, "price": flight["price"],
        }  # fmt: skip
        self.state["bookings"][bid] = booking
        return dict(booking)

    @tool
    def cancel_booking(self, booking_id: str) -> dict[str, Any]:
        """Cancel a confirmed booking that is not checked in; its seat becomes free.

        Args:
            booking_id: Booking id, like "BK-701".
        """
        booking = self._booking(booking_id)
        if booking["status"] == "cancelled":
            raise ToolError(f"Booking {booking_id} is already cancelled.")
        self._changeable(booking, "be cancelled")
        self._release(self.state["flights"][booking["flight_id"]], booking["seat"])
        booking["status"] = "cancelled"
        return {"booking_id": booking_id, "status": "cancelled"}

    @tool
    def change_seat(self, booking_id: str, seat: str) -> dict[str, Any]:
        """Move a confirmed, not checked-in booking to another free seat on the same flight.

        Args:
            booking_id: Booking id, like "BK-701".
            seat: The new seat, like "3A".
        """
        booking = self._booking(booking_id)
        self._changeable(booking, "change seat")
        flight = self.state["flights"][booking["flight_id"]]
        if seat.strip().upper() == booking["seat"]:
            raise ToolError(f"Booking {booking_id} already has seat {booking['seat']}.")
        code = self._seat(flight, seat)
        self._release(flight, booking["seat"])
        self._take(flight, code)
        booking["seat"] = code
        return {"booking_id": booking_id, "flight_id": flight["id"], "seat": code}

    @tool
    def change_flight(self, booking_id: str, new_flight_id: str, seat: str) -> dict[str, Any]:
        """Move a confirmed, not checked-in booking to another flight on the same route.

        Args:
            booking_id: Booking id, like "BK-701".
            new_flight_id: The flight to move to, like "FL-402".
            seat: A free seat on the new flight, like "3A".
        """
        booking = self._booking(booking_id)
        self._changeable(booking, "change flight")
        old = self.state["flights"][booking["flight_id"]]
        new = self._flight(new_flight_id)
        if new["id"] == old["id"]:
            raise ToolError(
                f"Booking {booking_id} is already on flight {old['id']}; "
                "use change_seat to change only the seat."
            )
        if (new["origin"], new["destination"]) != (old["origin"], old["destination"]):
            raise ToolError(
                f"Flight {new['id']} flies {new['origin']}-{new['destination']}, but booking "
                f"{booking_id} is for {old['origin']}-{old['destination']}; a flight change keeps "
                "the route. Cancel and book anew to change the route."
            )
        held = self._holds(booking["passenger_id"], new["id"])
        if held is not None:
            raise ToolError(
                f"Passenger {booking['passenger_id']} already holds confirmed booking {held} "
                f"on flight {new['id']}."
            )
        code = self._seat(new, seat)
        self._release(old, booking["seat"])
        self._take(new, code)
        difference = round(new["price"] - booking["price"], 2)
        booking.update(flight_id=new["id"], seat=code, price=new["price"])
        return {
            "booking_id": booking_id,
            "flight_id": new["id"],
            "seat": code,
            "fare_difference": difference,
        }

    @tool
    def add_bag(self, booking_id: str) -> dict[str, Any]:
        """Add one checked bag to a confirmed booking, within the passenger's tier allowance.

        Args:
            booking_id: Booking id, like "BK-701".
        """
        booking = self._booking(booking_id)
        if booking["status"] != "confirmed":
            raise ToolError(f"Booking {booking_id} is cancelled; bags cannot be added to it.")
        tier = self.state["passengers"][booking["passenger_id"]]["tier"]
        if booking["bags"] >= BAG_LIMITS[tier]:
            raise ToolError(
                f"Booking {booking_id} already has {booking['bags']} bag(s), the most a {tier} "
                f"tier passenger may check ({BAG_LIMITS[tier]})."
            )
        booking["bags"] += 1
        return {"booking_id": booking_id, "bags": booking["bags"]}

    @tool
    def check_in(self, booking_id: str) -> dict[str, Any]:
        """Check in a confirmed booking; afterwards its flight and seat cannot change.

        Args:
            booking_id: Booking id, like "BK-701".
        """
        booking = self._booking(booking_id)
        if booking["status"] != "confirmed":
            raise ToolError(f"Booking {booking_id} is cancelled and cannot be checked in.")
        if booking["checked_in"]:
            raise ToolError(f"Booking {booking_id} is already checked in.")
        booking["checked_in"] = True
        flight = self.state["flights"][booking["flight_id"]]
        return {
            "booking_id": booking_id,
            "checked_in": True,
            "flight_id": flight["id"],
            "seat": booking["seat"],
            "departure": f"{flight['date']} {flight['departure']}",
        }


# ----------------------------------------------------------------------------------- tasks
def _call(tool_name: str, /, **arguments: Any) -> ToolCall:
    return ToolCall(name=tool_name, arguments=arguments)


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
    calls = [_call("list_airports")] if city_only_a or city_only_b else []
    arguments: dict[str, Any] = {
        "origin": flight["origin"],
        "destination": flight["destination"],
        "date": flight["date"],
    }
    if cabin is not None:
        arguments["cabin"] = cabin
    calls.append(_call("search_flights", **arguments))
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
        prompt.format(h=hello, b=booking["id"]), [_call("cancel_booking", booking_id=booking["id"])]
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
        prompt.format(h=hello, b=booking["id"]), [_call("check_in", booking_id=booking["id"])]
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
        prompt.format(h=hello, b=booking["id"]), [_call("add_bag", booking_id=booking["id"])]
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
        [_call("change_seat", booking_id=booking["id"], seat=seat)],
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
        [_call("book_flight", passenger_id=passenger["id"], flight_id=flight["id"], seat=seat)],
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
        [_call("get_booking", booking_id=booking["id"])],
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
        prompt.format(f=flight["id"]), [_call("get_flight", flight_id=flight["id"])], answer=answer
    )


# level 2: two or three calls ----------------------------------------------------------------
def _find(world: World, passenger_id: str) -> list[ToolCall]:
    return [
        _call("find_passenger", name=_name(world, passenger_id)),
        _call("list_bookings", passenger_id=passenger_id),
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
    return TaskDraft(prompt, [*_find(world, pid), _call("check_in", booking_id=booking["id"])])


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
        prompt, [*_find(world, pid), _call("cancel_booking", booking_id=booking["id"])]
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
    book = _call("book_flight", passenger_id=passenger["id"], flight_id=flight["id"], seat=seat)
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
        return TaskDraft(prompt, [_call("add_bag", booking_id=booking["id"])] * 2)
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
    return TaskDraft(prompt, [*_find(world, pid), _call("add_bag", booking_id=booking["id"])])


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
    change = _call("change_seat", booking_id=booking["id"], seat=seat)
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
        _call("find_passenger", name=passenger["name"]),
        *search,
        _call("seat_map", flight_id=flight["id"]),
        _call("book_flight", passenger_id=passenger["id"], flight_id=flight["id"], seat=seat),
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
        _call("cancel_booking", booking_id=old["id"]),
        *search,
        _call("book_flight", passenger_id=pid, flight_id=flight["id"], seat=seat),
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
        _call(
            "search_flights",
            origin=flight["origin"],
            destination=flight["destination"],
            date=flight["date"],
        ),
        _call("seat_map", flight_id=flight["id"]),
        _call("change_flight", booking_id=booking["id"], new_flight_id=flight["id"], seat=seat),
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
        *[_call("check_in", booking_id=b["id"]) for b in upcoming],
        _call("add_bag", booking_id=bagged["id"]),
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
        _call("find_passenger", name=passenger["name"]),
        *search,
        _call("book_flight", passenger_id=passenger["id"], flight_id=flight["id"], seat=seat),
        *[_call("add_bag", booking_id=new_id)] * bags,
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
    example=_call("get_booking", booking_id="BK-701"),
)
