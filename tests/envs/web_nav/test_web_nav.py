"""WebNav-v0's mechanics on a small site of the test's own: actions, errors, verdicts, fork.

The real sites have their own tests (test_shop_site.py, ...); the contract tests run on them
too. Here a two-page site makes each rule easy to see: a notes list with a search form and a
long page, a note page with a POST form and a JavaScript button.
"""

from __future__ import annotations

import random
import sqlite3
from typing import Any

import gymnasium as gym
import pytest

pytest.importorskip("starlette")
pytest.importorskip("lxml")

import palaestra  # noqa: E402
from palaestra.core.types import ToolCall  # noqa: E402
from palaestra.envs.web_nav import tasks as web  # noqa: E402
from palaestra.envs.web_nav.sites import SITES, register_site  # noqa: E402
from palaestra.envs.web_nav.sites.base import (  # noqa: E402
    Site,
    World,
    esc,
    layout,
    posted,
    session_of,
)

NOTES = ["Alpha", "Bravo", "Charlie", "Delta"]


class NotesSite(Site):
    name = "notes"
    title = "Notes"
    description = "a notes app"
    state_tables = ("stars",)
    worlds = 1

    def generate(self, seed: int) -> World:
        database = sqlite3.connect(":memory:", check_same_thread=False)
        database.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, title TEXT, body TEXT)")
        database.execute("CREATE TABLE stars (note INTEGER PRIMARY KEY, comment TEXT)")
        for number, title in enumerate(NOTES, start=1):
            database.execute("INSERT INTO notes VALUES (?, ?, ?)", (number, title, f"{number * 7}"))
        database.commit()
        return World(site=self.name, seed=seed, data=NOTES, template=database)

    def routes(self) -> list[Any]:
        from starlette.responses import HTMLResponse, RedirectResponse
        from starlette.routing import Route

        async def home(request):
            query = request.query_params.get("q", "")
            rows = session_of(request).database.execute("SELECT id, title FROM notes").fetchall()
            items = "".join(
                f'<li><a href="{self.href(f"/note/{r[0]}")}">{esc(r[1])}</a></li>'
                for r in rows
                if query.lower() in r[1].lower()
            )
            filler = "".join(f"<p>Line {n} of the long list.</p>" for n in range(120))
            body = (
                f'<form method="get" action="{self.href("/")}"><label for="q">Search</label>'
                f'<input id="q" name="q" value="{esc(query)}"><button>Search</button></form>'
                f'<ul>{items}</ul><a href="http://example.com/">Elsewhere</a>{filler}'
            )
            return HTMLResponse(layout(self, "Home", body))

        async def note(request):
            number = int(request.path_params["number"])
            session = session_of(request)
            row = session.database.execute("SELECT * FROM notes WHERE id = ?", (number,)).fetchone()
            if row is None:
                return HTMLResponse(layout(self, "Not found", "<h1>No such note</h1>"), 404)
            error = ""
            if request.method == "POST":
                form = await posted(request)
                comment = str(form.get("comment", "")).strip()
                if not comment:
                    error = '<p class="error">Write a comment.</p>'
                else:
                    session.database.execute(
                        "INSERT OR REPLACE INTO stars VALUES (?, ?)", (number, comment)
                    )
                    session.database.commit()
                    return RedirectResponse(self.href("/"), status_code=303)
            body = (
                f"<h1>{esc(row['title'])}</h1><p>Value: {row['body']}</p>{error}"
                f'<form method="post"><label for="c">Comment</label><input id="c" name="comment">'
                f'<label><input type="checkbox" name="loud"> Loud</label>'
                f"<button>Star</button></form>"
                f'<button type="button" data-js id="js">Reveal</button><p id="out" hidden>x</p>'
            )
            return HTMLResponse(layout(self, row["title"], body, script="/* reveal */"))

        return [Route("/", home), Route("/note/{number:int}", note, methods=["GET", "POST"])]

    def templates(self) -> dict[int, list[Any]]:
        def read(world: World, rng: random.Random) -> web.WebTaskDraft:
            number = rng.randrange(len(NOTES)) + 1
            title = NOTES[number - 1]
            return web.WebTaskDraft(
                prompt=f"What is the value of note {title}?",
                start="/notes/",
                plan=(web.click("link", title), web.answer(str(number * 7))),
                answer=web.Answer(str(number * 7), "number"),
            )

        def star(world: World, rng: random.Random) -> web.WebTaskDraft:
            number = rng.randrange(len(NOTES)) + 1
            title = NOTES[number - 1]
            word = rng.choice(["great", "fine", "odd", "nice", "late", "early"])
            return web.WebTaskDraft(
                prompt=f"Star the note {title} with the comment {word}.",
                start="/notes/",
                plan=(
                    web.type_text("Search", title[:3]),
                    web.click("button", "Search"),
                    web.click("link", title),
                    web.type_text("Comment", word),
                    web.click("button", "Star"),
                    web.answer("Done."),
                ),
                changes={"stars": {str(number): {"note": number, "comment": word}}},
            )

        def missing(world: World, rng: random.Random) -> web.WebTaskDraft:
            name = rng.choice(["Zulu", "Yankee", "X-ray", "Whiskey"])
            return web.WebTaskDraft(
                prompt=f"What is the value of note {name}?",
                start="/notes/",
                plan=(web.click("link", "Alpha"), web.give_up(f"there is no note {name}")),
                feasible=False,
            )

        return {1: [read], 2: [star], 3: [missing]}


