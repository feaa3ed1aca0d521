"""`BrowserBackend`: WebNav's pages in a real Chromium, driven by Playwright, read like the text's.

One Playwright driver and one headless Chromium per process serve every browser backend; each
backend (one episode) gets its own browser context, so its own cookie jar, history and storage.
Playwright is bound to the thread that started it, while envs are stepped from thread pools, so
it lives on one daemon thread running an asyncio loop (`_Chromium`): a backend sends each
operation there as a coroutine and waits for the result, which makes it usable from any thread
and lets the episodes of several threads interleave. A spare context is prepared in the
background once an episode's first page is shown, so the next reset rarely waits for one.

A click is a real mouse click at the element's centre (a scripted ``element.click()`` when the
element is hidden or covered, so that what the text backend can click works here too); typing
and choosing an option set the field and fire its input and change events. After every action
the page settles (a navigation the action started has loaded, and no ``palaestraFetch`` is in
flight, see `palaestra.envs.web_nav.sites.base.SCRIPT_HELPERS`) and is read by one script
(`_SETTLE_AND_READ`): it numbers every element in ``NODE_ATTRIBUTE`` (how a rendered element is
found again), copies the live form state into attributes (values, checked boxes, chosen
options) and returns the HTML, which the renderer turns into the same text the text backend
shows for the same page.

Nothing leaves loopback: every request that is not for the host's own origin is aborted, the
browser resolves no host name but 127.0.0.1 and sends anything else to a closed proxy port.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import re
import shutil
import threading
from collections.abc import Coroutine
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar
from urllib.parse import urlsplit

from palaestra.envs.web_nav.backends import Backend
from palaestra.envs.web_nav.host import COOKIE, Host
from palaestra.envs.web_nav.page import NODE_ATTRIBUTE, Element, parse_document, render
from palaestra.errors import EnvStateError, MissingDependencyError

__all__ = ["BrowserBackend", "browser_available", "chromium_executable", "open_contexts"]

T = TypeVar("T")

_INSTALL_CHROMIUM = (
    "WebNav's browser backend needs Chromium: apt-get install chromium-headless-shell "
    "(or set PALAESTRA_CHROMIUM to a Chromium or Chrome executable)"
)
_INSTALL_PLAYWRIGHT = "WebNav's browser backend needs Playwright: pip install playwright"
_CANDIDATES = (
    "/usr/lib/chromium/chromium-headless-shell",  # Debian's binary, without its sh wrapper
    "chromium-headless-shell",
    "/usr/lib/chromium/chromium",
    "chromium",
    "chromium-browser",
    "google-chrome",
)
CALL_TIMEOUT = 60.0
"""Seconds an operation may take before the browser counts as hung (a launch included)."""
NAVIGATION_TIMEOUT_MS = 15000

_CHROMIUM_ARGS = (
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:1",  # a closed port; loopback itself bypasses proxies
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--disable-gpu",
    # A navigation that keeps its renderer frame is a third faster (measured: 42 -> 27 ms).
    # The last --disable-features wins, so Playwright's own list (1.65) is repeated here.
    "--disable-features=AvoidUnnecessaryBeforeUnloadCheckSync,DestroyProfileOnBrowserClose,"
    "HttpsUpgrades,HttpsFirstBalancedModeAutoEnable,LensOverlay,MediaRouter,PaintHolding,"
    "ThirdPartyStoragePartitioning,AvoidCorsURLLoaderRestartOnRedirect,TcpPortRandomizationWin,"
    "OptimizationHints,NetworkTimeServiceQuerying,AimEnabled,PreconnectToSearch,RenderDocument",
)

# What follows every action, in the same round trip: wait until the page's own fetches are done
# (a fetch's continuation may still write the DOM after palaestraFetch returns, hence the quiet
# ticks), number the elements, copy the live form state into attributes, serialise the page.
# After a click (``watch``), null instead when the click started a navigation (see `_AIM`; a
# form submission starts its navigation in a task of its own, which the quiet ticks let run) or
# this is already the next document.
_SETTLE_AND_READ = """async ([attribute, watch]) => {
  const deadline = Date.now() + 5000;
  const tick = (ms) => new Promise((done) => setTimeout(done, ms));
  for (let quiet = 0; quiet < 2 && Date.now() < deadline; ) {
    if (window.__palaestraPending) { quiet = 0; await tick(5); } else { quiet += 1; await tick(0); }
  }
  if (watch && (!window.__palaestraWatching || window.__palaestraLeaving)) return null;
  // The server validates, as the text backend sees it: no browser-side form validation.
  for (const form of document.forms) form.noValidate = true;
  const all = document.querySelectorAll("*");
  for (let i = 0; i < all.length; i++) all[i].setAttribute(attribute, String(i));
  for (const input of document.querySelectorAll("input")) {
    const kind = (input.getAttribute("type") || "").toLowerCase();
    if (kind === "checkbox" || kind === "radio") input.toggleAttribute("checked", input.checked);
    else if (kind !== "file") input.setAttribute("value", input.value);
  }
  for (const option of document.querySelectorAll("option")) {
    option.toggleAttribute("selected", option.selected);
  }
  for (const area of document.querySelectorAll("textarea")) area.textContent = area.value;
  return [location.href, document.documentElement.outerHTML];
}"""


def _then_read(action: str) -> str:
    """A script that does ``action`` to the numbered element, then settles and reads the page.

    ``action`` is the body of ``(element, value) => ...``; it returns false when it cannot apply.
    """
    return f"""async ([attribute, key, value]) => {{
  const element = document.querySelector(`[${{attribute}}="${{key}}"]`);
  if (!element) return null;
  const act = (element, value) => {{ {action} }};
  if (act(element, value) === false) return false;
  return await ({_SETTLE_AND_READ})([attribute, false]);
}}"""


# Where to click an element: scrolled into view, its centre, and whether a click there lands on
# it (else it is hidden or covered, and is clicked by script, as the text backend would). Also
# starts watching this document for a navigation (beforeunload fires when one starts).
_AIM = """([attribute, key]) => {
  const element = document.querySelector(`[${attribute}="${key}"]`);
  if (!element) return null;
  if (!window.__palaestraWatching) {
    window.__palaestraWatching = true;
    window.__palaestraLeaving = false;
    addEventListener("beforeunload", () => { window.__palaestraLeaving = true; });
  }
  element.scrollIntoView({block: "nearest", inline: "nearest"});
  const box = element.getBoundingClientRect();
  const x = box.left + box.width / 2, y = box.top + box.height / 2;
  const hit = box.width > 0 && box.height > 0 ? document.elementFromPoint(x, y) : null;
  return [x, y, hit !== null && (hit === element || element.contains(hit))];
}"""
_SCRIPTED_CLICK = """([attribute, key]) => {
  document.querySelector(`[${attribute}="${key}"]`).click();
}"""

# Both fire the events a user's edit fires, so the page's own scripts see the change.
_FILL = _then_read(
    """element.focus();
  element.value = value;
  element.dispatchEvent(new Event("input", {bubbles: true}));
  element.dispatchEvent(new Event("change", {bubbles: true}));"""
)
_SELECT = _then_read(
    """const squash = (text) => text.replace(/\\s+/g, " ").trim();
  const index = Array.from(element.options).findIndex((o) => squash(o.textContent) === value);
  if (index < 0) return false;
  element.selectedIndex = index;
  element.dispatchEvent(new Event("input", {bubbles: true}));
  element.dispatchEvent(new Event("change", {bubbles: true}));"""
)


# ---------------------------------------------------------------------------------- discovery
def chromium_executable() -> str | None:
    """The Chromium to launch: ``$PALAESTRA_CHROMIUM``, else the first one installed."""
    configured = os.environ.get("PALAESTRA_CHROMIUM")
    if configured:
        return shutil.which(configured) or (configured if os.access(configured, os.X_OK) else None)
    for candidate in _CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def browser_available() -> str | None:
    """None when the browser backend can run here, else why not (with an install hint)."""
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return _INSTALL_PLAYWRIGHT
    if chromium_executable() is None:
        configured = os.environ.get("PALAESTRA_CHROMIUM")
        if configured:
            return f"PALAESTRA_CHROMIUM={configured!r} is not an executable; {_INSTALL_CHROMIUM}"
        return _INSTALL_CHROMIUM
    return None


def open_contexts() -> int:
    """How many browser contexts live backends hold in this process (the spare not counted)."""
    chromium = _CHROMIUM
    if chromium is None or not chromium.running:
        return 0
    return chromium.call(chromium.count_contexts())


# -------------------------------------------------------------------------- the process's browser
class _Tab:
    """One backend's context and page, used only on the browser thread."""

    def __init__(self, context: Any, page: Any) -> None:
        self.context = context
        self.page = page
        self.loads = 0
        """How many documents finished loading in this page (how a click sees its navigation)."""
        self._loaded = asyncio.Event()
        page.on("load", self._count_load)

    def _count_load(self, _: Any) -> None:
        self.loads += 1
        self._loaded.set()

    async def read(self) -> tuple[str, str]:
        """Settle, then (URL, HTML); a navigation that lands meanwhile is waited for."""
        for _ in range(5):
            found = await self._settle_and_read(watch=False)
            if found is not None:
                return found
        browser = self.page.context.browser
        if self.page.is_closed() or (browser is not None and not browser.is_connected()):
            raise EnvStateError("the browser died (its page is closed)")
        raise EnvStateError("the page kept navigating and never settled")

    async def _settle_and_read(self, *, watch: bool) -> tuple[str, str] | None:
        from playwright.async_api import Error

        try:
            await self.page.wait_for_load_state("load")
            found = await self.page.evaluate(_SETTLE_AND_READ, [NODE_ATTRIBUTE, watch])
        except Error:  # the document was replaced while it was being read
            return None
        return None if found is None else (found[0], found[1])

    async def open(self, url: str) -> tuple[int, str, str]:
        response = await self.page.goto(url, wait_until="load")
        return (response.status if response else 200, *await self.read())

    async def click(self, key: str) -> tuple[str, str]:
        """A real mouse click at the element's centre (scripted when something covers it).

        When the click starts a navigation, the next document's load is waited for. Tracking
        the navigation here rather than with Playwright's actionability checks and navigation
        barrier (``locator.click``) halves the time of a click.
        """
        loads = self.loads
        aim = await self.page.evaluate(_AIM, [NODE_ATTRIBUTE, key])
        if aim is None:  # a script removed it since the page was read
            return await self.read()
        x, y, reachable = aim
        if reachable:
            await self.page.mouse.click(x, y)
        else:
            await self.page.evaluate(_SCRIPTED_CLICK, [NODE_ATTRIBUTE, key])
        found = await self._settle_and_read(watch=True)
        if found is not None:
            return found
        await self._load_after(loads)
        return await self.read()

    async def _load_after(self, loads: int) -> None:
        """Wait until a document loads after ``loads`` had, or until the navigation timeout.

        (A navigation can end with no document: a 204 answer, say.)
        """
        deadline = asyncio.get_running_loop().time() + NAVIGATION_TIMEOUT_MS / 1000
        while self.loads == loads:
            self._loaded.clear()
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return
            try:
                await asyncio.wait_for(self._loaded.wait(), remaining)
            except asyncio.TimeoutError:
                return

    async def edit(self, script: str, key: str, value: str) -> tuple[str, str]:
        """Run `_FILL` or `_SELECT` on an element; the page read after it."""
        from playwright.async_api import Error

        try:
            done = await self.page.evaluate(script, [NODE_ATTRIBUTE, key, value])
        except Error:  # a script of the page navigated away meanwhile
            done = None
        return done if done else await self.read()

    async def evaluate(self, script: str, argument: Any) -> Any:
        return await self.page.evaluate(script, argument)

    async def close(self) -> None:
        await self.context.close()


