"""The wiki site: its generated worlds, its pages and forms, its state, and its tasks."""

from __future__ import annotations

import collections
import re

import pytest

pytest.importorskip("starlette")
pytest.importorskip("lxml")

import gymnasium as gym  # noqa: E402
import httpx  # noqa: E402

import palaestra  # noqa: E402, F401
from palaestra.envs.web_nav.host import COOKIE, host  # noqa: E402
from palaestra.envs.web_nav.page import parse_document, render  # noqa: E402
from palaestra.envs.web_nav.sites import SITES  # noqa: E402
from palaestra.envs.web_nav.sites.base import snapshot  # noqa: E402
from palaestra.envs.web_nav.sites.wiki import WikiSite  # noqa: E402
from palaestra.envs.web_nav.sites.wiki.database import search_matches  # noqa: E402
from palaestra.envs.web_nav.tasks import WebTasks, make_task  # noqa: E402
from palaestra.tasks.normalize import canonical  # noqa: E402

SITE = SITES["wiki"]
SCANNED = 2000


def client_for(world_seed: int = 0):
    session = host().open_session("wiki", world_seed)
    client = httpx.Client(transport=host().transport(), base_url="http://web")
    client.cookies.set(COOKIE, session.token)
    return client, session


def state(session):
    return snapshot(session.database, SITE.state_tables)


def text_of(response: httpx.Response) -> str:
    page = render(parse_document(response.text), str(response.url.path))
    return "\n".join(page.lines)


# ------------------------------------------------------------------------------------ worlds
def test_worlds_are_deterministic_per_seed_and_differ_between_seeds():
    first, again, other = WikiSite().generate(1), WikiSite().generate(1), WikiSite().generate(2)
    assert first.data == again.data
    assert list(first.template.iterdump()) == list(again.template.iterdump())
    assert first.data.titles != other.data.titles
    assert 150 <= len(first.data.titles) <= 250


def test_a_world_agrees_with_itself():
    data = SITE.world(0).data
    for city in data.cities.values():
        assert data.people[city.mayor].office == city.slug
        assert all(city.slug in data.cities[t].twins for t in city.twins)
        assert all(data.cities[t].country != city.country for t in city.twins)
    for company in data.companies.values():
        founder = data.people[company.founder]
        assert founder.born.year + 18 < company.founded and company.headquarters in data.cities
    for mountain in data.mountains.values():
        assert data.people[mountain.first_climber].born.year < mountain.first_ascent
    for country in data.countries.values():
        assert data.cities[country.capital].country == country.slug
    for name, members in data.categories.items():
        assert members == tuple(sorted(members, key=data.title)), name


def test_every_link_of_every_article_leads_somewhere():
    client, session = client_for(3)
    rows = session.database.execute("SELECT slug, body FROM articles").fetchall()
    targets = {href for row in rows for href in re.findall(r'href="([^"]+)"', row["body"])}
    for target in sorted(targets):
        assert client.get(target).status_code == 200, target
    host().close_session(session.token)


# ------------------------------------------------------------------------------------- pages
def test_pages_are_real_html_and_compact():
    client, session = client_for(0)
    data = session.world.data
    city = next(iter(data.cities))
    paths = [
        "/wiki/",
        "/wiki/search?q=mount",
        "/wiki/search?q=nothing+like+this",
        f"/wiki/article/{city}",
        f"/wiki/article/{city}/report",
        "/wiki/category/Companies",
        "/wiki/list/cities-by-population",
        "/wiki/list/companies-by-revenue?sort=founded&order=desc&page=2",
        "/wiki/watchlist",
    ] + [f"/wiki/article/{slug}" for slug in data.titles]
    sizes = []
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert (
            response.text.startswith("<!DOCTYPE html>")
            and "Palaestra Wiki</title>" in response.text
        )
        sizes.append(len(text_of(response)))
    assert max(sizes) < 1800
    assert client.get("/wiki/article/No_Such_Thing").status_code == 404
    assert client.get("/wiki/category/No_Such_Thing").status_code == 404
    assert client.get("/wiki/list/nothing").status_code == 404
    host().close_session(session.token)