@pytest.fixture(scope="module", autouse=True)
def notes_site():
    register_site(NotesSite())
    yield
    SITES.pop("notes")


def make(**kwargs):
    return gym.make("WebNav-v0", site="notes", **kwargs)


def task_of(level, split="train"):
    tasks = web.WebTasks(split=split, site="notes", difficulty=level)
    return next(tasks.iterate("notes", level))


def start(env, level):
    task = task_of(level)
    obs, info = env.reset(options={"task_id": task.id})
    return task, obs, info


def test_reset_shows_the_request_and_the_page():
    env = make()
    task, obs, info = start(env, 1)
    assert obs.startswith(task.prompt)
    assert "URL: /notes/" in obs and "Title: Home - Notes" in obs
    assert '[1] link "Notes"' in obs and 'textbox "Search"' in obs
    assert info["site"] == "notes" and info["backend"] == "text"
    assert "click [id]" in info["instructions"]
    assert {t["function"]["name"] for t in info["tools"]} >= {"click", "type", "answer", "give_up"}
    env.close()


@pytest.mark.parametrize("level", [1, 2, 3])
def test_oracle_solves_and_noop_fails(level):
    env = make()
    start(env, level)
    for action in env.unwrapped.oracle_actions():
        obs, reward, terminated, truncated, info = env.step(action)
        assert info["error"] is None, obs
    assert terminated and reward == 1.0 and info["success"], info["verdict"]
    start(env, level)
    *_, reward, terminated, truncated, info = env.step("I give up.")
    assert terminated and reward == 0.0 and not info["success"]
    env.close()


def test_commands_in_every_form_do_the_same():
    forms = ["click [4]", "click('4')", "click(4)", "Action: `click [4]`",
             '<tool_call>{"name": "click", "arguments": {"id": 4}}</tool_call>',
             {"name": "click", "arguments": {"id": 4}}]  # fmt: skip
    pages = set()
    for action in forms:
        env = make()
        start(env, 1)
        obs, *_, info = env.step(action)
        assert info["error"] is None, (action, obs)
        pages.add(obs.split("\n\n", 1)[1])
        env.close()
    assert len(pages) == 1 and "# Alpha" in pages.pop()


def test_typing_and_a_post_form_change_the_site_state():
    env = make()
    task, *_ = start(env, 2)
    word = task.draft.plan[3].text
    title = task.draft.plan[2].name
    obs, *_ = env.step('type [2] "zzz"')
    assert 'textbox "Search" value="zzz"' in obs
    obs, *_ = env.step(f'type [2] "{title[:3]}"\nclick [3]')
    assert f"URL: /notes/?q={title[:3]}" in obs and f'[4] link "{title}"' in obs
    obs, *_ = env.step("click [4]")
    assert f"# {title}" in obs
    obs, *_, info = env.step("click [4]")  # Star without a comment: the server says no
    assert "Write a comment." in obs and info["error"] is None
    assert env.unwrapped.session.database.execute("SELECT COUNT(*) FROM stars").fetchone()[0] == 0
    obs, *_ = env.step(f'type [2] "{word}"\ncheck [3]')
    assert f'value="{word}"' in obs and 'checkbox "Loud" checked=true' in obs
    obs, *_ = env.step("click [4]")
    assert "URL: /notes/" in obs
    *_, reward, terminated, _, info = env.step('answer "Done."')
    assert reward == 1.0, info["verdict"]
    env.close()


