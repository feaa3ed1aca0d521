"""The wiki's pages: home, search, articles, categories, lists, watchlist and error reports.

Content pages only read the episode's database; the watchlist (add or remove, from an article
or from the watchlist page) and error reports write to it, then redirect (303) like a real site.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from palaestra.envs.web_nav.sites.base import esc, layout, paginate, posted, session_of
from palaestra.envs.web_nav.sites.wiki.articles import TOP_CATEGORIES, href
from palaestra.envs.web_nav.sites.wiki.database import search_matches

if TYPE_CHECKING:
    import sqlite3

    from starlette.requests import Request
    from starlette.routing import BaseRoute

__all__ = ["LISTS", "PAGE_SIZE", "RESULTS_PER_PAGE", "WikiList", "routes"]

RESULTS_PER_PAGE = 8
PAGE_SIZE = 10
"""Rows of a category or list page."""
MAX_CORRECTION = 200


@dataclass(frozen=True)
class WikiList:
    """A sortable list page over one kind of article."""

    title: str
    kind: str
    name_label: str
    columns: tuple[tuple[str, str, str], ...]
    """(column, header, how "Sort by ..." names it) for each number column."""
    unit: dict[str, str]


LISTS = {
    "cities-by-population": WikiList(
        "List of cities by population",
        "city",
        "City",
        (("population", "Population", "population"), ("founded", "Founded", "founding year")),
        {},
    ),
    "companies-by-revenue": WikiList(
        "List of companies by revenue",
        "company",
        "Company",
        (("revenue", "Revenue", "revenue"), ("founded", "Founded", "founding year")),
        {"revenue": "$"},
    ),
    "mountains-by-elevation": WikiList(
        "List of mountains by elevation",
        "mountain",
        "Mountain",
        (("elevation", "Elevation", "elevation"), ("first_ascent", "First ascent", "first ascent")),
        {"elevation": " m"},
    ),
    "rivers-by-length": WikiList(
        "List of rivers by length",
        "river",
        "River",
        (("length", "Length", "length"),),
        {"length": " km"},
    ),
}
ASCENDING_FIRST = {"title", "founded", "first_ascent"}
"""Sorts whose natural order is ascending (names A to Z, earliest years first)."""


def _page(title: str, body: str, *, search: str = "", status: int = 200) -> HTMLResponse:
    """A page with the search box (holding ``search``) above its body."""
    return _html(title, _search_form(search) + body, status)


def _html(title: str, body: str, status: int = 200) -> HTMLResponse:
    from palaestra.envs.web_nav.sites.wiki import WikiSite  # the package imports this module

    page = layout(WikiSite, title, body, nav=[("Watchlist", "/watchlist")])
    return HTMLResponse(page, status_code=status)


def _search_form(value: str = "") -> str:
    return (
        f'<form method="get" action="{href("/search")}" role="search">'
        f'<label for="q">Search</label> <input id="q" name="q" type="text" value="{esc(value)}"> '
        '<button type="submit">Search</button></form>'
    )


def _pager(path: str, params: dict[str, str], page: int, pages: int) -> str:
    """The "Page n of m" line with its previous and next links (nothing for one page)."""
    if pages <= 1:
        return ""
    links = []
    if page > 1:
        links.append(_a(path + "?" + urlencode({**params, "page": page - 1}), "Previous page"))
    if page < pages:
        links.append(_a(path + "?" + urlencode({**params, "page": page + 1}), "Next page"))
    return f"<p>Page {page} of {pages}. {' '.join(links)}</p>"


def _a(path: str, text: str) -> str:
    """A link to a wiki page (``path`` relative to the site root)."""
    return f'<a href="{href(path)}">{esc(text)}</a>'


def _article_link(slug: str, title: str) -> str:
    return _a("/article/" + slug, title)


def _not_found(what: str) -> HTMLResponse:
    body = f"<h1>Not found</h1><p>{esc(what)}</p><p>Try the search box above.</p>"
    return _page("Not found", body, status=404)


# --------------------------------------------------------------------------------------- pages
async def home(request: Request) -> Response:
    """The main page: search, featured articles, categories and lists."""
    session = session_of(request)
    titles = session.world.data.titles
    ordered = sorted(titles, key=titles.get)
    featured = [ordered[(i * 61 + session.world.seed * 17) % len(ordered)] for i in range(3)]
    picks = "".join(f"<li>{_article_link(s, titles[s])}</li>" for s in featured)
    cats = "".join(
        f'<li><a href="{href("/category/" + c)}">{esc(c)}</a></li>' for c in TOP_CATEGORIES
    )
    lists = "".join(
        f'<li><a href="{href("/list/" + slug)}">{esc(w.title)}</a></li>'
        for slug, w in LISTS.items()
    )
    body = (
        f"<h1>Palaestra Wiki</h1><p>The free encyclopedia of {len(titles)} articles.</p>"
        f"{_search_form()}"
        f"<h2>Featured articles</h2><ul>{picks}</ul>"
        f"<h2>Browse by category</h2><ul>{cats}</ul><h2>Lists</h2><ul>{lists}</ul>"
    )
    return _html("Main page", body)


async def search(request: Request) -> Response:
    """Search results: titles containing every word of the query, 8 a page."""
    query = request.query_params.get("q", "").strip()
    if not query:
        return _page("Search", "<h1>Search</h1><p>Enter a search term.</p>")
    titles = session_of(request).world.data.titles
    found = search_matches(titles, query)
    if not found:
        body = (
            f"<h1>Search results</h1><p>No results for &quot;{esc(query)}&quot;.</p>"
            "<p>Check the spelling or try fewer words.</p>"
        )
        return _page("No results", body, search=query)
    paged = paginate(found, request.query_params.get("page"), RESULTS_PER_PAGE)
    page, pages, shown = paged.number, paged.pages, paged.shown
    database = session_of(request).database
    described = dict(
        database.execute(
            f"SELECT slug, description FROM articles WHERE slug IN ({','.join('?' * len(shown))})",  # noqa: S608
            shown,
        ).fetchall()
    )
    items = "".join(f"<li>{_article_link(s, titles[s])} - {esc(described[s])}</li>" for s in shown)
    count = f"{len(found)} result{'s' if len(found) != 1 else ''}"
    body = (
        f"<h1>Search results</h1><p>{count} for &quot;{esc(query)}&quot;.</p><ul>{items}</ul>"
        + _pager("/search", {"q": query}, page, pages)
    )
    return _page(f"Search: {query}", body, search=query)


async def article(request: Request) -> Response:
    """An article, with its watchlist button and the "Report an error" link."""
    slug = request.path_params["slug"]
    database = session_of(request).database
    row = database.execute("SELECT title, body FROM articles WHERE slug = ?", (slug,)).fetchone()
    if row is None:
        return _not_found(f"The wiki has no article called {slug.replace('_', ' ')}.")
    notices = {
        "added": "This article was added to your watchlist.",
        "removed": "This article was removed from your watchlist.",
        "reported": "Thank you: your error report was sent to the editors.",
    }
    notice = notices.get(request.query_params.get("done", ""), "")
    watched = database.execute("SELECT 1 FROM watchlist WHERE slug = ?", (slug,)).fetchone()
    action, label = ("remove", "Remove from watchlist") if watched else ("add", "Add to watchlist")
    tools = (
        f'<form method="post" action="{href("/watchlist")}">'
        f'<input type="hidden" name="slug" value="{esc(slug)}">'
        '<input type="hidden" name="return" value="article">'
        f'<button type="submit" name="action" value="{action}">{label}</button> '
        f'<a href="{href("/article/" + slug + "/report")}">Report an error</a></form>'
    )
    body = (
        f'<p class="notice">{esc(notice)}</p>' if notice else ""
    ) + f"<h1>{esc(row['title'])}</h1>{tools}{row['body']}"
    return _page(row["title"], body)


async def category(request: Request) -> Response:
    """A category: its parent, subcategories and articles, 10 a page."""
    slug = request.path_params["slug"]
    database = session_of(request).database
    row = database.execute("SELECT name, parent FROM categories WHERE slug = ?", (slug,)).fetchone()
    if row is None:
        return _not_found(f"The wiki has no category called {slug.replace('_', ' ')}.")
    parts = [f"<h1>Category: {esc(row['name'])}</h1>"]
    if row["parent"]:
        parent = database.execute("SELECT name FROM categories WHERE slug = ?", (row["parent"],))
        name = parent.fetchone()["name"]
        parts.append(
            f'<p>Part of <a href="{href("/category/" + row["parent"])}">{esc(name)}</a>.</p>'
        )
    children = database.execute(
        "SELECT slug, name FROM categories WHERE parent = ? ORDER BY name", (slug,)
    ).fetchall()
    if children:
        items = "".join(
            f'<li><a href="{href("/category/" + c["slug"])}">{esc(c["name"])}</a></li>'
            for c in children
        )
        parts.append(f"<h2>Subcategories</h2><ul>{items}</ul>")
    members = database.execute(
        "SELECT a.slug, a.title FROM memberships m JOIN articles a ON a.slug = m.article "
        "WHERE m.category = ? ORDER BY a.title",
        (slug,),
    ).fetchall()
    paged = paginate(members, request.query_params.get("page"), PAGE_SIZE)
    page, pages, first, shown = paged.number, paged.pages, paged.first, paged.shown
    items = "".join(f"<li>{_article_link(m['slug'], m['title'])}</li>" for m in shown)
    parts.append(
        f"<h2>Pages in this category</h2><p>Showing {first + 1}-{first + len(shown)} of "
        f"{len(members)}.</p><ul>{items}</ul>" + _pager(f"/category/{slug}", {}, page, pages)
    )
    return _page(f"Category: {row['name']}", "".join(parts))


async def listing(request: Request) -> Response:
    """A list page: a table of one kind of article, sortable by each column, 10 rows a page."""
    slug = request.path_params["slug"]
    spec = LISTS.get(slug)
    if spec is None:
        return _not_found(f"The wiki has no list called {slug}.")
    columns = {c for c, _, _ in spec.columns} | {"title"}
    default = spec.columns[0][0]
    sort = request.query_params.get("sort", default)
    sort = sort if sort in columns else default
    natural = "asc" if sort in ASCENDING_FIRST else "desc"
    order = request.query_params.get("order", natural)
    order = order if order in ("asc", "desc") else natural
    rows = list_rows(session_of(request).database, slug, sort, order)
    paged = paginate(rows, request.query_params.get("page"), PAGE_SIZE)
    page, pages, first = paged.number, paged.pages, paged.first
    names = {"title": "name"} | {c: words for c, _, words in spec.columns}
    sort_links = " ".join(
        f'<a href="{href(f"/list/{slug}?" + urlencode({"sort": c}))}">Sort by {esc(w)}</a>'
        for c, w in names.items()
    )
    flipped = "desc" if order == "asc" else "asc"
    reverse = _a(f"/list/{slug}?" + urlencode({"sort": sort, "order": flipped}), "Reverse order")
    header = "".join(f"<th>{esc(h)}</th>" for _, h, _ in spec.columns)
    body_rows = "".join(
        f"<tr><td>{first + i + 1}</td><td>{_article_link(r['slug'], r['title'])}</td>"
        + "".join(f"<td>{_number(spec, c, r[c])}</td>" for c, _, _ in spec.columns)
        + "</tr>"
        for i, r in enumerate(paged.shown)
    )
    body = (
        f"<h1>{esc(spec.title)}</h1><p>Sorted by {esc(names[sort])}, {_order_words(sort, order)}."
        f" {sort_links} {reverse}</p>"
        f"<table><tr><th>#</th><th>{esc(spec.name_label)}</th>{header}</tr>{body_rows}</table>"
        + _pager(f"/list/{slug}", {"sort": sort, "order": order}, page, pages)
    )
    return _page(spec.title, body)


def list_rows(database: sqlite3.Connection, slug: str, sort: str, order: str) -> list[sqlite3.Row]:
    """A list's rows in the order the page shows them (ties broken by title)."""
    spec = LISTS[slug]
    direction = "ASC" if order == "asc" else "DESC"
    cursor = database.execute(
        f"SELECT slug, title, {', '.join(c for c, _, _ in spec.columns)} FROM articles "  # noqa: S608
        f"WHERE kind = ? ORDER BY {sort} {direction}, title ASC",
        (spec.kind,),
    )
    return list(cursor.fetchall())


