"""WebNav-v0: web navigation over real local websites, in a text mode and in a real Chromium."""

from palaestra.envs.web_nav.env import WebNavEnv
from palaestra.envs.web_nav.sites import SITES, Site, register_site
from palaestra.envs.web_nav.tasks import WebTasks

__all__ = ["SITES", "Site", "WebNavEnv", "WebTasks", "register_site"]
