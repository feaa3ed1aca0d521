"""The WebNav sites, by name: each a `Site` mounted at ``/<name>`` on the host."""

from __future__ import annotations

from palaestra.envs.web_nav.sites.base import Site
from palaestra.errors import RegistrationError

__all__ = ["SITES", "Site", "register_site"]

SITES: dict[str, Site] = {}
"""Every site by name: the three below, and those added with `register_site`."""


def register_site(site: Site) -> None:
    """Add a site of your own: its tasks can then be played with ``WebNavEnv(site=name)``."""
    known = SITES.get(site.name)
    if known is not None and type(known) is not type(site):
        raise RegistrationError(f"a site named {site.name!r} is already registered: {known}")
    SITES[site.name] = site


def _register() -> None:
    from palaestra.envs.web_nav.sites.forms import FormsSite
    from palaestra.envs.web_nav.sites.shop import ShopSite
    from palaestra.envs.web_nav.sites.wiki import WikiSite

    for site in (ShopSite(), WikiSite(), FormsSite()):
        register_site(site)


_register()