def _number(spec: WikiList, column: str, value: int) -> str:
    unit = spec.unit.get(column, "")
    if column in ("founded", "first_ascent"):
        return str(value)
    return f"${value:,}" if unit == "$" else f"{value:,}{unit}"


def _order_words(sort: str, order: str) -> str:
    if sort == "title":
        return "A to Z" if order == "asc" else "Z to A"
    if sort in ("founded", "first_ascent"):
        return "earliest first" if order == "asc" else "latest first"
    return "lowest first" if order == "asc" else "highest first"


async def watchlist(request: Request) -> Response:
    """The watchlist (GET), or a change to it (POST: add or remove an article)."""
    session = session_of(request)
    database = session.database
    if request.method == "POST":
        form = await posted(request)
        slug, action = str(form.get("slug", "")), str(form.get("action", ""))
        row = database.execute("SELECT title FROM articles WHERE slug = ?", (slug,)).fetchone()
        if row is None:
            return _not_found("That article does not exist, so it cannot be watched.")
        if action not in ("add", "remove"):
            error = "Choose whether to add or remove the article."
            body = f'<h1>Watchlist</h1><p class="error">{error}</p>'
            return _page("Watchlist", body, status=400)
        if action == "add":
            database.execute("INSERT OR IGNORE INTO watchlist VALUES (?, ?)", (slug, row["title"]))
        else:
            database.execute("DELETE FROM watchlist WHERE slug = ?", (slug,))
        database.commit()
        if form.get("return") == "watchlist":
            return RedirectResponse("/wiki/watchlist", status_code=303)
        done = "added" if action == "add" else "removed"
        return RedirectResponse(f"/wiki/article/{slug}?done={done}", status_code=303)
    rows = database.execute("SELECT slug, title FROM watchlist ORDER BY title").fetchall()
    if not rows:
        body = (
            "<h1>Your watchlist</h1><p>Your watchlist is empty. Use &quot;Add to watchlist&quot; "
            "on an article to follow it.</p>"
        )
        return _page("Watchlist", body)
    paged = paginate(rows, request.query_params.get("page"), PAGE_SIZE)
    page, pages = paged.number, paged.pages
    items = "".join(
        f"<li>{_article_link(r['slug'], r['title'])} "
        f'<form method="post" action="{href("/watchlist")}">'
        f'<input type="hidden" name="slug" value="{esc(r["slug"])}">'
        '<input type="hidden" name="return" value="watchlist">'
        f'<button type="submit" name="action" value="remove">Unwatch {esc(r["title"])}</button>'
        "</form></li>"
        for r in paged.shown
    )
    count = f"{len(rows)} article{'s' if len(rows) != 1 else ''}"
    body = f"<h1>Your watchlist</h1><p>You are watching {count}.</p><ul>{items}</ul>" + _pager(
        "/watchlist", {}, page, pages
    )
    return _page("Watchlist", body)


