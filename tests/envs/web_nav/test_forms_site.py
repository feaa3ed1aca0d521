"""The forms site (palaestra/envs/web_nav/sites/forms/): pages, validation, JSON times, tasks.

Forms post through the in-process transport exactly as the text backend does; every invalid
submission must show an error and leave all four state tables as they were. The gold plans are
played through WebNav-v0 itself (text backend; the JavaScript ones in Chromium when it is here).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

pytest.importorskip("starlette")
pytest.importorskip("lxml")

import gymnasium as gym  # noqa: E402
import httpx  # noqa: E402

import palaestra  # noqa: E402, F401
from palaestra.envs.web_nav import tasks as web  # noqa: E402
from palaestra.envs.web_nav.host import COOKIE, host  # noqa: E402
from palaestra.envs.web_nav.sites import SITES  # noqa: E402
from palaestra.envs.web_nav.sites.base import snapshot  # noqa: E402
from palaestra.envs.web_nav.sites.forms import FormsSite  # noqa: E402
from palaestra.envs.web_nav.sites.forms.rules import (  # noqa: E402
    busy_times,
    cancellable,
    free_times,
    next_reference,
    service_times,
)
from palaestra.envs.web_nav.sites.forms.task_kit import bookable_days  # noqa: E402
from palaestra.envs.web_nav.sites.forms.world import password_hash  # noqa: E402

SITE = SITES["forms"]
WORLD = 1


@pytest.fixture
def episode():
    session = host().open_session("forms", WORLD)
    client = httpx.Client(
        transport=host().transport(), base_url="http://web", follow_redirects=True
    )
    client.cookies.set(COOKIE, session.token)
    yield session, client, session.world.data
    client.close()
    host().close_session(session.token)


def state(session):
    return snapshot(session.database, SITE.state_tables)


def unchanged(session):
    return state(session) == session.world.initial_state


# ------------------------------------------------------------------------------------- world
def test_worlds_are_deterministic_and_differ_by_seed():
    first, again, other = FormsSite().generate(5), FormsSite().generate(5), FormsSite().generate(6)
    assert first.data == again.data
    tables = SITE.state_tables
    assert snapshot(first.template, tables) == snapshot(again.template, tables)
    assert snapshot(first.template, tables) != snapshot(other.template, tables)
    data = first.data
    assert len(data.services) == 9 and len(data.accounts) == 41 and len(data.holidays) == 2
    assert sum(cancellable(data, b) for b in data.bookings) >= 2
    assert len({b["date"] for b in data.bookings}) == len(data.bookings)


def test_existing_bookings_fit_the_opening_hours():
    for seed in range(SITE.worlds):
        data = SITE.world(seed).data
        for booking in data.bookings:
            service = data.service(booking["service"])
            day = dt.date.fromisoformat(booking["date"])
            assert service is not None and day not in data.holidays
            assert booking["time"] in service_times(service, day)
            assert booking["time"] not in busy_times(data.seed, service, day)


# ------------------------------------------------------------------------------------- pages
def test_every_page_is_html(episode):
    session, client, data = episode
    booking, ticket = data.bookings[0], data.tickets[0]
    paths = [
        "/",
        "/services",
        f"/services/{data.services[0].slug}",
        "/book",
        f"/book?service={data.services[1].slug}",
        "/bookings",
        f"/bookings/{booking['reference']}",
        "/settings",
        "/signup",
        "/support",
        "/support/tickets",
        f"/support/tickets/{ticket['number']}",
    ]
    for path in paths:
        response = client.get(f"/forms{path}")
        assert response.status_code == 200, path
        assert (
            response.text.startswith("<!DOCTYPE html>")
            and "Palaestra Services</title>" in response.text
        )
    home = client.get("/forms/").text
    assert data.settings["display_name"] in home and data.today.isoformat() in home
    assert client.get("/forms/services/no-such-thing").status_code == 404
    assert client.get("/forms/bookings/PS-NOPE1").status_code == 404
    assert unchanged(session)


def test_the_booking_form_and_the_times_endpoint(episode):
    session, client, data = episode
    page = client.get("/forms/book").text
    assert 'id="show-times" data-js' in page
    assert "palaestraFetch" in page and "/forms/api/slots" in page
    service = data.services[0]
    day = bookable_days(data, service)[0]
    found = client.get("/forms/api/slots", params={"service": service.slug, "date": str(day)})
    assert found.json()["times"] == free_times(data, service, day, data.bookings)
    assert set(found.json()["times"]).isdisjoint(busy_times(data.seed, service, day))
    holiday = next(iter(data.holidays))
    closed = client.get("/forms/api/slots", params={"service": service.slug, "date": str(holiday)})
    assert closed.json()["times"] == [] and "closed" in closed.json()["error"]
    bad = client.get("/forms/api/slots", params={"service": service.slug, "date": "tomorrow"})
    assert "YYYY-MM-DD" in bad.json()["error"]


# -------------------------------------------------------------------------------- valid forms
def _booking_form(data, **overrides):
    service = data.services[2]
    day = bookable_days(data, service)[0]
    time = free_times(data, service, day, data.bookings)[0]
    form = {"service": service.slug, "date": str(day), "time": time, "people": "2", "notes": ""}
    return {**form, **overrides}


def test_booking_saves_one_row_and_cancelling_marks_it(episode):
    session, client, data = episode
    form = _booking_form(data, notes="  Side door  ")
    response = client.post("/forms/book", data=form)
    reference = next_reference(data.seed, [b["reference"] for b in data.bookings])
    assert response.status_code == 200 and f"Your booking reference is {reference}" in response.text
    after = state(session)
    expected = {
        "reference": reference,
        "service": data.services[2].name,
        "date": form["date"],
        "time": form["time"],
        "people": 2,
        "notes": "Side door",
        "status": "Confirmed",
        "booked_on": data.today.isoformat(),
    }
    assert after["bookings"][reference] == expected
    del after["bookings"][reference]
    assert after == session.world.initial_state
    times = client.get(
        "/forms/api/slots", params={"service": form["service"], "date": form["date"]}
    )
    assert form["time"] not in times.json()["times"]
    again = client.post("/forms/book", data=form)
    assert (
        "already booked" in again.text and len(state(session)["bookings"]) == len(data.bookings) + 1
    )
    listing = client.post(f"/forms/bookings/{reference}/cancel")
    assert f"Booking {reference} has been cancelled." in listing.text
    assert state(session)["bookings"][reference]["status"] == "Cancelled"


def test_past_and_cancelled_bookings_cannot_be_cancelled(episode):
    session, client, data = episode
    for booking in (b for b in data.bookings if not cancellable(data, b)):
        response = client.post(f"/forms/bookings/{booking['reference']}/cancel")
        assert "cannot be cancelled" in response.text
    assert unchanged(session)


def test_signup_saves_exactly_the_account(episode):
    session, client, data = episode
    born = dt.date(data.today.year - 30, 5, 17).isoformat()
    form = {
        "username": "Newcomer42",
        "email": "newcomer42@mail.com",
        "password": "Harbor7lemon",
        "confirm": "Harbor7lemon",
        "birth_date": born,
        "country": "Ireland",
        "terms": "yes",
    }
    response = client.post("/forms/signup", data=form)
    assert "Account created. Welcome, Newcomer42!" in response.text
    after = state(session)
    assert after["accounts"].pop("Newcomer42") == {
        "username": "Newcomer42",
        "email": "newcomer42@mail.com",
        "password_sha256": password_hash("Harbor7lemon"),
        "date_of_birth": born,
        "country": "Ireland",
        "created_on": data.today.isoformat(),
    }
    assert after == session.world.initial_state


def test_settings_change_only_what_the_form_changed(episode):
    session, client, data = episode
    current = dict(data.settings)
    form = {k: str(v) for k, v in current.items() if k not in ("username", "newsletter")}
    if current["newsletter"]:
        form["newsletter"] = "yes"
    form.update(timezone="Asia/Tokyo" if current["timezone"] != "Asia/Tokyo" else "UTC")
    form.update(email="fresh.address@post.net", phone="+44 7700 123456", notifications="SMS")
    response = client.post("/forms/settings", data=form)
    assert "Your settings have been saved." in response.text
    after = state(session)
    expected = {**current, "timezone": form["timezone"], "email": form["email"]}
    expected.update(phone="+44 7700 123456", notifications="SMS")
    assert after["settings"][data.username] == expected
    assert after["accounts"][data.username]["email"] == "fresh.address@post.net"
    assert after["bookings"] == session.world.initial_state["bookings"]
    assert after["tickets"] == session.world.initial_state["tickets"]


def test_a_ticket_gets_the_next_number(episode):
    session, client, data = episode
    form = {
        "category": "Payments",
        "subject": "Refund",
        "message": "Please refund my visit.",
        "priority": "High",
    }
    number = max(t["number"] for t in data.tickets) + 1
    response = client.post("/forms/support", data=form)
    assert f"Ticket #{number} has been submitted." in response.text
    assert state(session)["tickets"][str(number)] == {
        "number": number,
        **form,
        "status": "Open",
        "opened_on": data.today.isoformat(),
    }


# ------------------------------------------------------------------------------ invalid forms
def _signup_form(data, **overrides):
    form = {
        "username": "Brandnew77",
        "email": "brandnew77@mail.com",
        "password": "Willow5river",
        "confirm": "Willow5river",
        "birth_date": "1980-02-03",
        "country": "Spain",
        "terms": "yes",
    }
    return {**form, **overrides}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"username": "ab"}, "3-20 letters or digits"),
        ({"username": "no spaces"}, "3-20 letters or digits"),
        ({"username": "TAKEN"}, "is taken"),
        ({"email": "not-an-email"}, "valid email"),
        ({"email": "TAKEN"}, "already exists"),
        ({"password": "short1", "confirm": "short1"}, "at least 8 characters"),
        ({"password": "nodigitshere", "confirm": "nodigitshere"}, "including a digit"),
        ({"confirm": "Willow5rivers"}, "do not match"),
        ({"birth_date": "03/02/1980"}, "YYYY-MM-DD"),
        ({"birth_date": "1980-02-30"}, "YYYY-MM-DD"),
        ({"birth_date": "UNDERAGE"}, "18 or older"),
        ({"country": ""}, "Choose your country"),
        ({"terms": ""}, "accept the terms"),
    ],
)
def test_invalid_signups_show_an_error_and_save_nothing(episode, overrides, message):
    session, client, data = episode
    other = data.accounts[3]
    if overrides.get("username") == "TAKEN":
        overrides = {"username": other["username"].upper()}
    if overrides.get("email") == "TAKEN":
        overrides = {"email": other["email"]}
    if overrides.get("birth_date") == "UNDERAGE":
        overrides = {"birth_date": (data.today - dt.timedelta(days=365 * 18 - 3)).isoformat()}
    form = _signup_form(data, **overrides)
    response = client.post("/forms/signup", data=form)
    assert response.status_code == 200 and 'class="error"' in response.text
    assert message in response.text and "Nothing was saved" in response.text
    typed = form["email"]
    assert f'value="{typed}"' in response.text  # what was typed is kept
    assert unchanged(session)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("no service", "Choose a service"),
        ("bad date", "YYYY-MM-DD"),
        ("past", "in the past"),
        ("today", "from tomorrow"),
        ("too far", "at most 60 days ahead"),
        ("holiday", "All services are closed"),
        ("closed weekday", "is closed on"),
        ("outside hours", "takes bookings from"),
        ("taken", "already booked"),
        ("no time", "Choose a time"),
        ("no people", "from 1 to 4"),
        ("too many people", "from 1 to 4"),
        ("long notes", "200 characters"),
    ],
)
def test_invalid_bookings_show_an_error_and_save_nothing(episode, case, message):
    session, client, data = episode
    form = _booking_form(data)
    service = data.service(form["service"])
    day = dt.date.fromisoformat(form["date"])
    if case == "no service":
        form["service"] = ""
    elif case == "bad date":
        form["date"] = "next Monday"
    elif case in ("past", "today", "too far", "holiday"):
        form["date"] = str(
            {
                "past": data.today - dt.timedelta(days=3),
                "today": data.today,
                "too far": data.today + dt.timedelta(days=61),
                "holiday": next(iter(data.holidays)),
            }[case]
        )
    elif case == "closed weekday":
        window = [data.today + dt.timedelta(days=n) for n in range(1, 61)]
        closed = [d for d in window if service.opening(d) is None and d not in data.holidays]
        if not closed:
            pytest.skip("this service opens every day")
        form["date"] = str(closed[0])
    elif case == "outside hours":
        form["time"] = next(
            t for t in ("08:00", "18:30", "08:30") if t not in service_times(service, day)
        )
    elif case == "taken":
        taken = sorted(busy_times(data.seed, service, day))
        if not taken:
            pytest.skip("no other resident booked that day")
        form["time"] = taken[0]
    elif case == "no time":
        form["time"] = ""
    elif case == "no people":
        form["people"] = "none"
    elif case == "too many people":
        form["people"] = "5"
    else:
        form["notes"] = "x" * 201
    response = client.post("/forms/book", data=form)
    assert response.status_code == 200 and 'class="error"' in response.text
    assert message in response.text and "Nothing was saved" in response.text
    assert unchanged(session)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"display_name": "  "}, "display name of 1 to 40"),
        ({"email": "me@nowhere"}, "valid email"),
        ({"email": "OTHER"}, "Another account uses"),
        ({"phone": "call me"}, "phone number of digits"),
        ({"phone": "", "notifications": "SMS"}, "Add a phone number"),
        ({"timezone": "Mars/Olympus"}, "Choose a timezone"),
        ({"notifications": ""}, "Choose how we notify you"),
    ],
)
def test_invalid_settings_show_an_error_and_save_nothing(episode, overrides, message):
    session, client, data = episode
    form = {k: str(v) for k, v in data.settings.items() if k not in ("username", "newsletter")}
    form["display_name"] = "Changed Name"
    if overrides.get("email") == "OTHER":
        overrides = {"email": data.accounts[5]["email"]}
    form.update(overrides)
    response = client.post("/forms/settings", data=form)
    assert 'class="error"' in response.text and message in response.text
    assert unchanged(session)


def test_invalid_tickets_show_an_error_and_save_nothing(episode):
    session, client, _ = episode
    response = client.post(
        "/forms/support", data={"category": "", "subject": "x", "message": "short"}
    )
    for message in ("Choose a category", "subject of 3 to 80", "10 to 1000", "Choose a priority"):
        assert message in response.text
    assert unchanged(session)


def test_two_sessions_do_not_see_each_other(episode):
    session, client, data = episode
    other = host().open_session("forms", WORLD)
    try:
        other_client = httpx.Client(
            transport=host().transport(), base_url="http://web", follow_redirects=True
        )
        other_client.cookies.set(COOKIE, other.token)
        client.post("/forms/book", data=_booking_form(data))
        reference = next_reference(data.seed, [b["reference"] for b in data.bookings])
        assert reference in client.get("/forms/bookings").text
        assert reference not in other_client.get("/forms/bookings").text
        assert snapshot(other.database, SITE.state_tables) == other.world.initial_state
    finally:
        host().close_session(other.token)


# ------------------------------------------------------------------------------------- tasks
SCAN = 2000


@pytest.mark.parametrize("level", [1, 2, 3])
def test_templates_write_many_distinct_tasks_in_both_splits(level):
    prompts = {"train": set(), "test": set()}
    kinds = Counter()
    for index in range(SCAN):
        task = web.make_task("forms", level, index)
        if task is None:
            continue
        draft = task.draft
        prompts[task.split].add(task.prompt)
        assert draft.plan[-1].action in ("answer", "give_up")
        assert draft.start.startswith("/forms/")
        assert all(step.action != "goto" for step in draft.plan)
        assert "[" not in task.prompt  # no element ids
        if not draft.feasible:
            kinds["infeasible"] += 1
            assert draft.plan[-1].action == "give_up" and not draft.changes
        elif draft.answer is not None:
            kinds["info"] += 1
        else:
            kinds["state"] += 1
            assert draft.changes and draft.plan[-1].text == "Done."
        kinds["js"] += draft.requires_js
        kinds["all"] += 1
    assert kinds["all"] > 0.9 * SCAN
    assert len(prompts["train"]) >= 200 and len(prompts["test"]) >= 200, {
        k: len(v) for k, v in prompts.items()
    }
    assert 0.03 < kinds["infeasible"] / kinds["all"] < 0.12
    assert kinds["state"] > kinds["info"] or level == 1
    assert kinds["state"] > 0.3 * kinds["all"] and kinds["info"] + kinds["infeasible"] > 0
    assert (kinds["js"] > 0) == (level > 1)


def _tasks(level, split, count, *, javascript=False):
    tasks = web.WebTasks(split=split, site="forms", difficulty=level, javascript=javascript)
    found = tasks.iterate("forms", level)
    return [next(found) for _ in range(count)]


@pytest.mark.parametrize("level", [1, 2, 3])
@pytest.mark.parametrize(("split", "count"), [("train", 24), ("test", 6)])
def test_the_oracle_solves_and_giving_up_fails(level, split, count):
    env = gym.make("WebNav-v0", site="forms", difficulty=level, split=split)
    try:
        for task in _tasks(level, split, count):
            env.reset(options={"task_id": task.id})
            for action in env.unwrapped.oracle_actions():
                obs, reward, terminated, truncated, info = env.step(action)
                assert info["error"] is None, (task.id, obs)
            assert terminated and reward == 1.0, (task.id, task.prompt, info["verdict"])
            env.reset(options={"task_id": task.id})
            *_, reward, terminated, _, info = env.step("I give up.")
            assert terminated and reward == 0.0, task.id
    finally:
        env.close()


def test_javascript_tasks_are_solved_in_the_browser():
    from palaestra.envs.web_nav.browser import browser_available

    why = browser_available()
    if why is not None:
        pytest.skip(why)
    env = gym.make("WebNav-v0", site="forms", difficulty=[2, 3], backend="browser")
    try:
        for level in (2, 3):
            tasks = _tasks(level, "train", 40, javascript=True)
            task = next(t for t in tasks if t.draft.requires_js)
            env.reset(options={"task_id": task.id})
            for action in env.unwrapped.oracle_actions():
                obs, reward, terminated, truncated, info = env.step(action)
            assert terminated and reward == 1.0, (task.id, info["verdict"])
    finally:
        env.close()


def test_javascript_tasks_are_kept_from_the_text_backend():
    task = next(t for t in _tasks(2, "train", 60, javascript=True) if t.draft.requires_js)
    env = gym.make("WebNav-v0", site="forms", difficulty=2)
    with pytest.raises(Exception, match="needs JavaScript"):
        env.reset(options={"task_id": task.id})
    env.close()
