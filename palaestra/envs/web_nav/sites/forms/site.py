"""`FormsSite`: the forms-heavy services portal (accounts, settings, bookings, support)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from palaestra.envs.web_nav.sites.base import Site, TaskTemplate, World
from palaestra.envs.web_nav.sites.forms.world import build_database, generate_data

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

__all__ = ["FormsSite"]


class FormsSite(Site):
    """A city services portal: sign up, settings, booking appointments, support tickets.

    Its forms validate on the server (usernames, emails, passwords, dates, opening hours, free
    times) and save only valid submissions; the booking form's free times come from a
    JavaScript button. State tables: accounts, settings (the signed-in user's row), bookings
    and tickets.
    """

    name = "forms"
    title = "Palaestra Services"
    description = (
        "a city services portal: sign up, account settings, booking appointments for services "
        "(with opening hours and free times), your bookings, and support tickets"
    )
    state_tables = ("accounts", "settings", "bookings", "tickets")
    worlds = 32

    def generate(self, seed: int) -> World:
        """World ``seed``: its records and the template database holding them."""
        data = generate_data(seed)
        return World(site=self.name, seed=seed, data=data, template=build_database(data))

    def routes(self) -> list[BaseRoute]:
        """The pages, the forms they post to and the free-times endpoint."""
        from palaestra.envs.web_nav.sites.forms.account_pages import ROUTES as ACCOUNT_ROUTES
        from palaestra.envs.web_nav.sites.forms.booking_pages import ROUTES as BOOKING_ROUTES

        return [*ACCOUNT_ROUTES, *BOOKING_ROUTES]

    def templates(self) -> dict[int, list[TaskTemplate]]:
        """The task templates by level."""
        from palaestra.envs.web_nav.sites.forms.tasks import TEMPLATES

        return TEMPLATES
