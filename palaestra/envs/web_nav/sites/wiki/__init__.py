"""The wiki: a generated encyclopedia of fictional places, people, companies and nature.

About 190 articles a world (countries, cities, people, companies, mountains, rivers, species),
each with an infobox whose values link to related articles, short prose, "See also" and
categories. Pages: the main page (search, featured articles, categories, lists), search results
(8 a page, the exact title first), articles, category pages and sortable list pages (10 a page).
The state an episode can change is small: the watchlist (``watchlist``: watch or unwatch an
article) and error reports (``reports``: an infobox field and its correction). No JavaScript.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from palaestra.envs.web_nav.sites.base import Site, TaskTemplate, World
from palaestra.envs.web_nav.sites.wiki.database import build_database
from palaestra.envs.web_nav.sites.wiki.world import generate_data

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

__all__ = ["WikiSite"]


class WikiSite(Site):
    """An encyclopedia to look things up in, with a watchlist and error reports."""

    name = "wiki"
    title = "Palaestra Wiki"
    description = (
        "an encyclopedia of fictional cities, people, companies, countries, rivers, mountains "
        "and species, with search, categories, list pages and a personal watchlist"
    )
    state_tables = ("watchlist", "reports")
    worlds = 6
    home = "/"

    def generate(self, seed: int) -> World:
        """World ``seed``: its records and the database of its articles and watchlist."""
        rng = random.Random(f"wiki/world/{seed}")
        data = generate_data(rng)
        return World(site=self.name, seed=seed, data=data, template=build_database(data, rng))

    def routes(self) -> list[BaseRoute]:
        """Home, search, articles, categories, lists, the watchlist and error reports."""
        from palaestra.envs.web_nav.sites.wiki.pages import routes

        return routes()

    def templates(self) -> dict[int, list[TaskTemplate]]:
        """Look-ups, hops and aggregations over the articles; watchlist and report edits."""
        from palaestra.envs.web_nav.sites.wiki import aggregates, edits, lookups

        return {
            1: [*lookups.LEVEL_1, *edits.LEVEL_1],
            2: [*lookups.LEVEL_2, *edits.LEVEL_2],
            3: [*aggregates.LEVEL_3, *edits.LEVEL_3],
        }
