"""The wiki's database and its search rule.

The template database of a world holds the articles (their bodies as HTML, and the numbers the
list pages sort by), the categories and their members, and the two state tables: ``watchlist``
(the watched articles: slug, title) and ``reports`` (error reports: id, slug, field,
correction). The watchlist starts with a few articles so that unwatching has something to do.
"""

from __future__ import annotations

import json
import random
import sqlite3

from palaestra.envs.web_nav.sites.wiki.articles import write_articles
from palaestra.envs.web_nav.sites.wiki.world import WikiData, slug_of

__all__ = ["build_database", "search_matches"]

_SCHEMA = """
CREATE TABLE articles (
    slug TEXT PRIMARY KEY, title TEXT NOT NULL, kind TEXT NOT NULL, description TEXT NOT NULL,
    fields TEXT NOT NULL, body TEXT NOT NULL,
    population INTEGER, founded INTEGER, revenue INTEGER, elevation INTEGER, length INTEGER,
    first_ascent INTEGER
);
CREATE TABLE categories (slug TEXT PRIMARY KEY, name TEXT NOT NULL, parent TEXT);
CREATE TABLE memberships (category TEXT NOT NULL, article TEXT NOT NULL,
                          PRIMARY KEY (category, article));
CREATE TABLE watchlist (slug TEXT PRIMARY KEY, title TEXT NOT NULL);
CREATE TABLE reports (id INTEGER PRIMARY KEY, slug TEXT NOT NULL, field TEXT NOT NULL,
                      correction TEXT NOT NULL);
"""


def build_database(data: WikiData, rng: random.Random) -> sqlite3.Connection:
    """The template database of a world: articles, categories and the starting watchlist."""
    articles, categories = write_articles(data, rng)
    database = sqlite3.connect(":memory:", check_same_thread=False)
    database.executescript(_SCHEMA)
    database.executemany(
        "INSERT INTO articles VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            (a.slug, a.title, a.kind, a.description, json.dumps(a.fields), a.body)
            + tuple(a.numbers.get(k) for k in _NUMBERS)
            for a in articles
        ],
    )
    database.executemany(
        "INSERT INTO categories VALUES (?,?,?)",
        [(c.slug, c.name, slug_of(c.parent) if c.parent else None) for c in categories],
    )
    database.executemany(
        "INSERT INTO memberships VALUES (?,?)",
        [(c.slug, member) for c in categories for member in c.members],
    )
    database.executemany(
        "INSERT INTO watchlist VALUES (?,?)", [(s, data.title(s)) for s in data.watched]
    )
    database.commit()
    return database


_NUMBERS = ("population", "founded", "revenue", "elevation", "length", "first_ascent")


def search_matches(titles: dict[str, str], query: str) -> list[str]:
    """The slugs the search finds for ``query``, best first.

    A title matches when it contains every word of the query (ignoring case); the exact title
    comes first, then titles that start with the query, then the rest alphabetically.
    """
    words = query.lower().split()
    if not words:
        return []
    wanted = " ".join(words)
    found = [s for s, t in titles.items() if all(w in t.lower() for w in words)]
    return sorted(
        found,
        key=lambda s: (
            titles[s].lower() != wanted,
            not titles[s].lower().startswith(wanted),
            titles[s],
        ),
    )