async def report(request: Request) -> Response:
    """The "Report an error" form of an article (GET), and sending it (POST)."""
    slug = request.path_params["slug"]
    database = session_of(request).database
    row = database.execute("SELECT title, fields FROM articles WHERE slug = ?", (slug,)).fetchone()
    if row is None:
        return _not_found(f"The wiki has no article called {slug.replace('_', ' ')}.")
    fields: list[str] = json.loads(row["fields"])
    chosen, correction, errors = "", "", {}
    if request.method == "POST":
        form = await posted(request)
        chosen = str(form.get("field", ""))
        correction = " ".join(str(form.get("correction", "")).split())
        if chosen not in fields:
            errors["field"] = "Choose the field that is wrong."
        if not correction:
            errors["correction"] = "Enter what the field should say."
        elif len(correction) > MAX_CORRECTION:
            errors["correction"] = f"Keep the correction under {MAX_CORRECTION} characters."
        if not errors:
            database.execute(
                "INSERT INTO reports (slug, field, correction) VALUES (?, ?, ?)",
                (slug, chosen, correction),
            )
            database.commit()
            return RedirectResponse(f"/wiki/article/{slug}?done=reported", status_code=303)
    options = '<option value="">Choose a field</option>' + "".join(
        f'<option value="{esc(f)}"{" selected" if f == chosen else ""}>{esc(f)}</option>'
        for f in fields
    )

    def error(name: str) -> str:
        return f'<p class="error">{esc(errors[name])}</p>' if name in errors else ""

    body = (
        f"<h1>Report an error in {esc(row['title'])}</h1>"
        "<p>Tell the editors which field of the infobox is wrong and what it should say.</p>"
        f'<form method="post" action="{href("/article/" + slug + "/report")}">'
        f'<p><label for="field">Field</label> <select id="field" name="field">{options}</select>'
        "</p>"
        f"{error('field')}"
        f'<p><label for="correction">Correction</label> '
        f'<input id="correction" name="correction" type="text" value="{esc(correction)}"></p>'
        f"{error('correction')}"
        f'<p><button type="submit">Send report</button> '
        f'<a href="{href("/article/" + slug)}">Cancel</a></p></form>'
    )
    return _page(f"Report an error: {row['title']}", body, status=422 if errors else 200)


def routes() -> list[BaseRoute]:
    """The wiki's routes, relative to the site root."""
    return [
        Route("/", home),
        Route("/search", search),
        Route("/article/{slug}", article),
        Route("/article/{slug}/report", report, methods=["GET", "POST"]),
        Route("/category/{slug}", category),
        Route("/list/{slug}", listing),
        Route("/watchlist", watchlist, methods=["GET", "POST"]),
    ]