def test_collateral_changes_fail_the_task():
    env = make()
    task, *_ = start(env, 2)
    other = next(t for t in NOTES if t != task.draft.plan[2].name)
    for action in env.unwrapped.oracle_actions()[:-1]:
        env.step(action)
    env.step('goto "/notes/"')
    obs, *_ = env.step(f"click [{NOTES.index(other) + 4}]")
    env.step('type [2] "extra"\nclick [4]')
    *_, reward, _, _, info = env.step('answer "Done."')
    assert reward == 0.0 and "was not expected" in info["verdict"]
    env.close()


def test_bad_actions_are_errors_and_change_nothing():
    env = make()
    start(env, 1)
    before = env.unwrapped.render(), env.unwrapped.navigator.view()
    for action, message in [
        ("click [99]", "no element [99]"),
        ('type [1] "x"', "is a link"),
        ('goto "http://example.com/"', "not on this site"),
        ('goto "/wiki/"', "not on this site"),
        ('goto "file:///etc/passwd"', "not on this site"),
        ("click [8]", "not on this site"),  # the external link
        ("scroll up", "already at the top"),
        ('type [3] "unclosed', "not closed"),
        ("click [1] [2]", "needs the element's number"),
        ("type [2] unquoted", "in quotes"),
        ('goto "/notes/%2e%2e/shop/"', "not on this site"),
        ('goto "/notes/%00"', "control characters"),
        ("click('99999999999999999999')", "must be an integer"),
        ('type [2] "a\\u0001b"', "control character"),
        ("<think>I should go back</think>\nback", "no previous page"),
        ("back", "no previous page"),
        ('select [2] "x"', "is a textbox"),
        ('select [3] "x"', "is a button"),
    ]:
        obs, reward, terminated, truncated, info = env.step(action)
        assert info["error"] is not None and message in info["error"]["message"], (action, obs)
        assert obs.startswith("Error: ") and info["error"]["message"] in obs
        assert not terminated and reward == 0.0
        assert env.unwrapped.navigator.view() == before[1], action
    env.close()


def test_a_javascript_element_is_refused_by_the_text_backend():
    env = make()
    start(env, 1)
    env.step("click [4]")
    obs, *_, info = env.step("click [5]")
    assert "works only with JavaScript" in info["error"]["message"]
    assert "backend='browser'" in obs
    env.close()


def test_long_pages_scroll_and_ids_stay():
    env = make()
    start(env, 1)
    obs, *_ = env.step("scroll down")
    assert "lines above: scroll up" in obs and "Line " in obs and "[1] link" not in obs
    obs, *_, info = env.step("click [4]")  # ids are the page's, shown or not
    assert info["error"] is None and "# Alpha" in obs
    obs, *_ = env.step("back")
    assert "URL: /notes/" in obs and "lines above" not in obs
    env.close()


def test_answers_are_typed_and_infeasible_tasks_need_give_up():
    env = make()
    task, *_ = start(env, 1)
    value = task.draft.answer.value
    env.step(env.unwrapped.oracle_actions()[0])
    *_, reward, _, _, info = env.step(f'answer "{value} or {int(value) + 1}"')
    assert reward == 0.0 and "answer" in info["verdict"]
    start(env, 3)
    *_, reward, _, _, info = env.step('answer "7"')
    assert reward == 0.0 and "should have given up" in info["verdict"]
    start(env, 3)
    *_, reward, _, _, info = env.step('give_up "no such note"')
    assert reward == 1.0
    start(env, 1)
    *_, reward, _, _, info = env.step('give_up "cannot"')
    assert reward == 0.0 and "gave up" in info["verdict"]
    env.close()


def test_answer_must_be_the_last_action():
    env = make()
    start(env, 1)
    obs, reward, terminated, *_, info = env.step('answer "7"\nclick [4]')
    assert not terminated and "must be the last action" in info["error"]["message"]
    env.close()


def test_episodes_never_share_state_and_fork_is_independent():
    first, second = make(), make()
    task, *_ = start(first, 2)
    start(second, 2)
    gold = first.unwrapped.oracle_actions()
    for action in gold[:4]:
        first.step(action)
    branch = palaestra.fork(first)
    first.step(gold[4])
    stars = "SELECT COUNT(*) FROM stars"
    assert first.unwrapped.session.database.execute(stars).fetchone()[0] == 1
    assert second.unwrapped.session.database.execute(stars).fetchone()[0] == 0
    assert branch.unwrapped.session.database.execute(stars).fetchone()[0] == 0
    assert branch.unwrapped.navigator.view() != first.unwrapped.navigator.view()
    *_, reward, _, _, info = branch.step('give_up "changed my mind"')
    assert reward == 0.0
    *_, reward, _, _, info = first.step(gold[5])
    assert reward == 1.0
    tokens = {e.unwrapped.session.token for e in (second,)}
    for env in (first, second, branch):
        env.close()
    from palaestra.envs.web_nav.host import host

    assert not tokens & set(host().sessions)


