"""The forms site's service and booking pages, and the JSON endpoint of free times.

``/services`` lists what is offered; ``/services/<slug>`` shows one service's weekly hours.
``/book`` is the booking form: its "Show available times" button (JavaScript) asks
``/api/slots`` for the free times of the chosen service and date and narrows the Time drop-down
to them; without JavaScript the drop-down offers every time and the server refuses a taken one.
``/bookings`` lists the user's bookings, each confirmed one with a "Cancel booking" button.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from palaestra.envs.web_nav.sites.base import esc, paginate, posted, session_of
from palaestra.envs.web_nav.sites.forms.rules import (
    BOOKINGS_PER_PAGE,
    cancellable,
    date_problem,
    free_times,
    listing,
    next_reference,
    parse_day,
    validate_booking,
)
from palaestra.envs.web_nav.sites.forms.widgets import (
    data_of,
    error_summary,
    href,
    notice,
    page,
    select_field,
    text_field,
    textarea_field,
)
from palaestra.envs.web_nav.sites.forms.world import ALL_TIMES, WEEKDAYS, FormsData

__all__ = ["ROUTES"]


def _bookings(request: Request) -> list[dict[str, Any]]:
    cursor = session_of(request).database.execute("SELECT * FROM bookings")
    return [dict(row) for row in cursor]


def today_line(data: FormsData) -> str:
    """The sentence that tells the visitor what day the portal thinks it is."""
    return f"<p>Today is {WEEKDAYS[data.today.weekday()]}, {data.today.isoformat()}.</p>"


async def services(request: Request) -> Response:
    """The services with their length, price and opening days, and the public holidays."""
    data = data_of(request)
    rows = "".join(
        f'<tr><td><a href="{href(f"/services/{s.slug}")}">{esc(s.name)}</a></td>'
        f"<td>{s.minutes} min</td><td>${s.price:.2f}</td>"
        f"<td>{', '.join(day[:3] for day in s.open_days)}</td></tr>"
        for s in data.services
    )
    holidays = ", ".join(f"{day.isoformat()} ({name})" for day, name in data.holidays.items())
    body = (
        "<h1>Services</h1><p>Prices are per person. Choose a service for its opening hours.</p>"
        "<table><tr><th>Service</th><th>Length</th><th>Price</th><th>Open on</th></tr>"
        f"{rows}</table><h2>Public holidays</h2>"
        f"<p>All services are closed on {esc(holidays)}.</p>"
    )
    return page("Services", body)


async def service_detail(request: Request) -> Response:
    """One service: what it is, where, and its hours for each weekday."""
    data = data_of(request)
    service = data.service(request.path_params["slug"])
    if service is None:
        return page(
            "Not found", "<h1>Not found</h1><p>We do not offer that service.</p>", status=404
        )
    hours = "".join(
        f"<tr><td>{day}</td><td>{f'{h[0]}-{h[1]}' if h else 'Closed'}</td></tr>"
        for day, h in zip(WEEKDAYS, service.hours, strict=True)
    )
    body = (
        f"<h1>{esc(service.name)}</h1><p>{esc(service.description)}</p>"
        f"<p>Where: {esc(service.location)}</p>"
        f"<p>Length: {service.minutes} minutes. Price: ${service.price:.2f} per person.</p>"
        f"<h2>Opening hours</h2><table><tr><th>Day</th><th>Hours</th></tr>{hours}</table>"
        "<p>The last appointment starts 30 minutes before closing. "
        "Closed on public holidays.</p>"
        f'<p><a href="{href(f"/book?service={service.slug}")}">Book this service</a></p>'
    )
    return page(service.name, body)


_SLOTS_SCRIPT = """
document.getElementById("show-times").addEventListener("click", () => palaestraWork(async () => {
    const status = document.getElementById("slot-status");
    const time = document.getElementById("f-time");
    const query = new URLSearchParams({
      service: document.getElementById("f-service").value,
      date: document.getElementById("f-date").value.trim(),
    });
    const response = await palaestraFetch("%s?" + query.toString());
    const found = await response.json();
    status.hidden = false;
    if (found.error) { status.textContent = found.error; return; }
    time.replaceChildren(new Option("Choose a time", ""));
    for (const slot of found.times) time.add(new Option(slot, slot));
    status.textContent = found.times.length
      ? "Available times on " + found.date + ": " + found.times.join(", ") + "."
      : "No times are left on " + found.date + ". Try another day.";
}));
"""


def _booking_form(data: FormsData, values: dict[str, str], errors: dict[str, str]) -> str:
    services = [(s.slug, s.name) for s in data.services]
    service = data.service(values.get("service", ""))
    times = [(t, t) for t in ALL_TIMES]
    return (
        f"<h1>Book an appointment</h1>{today_line(data)}"
        f"<p>Bookings can be made from tomorrow until {data.last_bookable.isoformat()}.</p>"
        f'{error_summary(errors)}<form method="post" action="{href("/book")}">'
        + select_field(
            "service",
            "Service",
            services,
            service.slug if service else "",
            errors,
            placeholder="Choose a service",
        )
        + text_field("date", "Date", values.get("date", ""), errors, hint="Format: YYYY-MM-DD")
        + select_field(
            "time", "Time", times, values.get("time", ""), errors, placeholder="Choose a time"
        )
        + '<p><button type="button" id="show-times" data-js>Show available times</button></p>'
        + '<p id="slot-status" hidden></p>'
        + text_field("people", "Number of people", values.get("people", "1"), errors)
        + textarea_field("notes", "Notes", values.get("notes", ""), errors)
        + '<p><button type="submit">Book</button></p></form>'
    )


async def book(request: Request) -> Response:
    """The booking form (GET, ``?service=`` preselects) and its submission (POST)."""
    data = data_of(request)
    script = _SLOTS_SCRIPT % href("/api/slots")
    if request.method == "GET":
        values = {"service": request.query_params.get("service", "")}
        return page("Book an appointment", _booking_form(data, values, {}), script=script)
    form = await posted(request)
    bookings = _bookings(request)
    row, errors = validate_booking(data, form, bookings)
    if errors:
        body = _booking_form(data, form, errors)
        return page("Book an appointment", body, script=script)
    reference = next_reference(data.seed, [b["reference"] for b in bookings])
    row = {"reference": reference, **row, "status": "Confirmed"}
    row["booked_on"] = data.today.isoformat()
    database = session_of(request).database
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    database.execute(f"INSERT INTO bookings ({columns}) VALUES ({marks})", tuple(row.values()))
    database.commit()
    return RedirectResponse(href(f"/bookings/{reference}?new=1"), status_code=303)


async def slots(request: Request) -> Response:
    """JSON: the free times of ``?service=<slug>&date=YYYY-MM-DD``, or an error to show."""
    data = data_of(request)
    service = data.service(request.query_params.get("service", ""))
    day = parse_day(request.query_params.get("date", ""))
    if service is None:
        return JSONResponse({"error": "Choose a service first.", "times": []})
    if day is None:
        return JSONResponse({"error": "Enter the date as YYYY-MM-DD first.", "times": []})
    problem = date_problem(data, service, day)
    if problem is not None:
        return JSONResponse({"error": problem, "times": []})
    times = free_times(data, service, day, _bookings(request))
    return JSONResponse({"service": service.name, "date": day.isoformat(), "times": times})


def _cancel_button(reference: str) -> str:
    return (
        f'<form method="post" action="{href(f"/bookings/{reference}/cancel")}">'
        '<button type="submit">Cancel booking</button></form>'
    )


def _booking_row(data: FormsData, booking: Mapping[str, Any]) -> str:
    reference = booking["reference"]
    action = _cancel_button(reference) if cancellable(data, booking) else ""
    return (
        f'<tr><td><a href="{href(f"/bookings/{reference}")}">{reference}</a></td>'
        f"<td>{esc(booking['service'])}</td><td>{booking['date']}</td><td>{booking['time']}</td>"
        f"<td>{booking['people']}</td><td>{booking['status']}</td><td>{action}</td></tr>"
    )


async def bookings(request: Request) -> Response:
    """The user's bookings, newest first, ten a page."""
    data = data_of(request)
    ordered = listing(_bookings(request))
    paged = paginate(ordered, request.query_params.get("page"), BOOKINGS_PER_PAGE)
    current, pages, shown = paged.number, paged.pages, paged.shown
    rows = "".join(_booking_row(data, b) for b in shown)
    cancelled = request.query_params.get("cancelled", "")
    body = "<h1>My bookings</h1>" + (
        notice(f"Booking {cancelled} has been cancelled.") if cancelled else ""
    )
    if not ordered:
        body += "<p>You have no bookings yet.</p>"
    else:
        body += (
            "<table><tr><th>Reference</th><th>Service</th><th>Date</th><th>Time</th>"
            f"<th>People</th><th>Status</th><th>Action</th></tr>{rows}</table>"
            f"<p>Page {current} of {pages}.</p>"
        )
    if current > 1:
        body += f'<p><a href="{href(f"/bookings?page={current - 1}")}">Previous page</a></p>'
    if current < pages:
        body += f'<p><a href="{href(f"/bookings?page={current + 1}")}">Next page</a></p>'
    return page("My bookings", body)


