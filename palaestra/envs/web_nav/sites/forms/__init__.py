"""The forms site: a services portal whose tasks are mostly filling in forms right.

Modules: `world` (generated content and the template database), `rules` (what each form
accepts, free times, booking references), `widgets` (labelled fields), `account_pages` and
`booking_pages` (the routes), `tasks` (the task templates by level).
"""

from palaestra.envs.web_nav.sites.forms.site import FormsSite

__all__ = ["FormsSite"]