def test_search_puts_the_exact_title_first_and_pages_by_eight():
    titles = {"a": "Zed Alpha", "b": "Alpha", "c": "Alpha Beta", "d": "Beta Alpha", "e": "Gamma"}
    assert search_matches(titles, "ALPHA") == ["b", "c", "d", "a"]
    assert search_matches(titles, "alpha zed") == ["a"] and search_matches(titles, " ") == []
    client, session = client_for(0)
    titles = session.world.data.titles
    company = next(iter(session.world.data.companies.values()))
    word = company.name.split()[-1]  # "Foods": several companies, maybe a word of others too
    response = client.get("/wiki/search", params={"q": word})
    page = render(parse_document(response.text), "/wiki/search")
    links = [e.name for e in page.elements.values() if e.role == "link"][2:]
    expected = search_matches(titles, word)
    assert links[: len(expected[:8])] == [titles[s] for s in expected[:8]]
    results = search_matches(titles, "a")
    assert len(results) > 8
    first = text_of(client.get("/wiki/search", params={"q": "a"}))
    assert first.count("] link ") - 3 == 8 and 'link "Next page"' in first
    second = text_of(client.get("/wiki/search", params={"q": "a", "page": "2"}))
    assert titles[results[8]] in second and 'link "Previous page"' in second
    nothing = text_of(client.get("/wiki/search", params={"q": "Qqxz Vvy"}))
    assert 'No results for "Qqxz Vvy"' in nothing
    assert 'textbox "Search" value="Qqxz Vvy"' in nothing
    host().close_session(session.token)


def test_lists_sort_by_each_column_and_reverse():
    client, session = client_for(2)
    cities = sorted(session.world.data.cities.values(), key=lambda c: -c.population)
    default = text_of(client.get("/wiki/list/cities-by-population"))
    assert "highest first" in default
    assert default.index(cities[0].name) < default.index(cities[1].name)
    reverse = text_of(client.get("/wiki/list/cities-by-population?sort=population&order=asc"))
    assert cities[-1].name in reverse and cities[0].name not in reverse
    oldest = min(session.world.data.cities.values(), key=lambda c: c.founded)
    founded = text_of(client.get("/wiki/list/cities-by-population?sort=founded"))
    assert "earliest first" in founded and "| 1 | [" in founded and oldest.name in founded
    odd = client.get("/wiki/list/cities-by-population?sort=drop+table&order=sideways&page=x")
    assert odd.status_code == 200 and "highest first" in text_of(odd)
    huge = client.get("/wiki/list/cities-by-population", params={"page": "9" * 5000})
    assert huge.status_code == 200 and "Page 1 of" in text_of(huge)
    host().close_session(session.token)


# ------------------------------------------------------------------------------------- state
def test_watching_and_unwatching_an_article():
    client, session = client_for(1)
    data = session.world.data
    slug = next(s for s in sorted(data.titles) if s not in data.watched)
    page = text_of(client.get(f"/wiki/article/{slug}"))
    assert 'button "Add to watchlist"' in page
    added = client.post(
        "/wiki/watchlist", data={"slug": slug, "action": "add", "return": "article"}
    )
    assert (
        added.status_code == 303 and added.headers["location"] == f"/wiki/article/{slug}?done=added"
    )
    assert state(session)["watchlist"][slug] == {"slug": slug, "title": data.title(slug)}
    after = text_of(client.get(added.headers["location"]))
    assert "added to your watchlist" in after and 'button "Remove from watchlist"' in after
    watchlist = text_of(client.get("/wiki/watchlist"))
    assert f'button "Unwatch {data.title(slug)}"' in watchlist
    assert f"watching {len(data.watched) + 1} articles" in watchlist
    removed = client.post(
        "/wiki/watchlist", data={"slug": slug, "action": "remove", "return": "watchlist"}
    )
    assert removed.status_code == 303 and removed.headers["location"] == "/wiki/watchlist"
    assert slug not in state(session)["watchlist"]
    for other in sorted(data.titles)[:12]:
        client.post("/wiki/watchlist", data={"slug": other, "action": "add"})
    pages = [text_of(client.get("/wiki/watchlist", params={"page": n})) for n in (1, 2)]
    assert pages[0].count("Unwatch ") == 10 and 'link "Next page"' in pages[0]
    assert 0 < pages[1].count("Unwatch ") <= 5
    host().close_session(session.token)


