"""Travel: an airline's airports, flights, passengers and bookings.

A booking is confirmed or cancelled, and a confirmed one may be checked in. Every seat a flight
lists as taken belongs to exactly one confirmed booking or to a traveller outside the world. A
taken seat cannot be booked, a passenger holds at most one confirmed booking per flight, a
cancelled booking cannot change, and a checked-in booking keeps its flight and seat. A flight
change keeps the route; checked bags are limited by the passenger's loyalty tier.
"""

from __future__ import annotations

import datetime
import random
import re
from typing import Any, Literal

from palaestra.core.tools import tool
from palaestra.envs.tool_use.names import person_names
from palaestra.envs.tool_use.world import World
from palaestra.errors import ToolError

__all__ = ["TravelWorld"]


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
