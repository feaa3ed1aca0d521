"""WebNav's browser backend: the same pages and semantics as the text backend, in a real Chromium.

A small site of the test's own covers what the real sites may not show plainly: a button whose
script fetches slowly (the backend must wait for it), scripts that try to reach other origins
(they must be blocked), a form with every kind of field, and per-episode notes (state that
parallel episodes must not share). The real sites are played by the oracle in browser mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, HTTPServer
from itertools import islice
from typing import Any

import gymnasium as gym
import httpx
import pytest

pytest.importorskip("starlette")
pytest.importorskip("lxml")

from palaestra.envs.web_nav import browser, miniwob  # noqa: E402

if (_why := browser.browser_available()) is not None:
    pytest.skip(f"the browser backend cannot run here: {_why}", allow_module_level=True)

import palaestra  # noqa: E402 - registers WebNav-v0
from palaestra.core.types import ToolCall  # noqa: E402
from palaestra.envs.web_nav import tasks as web  # noqa: E402
from palaestra.envs.web_nav.backends import TextBackend  # noqa: E402
from palaestra.envs.web_nav.browser import BrowserBackend, open_contexts  # noqa: E402
from palaestra.envs.web_nav.host import COOKIE, host  # noqa: E402
from palaestra.envs.web_nav.sites import SITES, register_site  # noqa: E402
from palaestra.envs.web_nav.sites.base import (  # noqa: E402
    Site,
    World,
    esc,
    layout,
    posted,
    session_of,
)
from palaestra.errors import (  # noqa: E402
    ConfigError,
    EnvStateError,
    ToolError,  # noqa: E402
)

REAL_SITES = tuple(SITES)
MESSAGE = "Hello from the server"


class _Witness(BaseHTTPRequestHandler):
    """Another loopback origin: the browser must never reach it."""

    hits = 0

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        type(self).hits += 1
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


class BrowserTestSite(Site):
    name = "browsertest"
    title = "Browser test"
    description = "pages for the browser backend's tests"
    state_tables = ("notes",)
    worlds = 1
    outside: tuple[str, ...] = ()

    def generate(self, seed: int) -> World:
        database = sqlite3.connect(":memory:", check_same_thread=False)
        database.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        database.commit()
        return World(site=self.name, seed=seed, data=None, template=database)

    def routes(self) -> list[Any]:
        from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse
        from starlette.routing import Route

        site = self

        async def home(request: Any) -> HTMLResponse:
            body = (
                '<h1>Browser test</h1><p id="out">Nothing loaded.</p>'
                '<p id="extra" hidden>Loaded later.</p>'
                '<button type="button" data-js id="load">Load message</button>'
                '<button type="button" data-js id="outside">Call outside</button>'
                '<p id="outside-result">Not called.</p>'
                f'<ul><li><a href="{site.href("/form")}">Form page</a></li>'
                f'<li><a href="{site.href("/notes")}">Notes</a></li>'
                f'<li><a href="#out">Jump to the message</a></li></ul>'
            )
            script = f"""
            document.getElementById("load").addEventListener("click", async () => {{
              const response = await palaestraFetch("{site.href("/api/message")}");
              const data = await response.json();
              document.getElementById("out").textContent = data.message;
              document.getElementById("extra").hidden = false;
            }});
            document.getElementById("outside").addEventListener("click", async () => {{
              const results = [];
              for (const url of {list(site.outside)!r}) {{
                try {{ await palaestraFetch(url, {{mode: "no-cors"}}); results.push("reached"); }}
                catch (error) {{ results.push("blocked"); }}
              }}
              document.getElementById("outside-result").textContent = results.join(" ");
            }});"""
            return HTMLResponse(layout(site, "Home", body, script=script))

        async def message(request: Any) -> JSONResponse:
            await asyncio.sleep(0.3)  # the backend must wait for the page's fetch
            return JSONResponse({"message": MESSAGE})

        async def form(request: Any) -> HTMLResponse:
            sizes = "".join(f"<option>{size}</option>" for size in ("Small", "Medium", "Large"))
            body = (
                f'<h1>Order form</h1><form method="get" action="{site.href("/echo")}">'
                '<label for="name">Your name</label><input id="name" name="name">'
                f'<label for="size">Size</label><select id="size" name="size">{sizes}</select>'
                '<label><input type="checkbox" name="gift"> Gift wrap</label>'
                '<label><input type="radio" name="speed" value="standard" checked> Standard</label>'
                '<label><input type="radio" name="speed" value="express"> Express</label>'
                '<label for="comment">Comment</label><textarea id="comment" name="comment">'
                "</textarea><button>Send</button></form>"
            )
            return HTMLResponse(layout(site, "Form", body))

        async def echo(request: Any) -> HTMLResponse:
            items = "".join(
                f"<li>{esc(key)}: {esc(value)}</li>" for key, value in request.query_params.items()
            )
            return HTMLResponse(layout(site, "Echo", f"<h1>Received</h1><ul>{items}</ul>"))

        async def notes(request: Any) -> Any:
            database = session_of(request).database
            if request.method == "POST":
                text = (await posted(request)).get("text", "")
                database.execute("INSERT INTO notes (text) VALUES (?)", (text,))
                database.commit()
                return RedirectResponse(site.href("/notes"), status_code=303)
            rows = database.execute("SELECT text FROM notes ORDER BY id").fetchall()
            items = "".join(f"<li>{esc(row[0])}</li>" for row in rows) or "<li>No notes.</li>"
            body = (
                f"<h1>Notes</h1><ul>{items}</ul>"
                f'<form method="post" action="{site.href("/notes")}">'
                '<label for="text">Note</label><input id="text" name="text">'
                "<button>Save note</button></form>"
            )
            return HTMLResponse(layout(site, "Notes", body))

        return [
            Route("/", home),
            Route("/api/message", message),
            Route("/form", form),
            Route("/echo", echo),
            Route("/notes", notes, methods=["GET", "POST"]),
        ]

    def templates(self) -> dict[int, list[Any]]:
        def read_message(world: World, rng: random.Random) -> web.WebTaskDraft:
            return web.WebTaskDraft(
                prompt=f"What message does the server send? ({rng.randrange(10**6)})",
                start="/browsertest/",
                plan=(web.click("button", "Load message"), web.answer(MESSAGE)),
                answer=web.Answer(MESSAGE, "text"),
                requires_js=True,
            )

        def save_note(world: World, rng: random.Random) -> web.WebTaskDraft:
            word = f"note {rng.randrange(10**6)}"
            return web.WebTaskDraft(
                prompt=f"Save the note {word!r}.",
                start="/browsertest/",
                plan=(
                    web.click("link", "Notes"),
                    web.type_text("Note", word),
                    web.click("button", "Save note"),
                    web.answer("Done."),
                ),
                changes={"notes": {"1": {"id": 1, "text": word}}},
            )

        return {1: [read_message, save_note], 2: [save_note], 3: [save_note]}


@pytest.fixture(scope="module", autouse=True)
def test_site():
    witness = HTTPServer(("127.0.0.1", 0), _Witness)
    threading.Thread(target=witness.serve_forever, daemon=True).start()
    BrowserTestSite.outside = (
        "http://example.com/",
        "http://10.1.2.3/",
        f"http://127.0.0.1:{witness.server_port}/",
    )
    register_site(BrowserTestSite())
    yield
    SITES.pop(BrowserTestSite.name)
    witness.shutdown()


@pytest.fixture
def pair():
    """A browser and a text backend, each on its own session of the test site."""
    made = []

    def make(site: str = BrowserTestSite.name) -> tuple[BrowserBackend, TextBackend]:
        sessions = [host().open_session(site, 0) for _ in range(2)]
        backends = (
            BrowserBackend(host(), sessions[0].token),
            TextBackend(host(), sessions[1].token),
        )
        made.append((sessions, backends))
        return backends

    yield make
    for sessions, backends in made:
        for backend in backends:
            backend.close()
        for session in sessions:
            host().close_session(session.token)


def named(page: Any, role: str, name: str) -> Any:
    return next(e for e in page.elements.values() if e.role == role and e.name == name)


def test_both_backends_render_the_real_sites_alike(pair):
    for site in REAL_SITES:
        chromium, text = pair(site)
        start = f"/{site}/"
        chromium.open(start)
        text.open(start)
        assert chromium.page.url == text.page.url == start
        assert chromium.page.lines == text.page.lines, site
        links = [e for e in text.page.elements.values() if e.role == "link"]
        for link in random.Random(site).sample(links, min(3, len(links))):
            chromium.open(start)
            text.open(start)
            chromium.click(chromium.page.elements[link.id])
            text.click(link)
            assert chromium.page.url == text.page.url, (site, link)
            assert chromium.page.title == text.page.title
            assert chromium.page.lines == text.page.lines, (site, link, chromium.page.url)


def test_edited_fields_and_a_submitted_form_read_the_same(pair):
    chromium, text = pair()
    for backend in (chromium, text):
        backend.open("/browsertest/form")
        backend.type(named(backend.page, "textbox", "Your name"), "Ada Lovelace")
        backend.select(named(backend.page, "combobox", "Size"), "Large")
        backend.check(named(backend.page, "checkbox", "Gift wrap"))
        backend.check(named(backend.page, "radio", "Express"))
        backend.type(named(backend.page, "textbox", "Comment"), "Ring twice")
    assert chromium.page.lines == text.page.lines
    assert '[3] combobox "Size" value="Large" options: Small, Medium, Large' in text.page.lines
    assert '[4] checkbox "Gift wrap" checked=true' in chromium.page.lines
    chromium.check(named(chromium.page, "checkbox", "Gift wrap"))  # a second check unticks
    text.check(named(text.page, "checkbox", "Gift wrap"))
    assert '[4] checkbox "Gift wrap" checked=false' in chromium.page.lines
    chromium.check(named(chromium.page, "checkbox", "Gift wrap"))
    text.check(named(text.page, "checkbox", "Gift wrap"))
    for backend in (chromium, text):
        assert backend.click(named(backend.page, "button", "Send")) == ""
    assert chromium.page.url == text.page.url
    assert chromium.page.url.startswith("/browsertest/echo?name=Ada+Lovelace&size=Large")
    assert chromium.page.lines == text.page.lines
    assert "- speed: express" in chromium.page.lines


def test_a_javascript_button_works_in_the_browser_and_is_refused_in_text(pair):
    chromium, text = pair()
    chromium.open("/browsertest/")
    text.open("/browsertest/")
    with pytest.raises(ToolError, match="browser backend"):
        text.click(named(text.page, "button", "Load message"))
    assert "Loaded later." not in chromium.page.lines
    chromium.click(named(chromium.page, "button", "Load message"))
    # The fetch takes 0.3 s: the backend waited for it and for the DOM it wrote.
    assert MESSAGE in chromium.page.lines
    assert "Loaded later." in chromium.page.lines
    chromium.click(named(chromium.page, "link", "Jump to the message"))
    assert chromium.page.url == "/browsertest/" and MESSAGE in chromium.page.lines


def test_nothing_leaves_the_hosts_origin(pair):
    chromium, _ = pair()
    chromium.open("/browsertest/")
    chromium.click(named(chromium.page, "button", "Call outside"))
    assert "blocked blocked blocked" in chromium.page.lines
    assert _Witness.hits == 0


def test_a_post_redirect_lands_and_parallel_backends_keep_their_own_state():
    def episode(number: int) -> list[str]:
        session = host().open_session(BrowserTestSite.name, 0)
        backend = BrowserBackend(host(), session.token)
        try:
            backend.open("/browsertest/notes")
            backend.type(named(backend.page, "textbox", "Note"), f"note of episode {number}")
            backend.click(named(backend.page, "button", "Save note"))
            assert backend.page.url == "/browsertest/notes"
            return [line for line in backend.page.lines if line.startswith("- ")]
        finally:
            backend.close()
            host().close_session(session.token)

    with ThreadPoolExecutor(4) as pool:
        seen = list(pool.map(episode, range(4)))
    assert seen == [[f"- note of episode {number}"] for number in range(4)]


def test_four_envs_in_parallel_threads_each_solve_their_own_task():
    # Each task expects its note to be note 1 of its own database: any sharing would fail it.
    tasks = web.WebTasks(site=BrowserTestSite.name, difficulty=2, javascript=True)
    chosen = [t.id for t in islice(tasks.iterate(BrowserTestSite.name, 2), 4)]

    def play(task_id: str) -> float:
        env = gym.make("WebNav-v0", site=BrowserTestSite.name, difficulty=2, backend="browser")
        try:
            return _play_oracle(env, task_id)
        finally:
            env.close()

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(play, chosen)) == [1.0] * 4


def test_a_backend_works_from_any_thread(pair):
    chromium, _ = pair()
    with ThreadPoolExecutor(1) as pool:
        pool.submit(chromium.open, "/browsertest/form").result()
    chromium.type(named(chromium.page, "textbox", "Your name"), "Grace")
    with ThreadPoolExecutor(1) as pool:
        made = pool.submit(pair).result()[0]
    made.open("/browsertest/")
    assert '[2] textbox "Your name" value="Grace"' in chromium.page.lines
    assert made.page.title == "Home - Browser test"


def test_contexts_are_closed_on_reset_and_close():
    before = open_contexts()
    env = gym.make("WebNav-v0", site=BrowserTestSite.name, backend="browser")
    env.reset(seed=0)
    assert open_contexts() == before + 1
    env.reset(seed=1)
    assert open_contexts() == before + 1
    env.close()
    assert open_contexts() == before


def test_bad_ids_and_urls_are_errors_that_change_nothing():
    env = gym.make("WebNav-v0", site=BrowserTestSite.name, backend="browser")
    obs, _ = env.reset(seed=0)
    page = obs.split("\n\n", 1)[1]
    for action in (
        ToolCall(name="click", arguments={"id": 999}),
        ToolCall(name="type", arguments={"id": 1, "text": "x"}),
        ToolCall(name="goto", arguments={"url": "http://example.com/"}),
        ToolCall(name="goto", arguments={"url": "/shop/"}),
    ):
        obs, reward, terminated, _, info = env.step(action.to_text())
        assert info["error"] is not None and not terminated, action
        assert obs.endswith(page)
    env.close()


def test_javascript_tasks_are_drawn_and_solved_only_in_browser_mode():
    text_tasks = web.WebTasks(site=BrowserTestSite.name, difficulty=1)
    browser_tasks = web.WebTasks(site=BrowserTestSite.name, difficulty=1, javascript=True)
    scanned = [t for t in islice(browser_tasks.iterate(BrowserTestSite.name, 1), 40)]
    assert any(t.draft.requires_js for t in scanned)
    assert not any(
        t.draft.requires_js for t in islice(text_tasks.iterate(BrowserTestSite.name, 1), 40)
    )
    env = gym.make("WebNav-v0", site=BrowserTestSite.name, difficulty=1, backend="browser")
    for task in [t for t in scanned if t.draft.requires_js][:1] + [
        t for t in scanned if not t.draft.requires_js
    ][:1]:
        assert _play_oracle(env, task.id) == 1.0, task.id
    env.close()


def _play_oracle(env: Any, task_id: str) -> float:
    env.reset(options={"task_id": task_id})
    reward = 0.0
    for action in env.unwrapped.oracle_actions():
        _, reward, terminated, truncated, info = env.step(action)
        assert info["error"] is None, (task_id, action, info["error"])
        if terminated or truncated:
            break
    return float(reward)


@pytest.mark.parametrize("site", REAL_SITES)
def test_the_oracle_solves_every_level_of_the_real_sites_in_the_browser(site):
    for level in web.DIFFICULTIES:
        tasks = web.WebTasks(site=site, difficulty=level, javascript=True)
        scanned = [t for t in islice(tasks.iterate(site, level), 60)]
        chosen = scanned[:2] + [t for t in scanned[2:] if t.draft.requires_js][:1]
        env = gym.make("WebNav-v0", site=site, difficulty=level, backend="browser")
        try:
            for task in chosen:
                assert _play_oracle(env, task.id) == 1.0, task.id
        finally:
            env.close()


def test_a_missing_chromium_is_reported_with_an_install_hint(monkeypatch):
    monkeypatch.setenv("PALAESTRA_CHROMIUM", "/nonexistent/chromium")
    assert browser.chromium_executable() is None
    reason = browser.browser_available()
    assert reason is not None and "apt-get install chromium-headless-shell" in reason


# ------------------------------------------------------------------------------------ MiniWoB++
needs_miniwob = pytest.mark.skipif(
    miniwob.miniwob_html() is None,
    reason="MiniWoB++ needs the miniwob package: pip install miniwob",
)


@pytest.fixture
def miniwob_backend():
    session = host().open_session("miniwob", 0)
    backend = BrowserBackend(host(), session.token)
    yield backend
    backend.close()
    host().close_session(session.token)


@needs_miniwob
def test_the_miniwob_pages_are_served_to_miniwob_sessions_only():
    assert set(miniwob.MINIWOB_FORM_TASKS) <= set(miniwob.miniwob_tasks())
    assert len(miniwob.miniwob_tasks()) > 100
    session = host().open_session("miniwob", 0)
    other = host().open_session(BrowserTestSite.name, 0)
    try:
        # Over loopback, as the browser reads them (the in-process transport ends a streamed
        # file response early: it answers the response's wait for a disconnect at once).
        with httpx.Client(base_url=host().serve()) as client:
            client.cookies.set(COOKIE, session.token)
            page = client.get("/miniwob/miniwob/click-button.html")
            assert page.status_code == 200 and "genProblem" in page.text
            assert client.get("/miniwob/core/core.js").status_code == 200
            client.cookies.set(COOKIE, other.token)
            assert client.get("/miniwob/miniwob/click-button.html").status_code == 403
    finally:
        host().close_session(session.token)
        host().close_session(other.token)


@needs_miniwob
def test_a_miniwob_episode_is_seeded_untimed_and_rewarded(miniwob_backend):
    backend = miniwob_backend
    query = miniwob.start_miniwob(backend, "click-button", 3)
    wanted = re.fullmatch(r'Click on the "(.+)" button\.', query)
    assert wanted is not None, query
    lines = list(backend.page.lines)
    assert not any("Episodes done" in line or "START" == line for line in lines)
    assert miniwob.miniwob_result(backend) is None
    assert backend.evaluate("core.EPISODE_MAX_TIME") > 10**8  # no timeout mid-episode
    assert miniwob.start_miniwob(backend, "click-button", 3) == query
    assert backend.page.lines == lines
    backend.click(named(backend.page, "button", wanted.group(1)))
    assert miniwob.miniwob_result(backend) == (True, 1.0)

    query = miniwob.start_miniwob(backend, "click-button", 4)
    wanted = re.fullmatch(r'Click on the "(.+)" button\.', query)
    assert wanted is not None
    wrong = [e for e in backend.page.elements.values() if e.role == "button"]
    wrong = [e for e in wrong if e.name != wanted.group(1)]
    if wrong:
        backend.click(wrong[0])
        assert miniwob.miniwob_result(backend) == (False, -1.0)


@needs_miniwob
def test_a_miniwob_form_task_is_solved_by_typing(miniwob_backend):
    backend = miniwob_backend
    for seed in range(2):
        query = miniwob.start_miniwob(backend, "login-user", seed)
        username, password = re.findall(r'"([^"]*)"', query)
        fields = [e for e in backend.page.elements.values() if e.role == "textbox"]
        backend.type(fields[0], username)
        backend.type(backend.page.elements[fields[1].id], password)
        assert f'value="{username}"' in backend.page.lines[1 + backend.page.lines.index("Username")]
        backend.click(named(backend.page, "button", "Login"))
        assert miniwob.miniwob_result(backend) == (True, 1.0)


@needs_miniwob
def test_an_unknown_miniwob_task_is_an_error(miniwob_backend):
    with pytest.raises(EnvStateError, match="no MiniWoB"):
        miniwob.start_miniwob(miniwob_backend, "no-such-task", 0)


@needs_miniwob
def test_web_nav_plays_miniwob_episodes_scored_by_their_page():
    env = gym.make("WebNav-v0", site="miniwob", task="click-button", backend="browser")
    try:
        obs, info = env.reset(seed=3)
        assert info["task_id"].startswith("miniwob/click-button/") and "URL: /miniwob/" in obs
        wanted = re.search(r'Click on the "(.+?)" button', obs).group(1)
        elements = env.unwrapped.navigator.backend.page.elements.values()
        target = next(e for e in elements if e.role == "button" and e.name == wanted)
        *_, reward, terminated, _, info = env.step(f"click [{target.id}]")
        assert terminated and reward == 1.0 and "scored it 1" in info["verdict"]
        obs, info = env.reset(seed=4)
        *_, info = env.step('goto "/miniwob/"')
        assert "played on its one page" in info["error"]["message"]
        *_, reward, terminated, _, info = env.step('answer "done"')
        assert terminated and reward == 0.0 and "not completed" in info["verdict"]
        with pytest.raises(EnvStateError, match="no gold plan"):
            env.unwrapped.oracle_actions()
    finally:
        env.close()
    with pytest.raises(ConfigError, match="needs backend='browser'"):
        gym.make("WebNav-v0", site="miniwob")
    with pytest.raises(ConfigError, match="use it with site='miniwob'"):
        gym.make("WebNav-v0", task="click-button")
    with pytest.raises(ConfigError, match="task must be among"):
        gym.make("WebNav-v0", site="miniwob", backend="browser", task="no-such-task")


def test_the_server_validates_forms_in_both_backends(pair):
    chromium, text = pair("forms")
    for backend in (chromium, text):
        backend.open("/forms/signup")
        backend.type(named(backend.page, "textbox", "Email"), "not-an-email")
        backend.click(named(backend.page, "button", "Create account"))
    assert chromium.page.url == text.page.url == "/forms/signup"
    assert chromium.page.lines == text.page.lines
    assert any("valid email" in line for line in text.page.lines)


def test_paths_that_climb_out_of_the_site_are_refused_in_both_backends():
    for backend in ("text", "browser"):
        env = gym.make("WebNav-v0", site="shop", backend=backend)
        env.reset(seed=1)
        before = env.unwrapped.navigator.view()
        for url in ("/shop/%2e%2e/wiki/", "/shop/.%2E/forms/", "/shop/%00"):
            obs, *_, info = env.step(f'goto "{url}"')
            assert info["error"] is not None and obs.startswith("Error: "), (backend, url)
            assert env.unwrapped.navigator.view() == before
        env.close()


def test_a_browser_episode_forks_by_replay_into_an_independent_one():
    env = gym.make("WebNav-v0", site="forms", difficulty=1, backend="browser")
    try:
        for seed in range(40):
            env.reset(seed=seed)
            gold = env.unwrapped.oracle_actions()
            if len(gold) >= 3:
                break
        env.step(gold[0])
        branch = palaestra.fork(env)
        assert branch.unwrapped.navigator.view() == env.unwrapped.navigator.view()
        assert branch.unwrapped.session.token != env.unwrapped.session.token
        *_, reward, terminated, _, _ = branch.step('give_up "changed my mind"')
        assert terminated
        for action in gold[1:]:
            *_, reward, terminated, _, info = env.step(action)
        assert terminated and reward == 1.0, info["verdict"]
        branch.close()
    finally:
        env.close()
    assert open_contexts() == 0


def _kill_chromium() -> int:
    """SIGKILL this process's headless Chromium (its descendants only), as a crash would."""
    import os
    import signal

    from palaestra.sandbox.local import _descendants

    killed = 0
    for pid in _descendants(os.getpid(), set()):
        with contextlib.suppress(OSError):
            if b"chrom" in open(f"/proc/{pid}/cmdline", "rb").read():
                os.kill(pid, signal.SIGKILL)
                killed += 1
    return killed


def test_a_browser_that_dies_mid_episode_is_an_infra_failure_and_the_next_episode_relaunches():
    from palaestra.agents import OracleAgent
    from palaestra.rollout import collect, summarize

    class Crashing(OracleAgent):
        """The oracle, but the browser is killed before its second action of the first episode."""

        crashed = False

        def respond_batch(self, conversations, tools=None):
            turns = super().respond_batch(conversations, tools)
            assistant = sum(1 for m in conversations[0] if m.role == "assistant")
            if assistant == 1 and not Crashing.crashed:
                Crashing.crashed = True
                assert _kill_chromium() > 0
            return turns

    trajectories = collect(
        "WebNav-v0", Crashing, 2, num_envs=1, env_kwargs={"backend": "browser", "site": "shop"}
    )
    first, second = trajectories
    assert first.status == "infra_failure" and first.error is not None
    assert first.error.type == "EnvStateError" and "browser" in first.error.message
    assert second.status == "success", second.verdict
    assert summarize(trajectories).failed_episodes == 1
