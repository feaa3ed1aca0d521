"""The forms site's task templates by level (see the level modules for what each asks)."""

from __future__ import annotations

from palaestra.envs.web_nav.sites.base import TaskTemplate
from palaestra.envs.web_nav.sites.forms.tasks_level1 import LEVEL_1
from palaestra.envs.web_nav.sites.forms.tasks_level2 import LEVEL_2
from palaestra.envs.web_nav.sites.forms.tasks_level3 import LEVEL_3

__all__ = ["TEMPLATES"]

TEMPLATES: dict[int, list[TaskTemplate]] = {1: LEVEL_1, 2: LEVEL_2, 3: LEVEL_3}
