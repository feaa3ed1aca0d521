"""The shop site (`ShopSite`): catalog, cart, checkout and orders; see `site`."""

from palaestra.envs.web_nav.sites.shop.site import ShopSite

__all__ = ["ShopSite"]