def _find(request: Request) -> dict[str, Any] | None:
    reference = request.path_params["reference"]
    return next((b for b in _bookings(request) if b["reference"] == reference), None)


async def booking_detail(request: Request) -> Response:
    """One booking; right after booking it, the confirmation with its reference."""
    data = data_of(request)
    booking = _find(request)
    if booking is None:
        return page("Not found", "<h1>Not found</h1><p>There is no such booking.</p>", status=404)
    reference = booking["reference"]
    confirmed = request.query_params.get("new") == "1"
    day = dt.date.fromisoformat(booking["date"])
    body = (
        f"<h1>Booking {reference}</h1>"
        + (
            notice(f"Booking confirmed. Your booking reference is {reference}.")
            if confirmed
            else ""
        )
        + f"<ul><li>Service: {esc(booking['service'])}</li>"
        f"<li>Date: {WEEKDAYS[day.weekday()]}, {booking['date']}</li>"
        f"<li>Time: {booking['time']}</li><li>People: {booking['people']}</li>"
        f"<li>Notes: {esc(booking['notes']) or 'none'}</li>"
        f"<li>Status: {booking['status']}</li></ul>"
        + (_cancel_button(reference) if cancellable(data, booking) else "")
        + f'<p><a href="{href("/bookings")}">All my bookings</a></p>'
    )
    return page(f"Booking {reference}", body)