def test_sessions_are_released_on_reset_and_close():
    from palaestra.envs.web_nav.host import host

    before = len(host().sessions)
    env = make()
    for seed in range(5):
        env.reset(seed=seed)
    assert len(host().sessions) == before + 1
    env.close()
    assert len(host().sessions) == before


def test_a_session_cannot_reach_another_site_or_episode():
    import httpx

    from palaestra.envs.web_nav.host import COOKIE, host

    env = make()
    start(env, 1)
    token = env.unwrapped.session.token
    client = httpx.Client(transport=host().transport(), base_url="http://web")
    assert client.get("/notes/").status_code == 403
    client.cookies.set(COOKIE, token)
    assert client.get("/notes/").status_code == 200
    assert client.get("/shop/").status_code == 403
    env.close()
    assert client.get("/notes/").status_code == 403


# ------------------------------------------------------------------ arbitrary actions (fuzz)
def _random_action(rng: random.Random, page_size: int, site: str) -> Any:
    element = rng.choice([rng.randint(1, max(page_size, 1)), rng.randint(-3, 200), 0])
    text = rng.choice(["", "x", "Ünïcode ✓", "a" * 300, '"quoted"', "12345", "2026-02-30", "\\"])
    junk = "".join(rng.choice("[]()'\"\\ <>{}:/abc123\n\t") for _ in range(rng.randint(0, 30)))
    return rng.choice(
        [
            f"click [{element}]",
            f"click('{element}')",
            f'type [{element}] "{text}"',
            f"type [{element}] {text}",
            f'select [{element}] "{text}"',
            f"check [{element}]",
            rng.choice(["scroll down", "scroll up", "scroll sideways", "scroll"]),
            rng.choice(
                [
                    f'goto "/{site}/"',
                    f'goto "/{site}/search?q={junk}"',
                    f'goto "/{site}/x/99"',
                    'goto "//evil.example/x"',
                    'goto "javascript:alert(1)"',
                    f'goto "/{site}/../shop/"',
                    f'goto "http://127.0.0.1:1/{site}/"',
                    "goto",
                    'goto ""',
                    f'goto "{junk}"',
                ]
            ),  # fmt: skip
            "back",
            junk,
            f'click [{element}]\ntype [{element}] "{text}"',
            ToolCall(name="click", arguments={"id": text}).to_text(),
            {"name": "select", "arguments": {"id": element, "option": 3}},
            {"name": "type", "arguments": {"id": element}},
            rng.choice([None, 3.5, [], ["click [1]"], b"bytes"]),
        ]
    )


def _state(env: Any) -> tuple[Any, ...]:
    unwrapped = env.unwrapped
    from palaestra.envs.web_nav.sites.base import snapshot

    tables = [r[0] for r in unwrapped.session.database.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")]  # fmt: skip
    return (
        snapshot(unwrapped.session.database, tables),
        unwrapped.navigator.view(),
        list(unwrapped.navigator.history),
    )


def fuzz(env: Any, seed: int, actions: int) -> int:
    """Play arbitrary actions; a rejected single action must leave everything as it was."""
    rng = random.Random(seed)
    env.reset(seed=seed)
    rejected = 0
    for _ in range(actions):
        unwrapped = env.unwrapped
        page_size = len(unwrapped.navigator.backend.page.elements)
        action = _random_action(rng, page_size, unwrapped.session.site)
        before = _state(env)
        single = not (isinstance(action, str) and "\n" in action)
        obs, reward, terminated, truncated, info = env.step(action)
        assert isinstance(obs, str) and 0.0 <= reward <= 1.0
        if info["error"] is not None:
            rejected += 1
            assert obs.startswith("Error: ") or "Error: " in obs
            if single:
                assert _state(env) == before, action
        if terminated or truncated:
            env.reset(seed=rng.randrange(1000))
    return rejected


@pytest.mark.parametrize("site", ["notes", "shop", "wiki", "forms"])
def test_arbitrary_actions_never_raise_and_rejections_change_nothing(site):
    env = gym.make("WebNav-v0", site=site, max_turns=1000)
    rejected = fuzz(env, seed=0, actions=600)
    assert rejected > 150
    env.close()