def test_error_reports_are_validated_and_stored():
    client, session = client_for(0)
    city = next(iter(session.world.data.cities.values()))
    url = f"/wiki/article/{city.slug}/report"
    before = state(session)
    empty = client.post(url, data={"field": "Population", "correction": "   "})
    assert empty.status_code == 422 and "Enter what the field should say." in empty.text
    assert 'value="Population" selected' in empty.text
    no_field = client.post(url, data={"field": "Colour", "correction": "blue"})
    assert "Choose the field that is wrong." in no_field.text and 'value="blue"' in no_field.text
    too_long = client.post(url, data={"field": "Mayor", "correction": "x" * 201})
    assert "under 200 characters" in too_long.text
    unknown = client.post("/wiki/watchlist", data={"slug": "Nowhere", "action": "add"})
    assert unknown.status_code == 404
    odd = client.post("/wiki/watchlist", data={"slug": city.slug, "action": "burn"})
    assert odd.status_code == 400 and "add or remove" in odd.text
    assert state(session) == before
    sent = client.post(url, data={"field": "Population", "correction": " 12,000  people "})
    assert sent.status_code == 303 and sent.headers["location"].endswith("?done=reported")
    assert state(session)["reports"] == {
        "1": {"id": 1, "slug": city.slug, "field": "Population", "correction": "12,000 people"}
    }
    assert "your error report was sent" in text_of(client.get(sent.headers["location"]))
    host().close_session(session.token)


def test_two_sessions_do_not_see_each_others_state():
    first, one = client_for(0)
    second, two = client_for(0)
    slug = next(s for s in sorted(one.world.data.titles) if s not in one.world.data.watched)
    first.post("/wiki/watchlist", data={"slug": slug, "action": "add"})
    first.post(f"/wiki/article/{slug}/report", data={"field": "Born", "correction": "1 May 1950"})
    assert slug in state(one)["watchlist"]
    assert slug not in state(two)["watchlist"] and state(two)["reports"] == {}
    assert 'button "Add to watchlist"' in text_of(second.get(f"/wiki/article/{slug}"))
    host().close_session(one.token)
    host().close_session(two.token)


# ------------------------------------------------------------------------------------- tasks
@pytest.mark.parametrize("level", [1, 2, 3])
def test_tasks_are_many_varied_and_well_formed(level):
    prompts: dict[str, set[str]] = {"train": set(), "test": set()}
    feasible = collections.Counter()
    for index in range(SCANNED):
        task = make_task("wiki", level, index)
        if task is None:
            continue
        draft = task.draft
        prompts[task.split].add(draft.prompt)
        feasible[draft.feasible] += 1
        assert draft.start == "/wiki/" and draft.plan[-1].action in ("answer", "give_up")
        assert not re.search(r"\[\d+\]", draft.prompt)
        if not draft.feasible:
            assert draft.plan[-1].action == "give_up" and not draft.changes
            assert draft.answer is None
        elif draft.answer is not None:
            assert draft.plan[-1].text == draft.answer.value
            canonical(draft.answer.kind, draft.answer.value)  # parses as its kind
        else:
            assert draft.changes and set(draft.changes) <= set(SITE.state_tables)
    assert len(prompts["train"]) >= 200 and len(prompts["test"]) >= 200
    share = feasible[False] / (feasible[False] + feasible[True])
    assert 0.03 <= share <= 0.12


def test_every_level_has_information_and_state_tasks():
    kinds = collections.defaultdict(set)
    for level in (1, 2, 3):
        for index in range(300):
            task = make_task("wiki", level, index)
            if task is not None:
                kinds[level].add("state" if task.draft.changes else "info")
    assert all(kinds[level] == {"state", "info"} for level in (1, 2, 3))


def _first_tasks(split: str, level: int, count: int):
    tasks = WebTasks(split=split, site="wiki", difficulty=level).iterate("wiki", level)
    return [next(tasks) for _ in range(count)]


@pytest.mark.parametrize("level", [1, 2, 3])
def test_the_oracle_solves_the_tasks_and_giving_up_fails_them(level):
    env = gym.make("WebNav-v0", site="wiki", difficulty=level)
    for task in _first_tasks("train", level, 30):
        env.reset(options={"task_id": task.id})
        for action in env.unwrapped.oracle_actions():
            *_, reward, terminated, truncated, info = env.step(action)
            assert info["error"] is None, (task.id, action, info["error"])
        assert terminated and reward == 1.0, (task.id, task.prompt, info["verdict"])
        env.reset(options={"task_id": task.id})
        *_, reward, terminated, _, info = env.step("I give up.")
        assert terminated and reward == 0.0 and not info["success"], task.id
    env.close()


def test_the_oracle_solves_test_split_tasks_too():
    env = gym.make("WebNav-v0", site="wiki", split="test")
    for level in (1, 2, 3):
        for task in _first_tasks("test", level, 5):
            env.reset(options={"task_id": task.id})
            for action in env.unwrapped.oracle_actions():
                *_, reward, terminated, _, info = env.step(action)
            assert terminated and reward == 1.0, (task.id, info["verdict"])
    env.close()
