"""The shop site: a catalog to search and filter, a cart, a checkout and the customer's orders."""

from __future__ import annotations

from typing import TYPE_CHECKING

from palaestra.envs.web_nav.sites.base import Site, TaskTemplate, World
from palaestra.envs.web_nav.sites.shop.catalog import generate_catalog
from palaestra.envs.web_nav.sites.shop.orders import build_database

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

__all__ = ["ShopSite"]


class ShopSite(Site):
    """An online shop where the agent is the signed-in customer.

    Pages: home (search, categories), results (filters, sorting, 8 per page), product (options,
    quantity, add to cart, a JavaScript delivery estimate), cart, checkout, confirmation, and
    My orders with each order's detail. Placed orders are the verified state.
    """

    name = "shop"
    title = "Palaestra Shop"
    description = (
        "an online shop: search and filter products, choose options, add them to the cart, "
        "check out, and look up your past orders"
    )
    state_tables = ("orders", "order_items")
    worlds = 8
    home = "/"

    def generate(self, seed: int) -> World:
        """World ``seed``: a catalog of 120-200 products, the customer and 2-4 past orders."""
        catalog = generate_catalog(seed)
        return World(site=self.name, seed=seed, data=catalog, template=build_database(catalog))

    def routes(self) -> list[BaseRoute]:
        """The shop's pages, form handlers and its one JSON endpoint."""
        from palaestra.envs.web_nav.sites.shop import checkout, pages

        return [*pages.ROUTES, *checkout.ROUTES]

    def templates(self) -> dict[int, list[TaskTemplate]]:
        """Questions, purchases and impossible requests, by level."""
        from palaestra.envs.web_nav.sites.shop.purchases import PURCHASES
        from palaestra.envs.web_nav.sites.shop.questions import QUESTIONS

        return {level: QUESTIONS[level] + PURCHASES[level] for level in (1, 2, 3)}