class _Chromium:
    """The Playwright driver and Chromium of this process, on their own thread.

    See the module docstring. Started on first use; stopped at interpreter exit.
    """

    def __init__(self, executable: str) -> None:
        self.executable = executable
        self.pid = os.getpid()
        self.contexts: set[Any] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="palaestra-chromium", daemon=True
        )
        self._thread.start()
        self._playwright: Any = None
        self._browser: Any = None
        self._launching: asyncio.Lock | None = None
        self._spare: asyncio.Task[_Tab] | None = None
        self._spare_origin: str | None = None
        self._closing: set[asyncio.Future[None]] = set()
        self._stopped = False

    @property
    def running(self) -> bool:
        """Whether the browser thread still takes operations (not after `stop`)."""
        return not self._stopped and self._thread.is_alive()

    def call(self, operation: Coroutine[Any, Any, T], timeout: float = CALL_TIMEOUT) -> T:
        """Run a coroutine on the browser thread and wait for its result."""
        if not self.running:
            operation.close()
            raise EnvStateError("the browser was shut down (the interpreter is exiting)")
        future = asyncio.run_coroutine_threadsafe(operation, self._loop)
        try:
            return future.result(timeout)
        except FutureTimeout as exc:
            future.cancel()
            raise EnvStateError(f"the browser did not answer within {timeout:.0f} s") from exc

    async def _ready_browser(self) -> Any:
        if self._launching is None:
            self._launching = asyncio.Lock()
        async with self._launching:
            if self._browser is None or not self._browser.is_connected():
                from playwright.async_api import async_playwright

                if self._playwright is None:
                    self._playwright = await async_playwright().start()
                self._browser = await self._playwright.chromium.launch(
                    executable_path=self.executable,
                    headless=True,
                    chromium_sandbox=os.geteuid() != 0,  # Chromium's sandbox refuses root
                    args=list(_CHROMIUM_ARGS),
                )
        return self._browser

    async def _new_tab(self, origin: str) -> _Tab:
        browser = await self._ready_browser()
        context = await browser.new_context(service_workers="block")
        context.set_default_timeout(NAVIGATION_TIMEOUT_MS)
        # Only the host's origin: the regex is matched in the driver, so allowed requests
        # never make the round trip to Python.
        off_site = re.compile("^(?!" + re.escape(origin) + "/)")
        await context.route(off_site, lambda route: route.abort("blockedbyclient"))
        return _Tab(context, await context.new_page())

    async def checkout(self, origin: str, token: str) -> _Tab:
        """A fresh tab with the session cookie: the spare when one is ready for this origin."""
        spare, self._spare = self._spare, None
        tab: _Tab | None = None
        if spare is not None and self._spare_origin == origin:
            try:
                tab = await spare
            except Exception:  # noqa: BLE001 - a failed spare is replaced by a fresh tab
                tab = None
        if tab is None or not tab.context.browser.is_connected():
            tab = await self._new_tab(origin)
        await tab.context.add_cookies([{"name": COOKIE, "value": token, "url": origin}])
        self.contexts.add(tab.context)
        return tab

    def prepare_spare(self, origin: str) -> None:
        """Start making the next episode's tab, unless one is made already (returns at once).

        Called once an episode's first page is shown: a new context costs a renderer process
        (~60 ms of CPU here), which would slow the reset it overlapped with.
        """

        def start() -> None:
            if self._spare is None or self._spare_origin != origin:
                self._spare_origin = origin
                self._spare = asyncio.ensure_future(self._new_tab(origin))

        self._loop.call_soon_threadsafe(start)

    async def release(self, tab: _Tab) -> None:
        """Close a tab's context in the background (a reset need not wait for it)."""
        closing = asyncio.ensure_future(self._close(tab))
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)

    async def _close(self, tab: _Tab) -> None:
        try:
            await tab.close()
        except Exception:  # noqa: BLE001 - the browser went away: nothing is left to close
            pass
        finally:
            self.contexts.discard(tab.context)

    async def count_contexts(self) -> int:
        """How many contexts backends hold, once the closes under way are done."""
        if self._closing:
            await asyncio.gather(*self._closing)
        return len(self.contexts)

    async def _stop(self) -> None:
        if self._spare is not None:
            self._spare.cancel()
        if self._browser is not None:
            await self._browser.close()
        if self._playwright is not None:
            await self._playwright.stop()

    def stop(self) -> None:
        """Close the browser and the driver (at exit; never hangs for long)."""
        if self.running:
            try:
                self.call(self._stop(), timeout=5)
            except Exception:  # noqa: BLE001 - exiting anyway; the driver dies with us
                pass
            self._stopped = True
            self._loop.call_soon_threadsafe(self._loop.stop)