async def cancel_booking(request: Request) -> Response:
    """POST: cancel a confirmed, upcoming booking, then back to the list."""
    data = data_of(request)
    booking = _find(request)
    if booking is None:
        return page("Not found", "<h1>Not found</h1><p>There is no such booking.</p>", status=404)
    reference = booking["reference"]
    if not cancellable(data, booking):
        body = (
            f'<h1>Booking {reference}</h1><p class="error">Booking {reference} is '
            f"{booking['status'].lower()} and cannot be cancelled.</p>"
            f'<p><a href="{href("/bookings")}">All my bookings</a></p>'
        )
        return page(f"Booking {reference}", body)
    database = session_of(request).database
    database.execute("UPDATE bookings SET status = 'Cancelled' WHERE reference = ?", (reference,))
    database.commit()
    return RedirectResponse(href(f"/bookings?cancelled={reference}"), status_code=303)


ROUTES = [
    Route("/services", services),
    Route("/services/{slug}", service_detail),
    Route("/book", book, methods=["GET", "POST"]),
    Route("/api/slots", slots),
    Route("/bookings", bookings),
    Route("/bookings/{reference}", booking_detail),
    Route("/bookings/{reference}/cancel", cancel_booking, methods=["POST"]),
]
"""The service and booking routes, relative to the site root."""