_CHROMIUM: _Chromium | None = None
_CHROMIUM_LOCK = threading.Lock()


def _chromium() -> _Chromium:
    """This process's browser (started on first use; a forked child starts its own)."""
    global _CHROMIUM
    with _CHROMIUM_LOCK:
        if _CHROMIUM is None or _CHROMIUM.pid != os.getpid():
            problem = browser_available()
            if problem is not None:
                raise MissingDependencyError(problem)
            executable = chromium_executable()
            assert executable is not None
            _CHROMIUM = _Chromium(executable)
            atexit.register(_CHROMIUM.stop)
        return _CHROMIUM


# ------------------------------------------------------------------------------- the backend
class BrowserBackend(Backend):
    """The episode's page in its own Chromium context; the same semantics as `TextBackend`.

    Args:
        host: the process's host; its sites are served on 127.0.0.1 for the browser.
        token: the episode's session token, sent as the session cookie.
        exclude: ids of elements left out of the rendering (page chrome such as MiniWoB's
            reward display); they stay in the live page.
    """

    def __init__(self, host: Host, token: str, *, exclude: tuple[str, ...] = ()) -> None:
        self.host = host
        self.base_url = host.serve()
        self.exclude = exclude
        self._chromium = _chromium()
        self._tab: _Tab | None = self._chromium.call(self._chromium.checkout(self.base_url, token))
        self.page = render(parse_document(""), "/")
        self._opened = False

    # ------------------------------------------------------------------------------ loading
    def open(self, path: str) -> None:
        """Load a page of the host by its path (and query), and let it settle."""
        status, url, markup = self._call(self._live().open(self.base_url + path))
        if status == 403:
            raise EnvStateError("the site refused the episode's session")
        self._show(url, markup)
        if not self._opened:
            self._opened = True
            self._chromium.prepare_spare(self.base_url)

    def refresh(self) -> None:
        """Read the page again (after a script changed it)."""
        self._show(*self._call(self._live().read()))

    def evaluate(self, script: str, argument: Any = None) -> Any:
        """Run a JavaScript function (or expression) in the page; its JSON-able result."""
        return self._call(self._live().evaluate(script, argument))

    def _show(self, url: str, markup: str) -> None:
        parts = urlsplit(url)
        document = parse_document(markup)
        for identifier in self.exclude:
            node = document.get_element_by_id(identifier, None)
            if node is not None:
                node.drop_tree()
        self.page = render(document, parts.path + (f"?{parts.query}" if parts.query else ""))

    # ------------------------------------------------------------------------------ actions
    def click(self, element: Element) -> str:
        """Click the element as a user would; what it does is seen in the new page."""
        self._show(*self._call(self._live().click(self._key(element))))
        return ""

    def type(self, element: Element, text: str) -> None:
        """Replace a field's value (firing its input and change events)."""
        self._show(*self._call(self._live().edit(_FILL, self._key(element), text)))

    def select(self, element: Element, option: str) -> None:
        """Choose a combobox option by its label (firing the change events)."""
        self._show(*self._call(self._live().edit(_SELECT, self._key(element), option)))

    def check(self, element: Element) -> None:
        """Toggle a checkbox, or choose a radio button, by clicking it."""
        self._show(*self._call(self._live().click(self._key(element))))

    def close(self) -> None:
        """Close the episode's browser context (in the background; idempotent)."""
        tab, self._tab = self._tab, None
        if tab is not None and self._chromium.running:  # else the browser is gone already
            self._chromium.call(self._chromium.release(tab))

    # ------------------------------------------------------------------------------ helpers
    def _live(self) -> _Tab:
        if self._tab is None:
            raise EnvStateError("this browser backend is closed")
        return self._tab

    def _call(self, operation: Coroutine[Any, Any, T]) -> T:
        from playwright.async_api import Error

        try:
            return self._chromium.call(operation)
        except Error as exc:
            raise EnvStateError(f"the browser failed: {exc.message.splitlines()[0]}") from exc

    @staticmethod
    def _key(element: Element) -> str:
        key = element.node.get(NODE_ATTRIBUTE)
        if key is None or not key.isdigit():
            raise EnvStateError(f"{element.describe()} was not rendered by the browser backend")
        return str(key)
