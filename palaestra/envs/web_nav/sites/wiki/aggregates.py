"""Level-3 questions: answers that come from several articles.

A category's articles are walked from the main page (the largest city in a country, how many
software companies were founded before 1990, which of them), a city's twin cities are visited
in turn (their mayors, their combined population), or three named articles are compared. The
infeasible one asks about a country or an industry the wiki has no category for.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from palaestra.envs.web_nav.sites.base import World
from palaestra.envs.web_nav.sites.wiki.articles import GROUP_PLURALS
from palaestra.envs.web_nav.sites.wiki.names import OCCUPATION_PLURALS
from palaestra.envs.web_nav.sites.wiki.pages import PAGE_SIZE
from palaestra.envs.web_nav.sites.wiki.plans import (
    HOME,
    hint,
    missing_name,
    named,
    open_article,
    open_category,
    records,
    visit_each,
)
from palaestra.envs.web_nav.sites.wiki.world import WikiData
from palaestra.envs.web_nav.tasks import Answer, Step, WebTaskDraft, answer, click, give_up
from palaestra.tasks.normalize import AnswerKind

__all__ = ["LEVEL_3", "METRICS", "Group", "Metric", "category_groups", "walk"]


@dataclass(frozen=True)
class Metric:
    """A number articles of one kind can be ranked, counted or summed by."""

    kind: str
    value: Callable[[Any], int]
    most: str
    """Says the article has the largest value: "has the largest population"."""
    least: str
    threshold: str | None = None
    """Says an article's value is above (or, with ``below``, under) ``{t}``."""
    below: bool = False
    show: Callable[[int], str] = str
    """How the threshold is written."""
    total: str | None = None
    """Asks for the sum over a group ``{g}``."""


def _date_number(day: dt.date) -> int:
    return day.toordinal()


METRICS: tuple[Metric, ...] = (
    Metric("city", lambda c: c.population, "has the largest population",
           "has the smallest population", "have a population of more than {t}",
           show="{:,}".format, total="What is the combined population of {g}?"),
    Metric("city", lambda c: c.founded, "was founded most recently", "was founded first",
           "were founded before {t}", below=True),
    Metric("company", lambda k: k.revenue, "has the highest revenue", "has the lowest revenue",
           "have a revenue of more than {t}", show="${:,}".format),
    Metric("company", lambda k: k.founded, "was founded most recently", "was founded first",
           "were founded before {t}", below=True),
    Metric("company", lambda k: k.employees, "has the most employees", "has the fewest employees",
           "have more than {t} employees", show="{:,}".format,
           total="What is the total number of employees of {g}?"),
    Metric("mountain", lambda m: m.elevation, "is the highest", "is the lowest",
           "are higher than {t} m", show="{:,}".format),
    Metric("mountain", lambda m: m.first_ascent, "was climbed most recently", "was climbed first",
           "were first climbed before {t}", below=True),
    Metric("river", lambda r: r.length, "is the longest", "is the shortest",
           "are longer than {t} km", show="{:,}".format),
    Metric("person", lambda p: _date_number(p.born), "was born most recently", "was born first"),
    Metric("species", lambda s: s.length_cm, "grows the longest", "is the smallest",
           "grow longer than {t} cm"),
    Metric("species", lambda s: s.described, "was described most recently",
           "was described first", "were described before {t}", below=True),
)  # fmt: skip


@dataclass(frozen=True)
class Group:
    """A category walked from the main page: its top category, its name and how to say it."""

    kind: str
    top: str
    category: str
    phrase: str
    members: tuple[str, ...]


_TOPS = {"mountain": "Mountains", "river": "Rivers"}


def category_groups(data: WikiData, kind: str) -> list[Group]:
    """The categories of one kind small enough to walk (3 to one page of articles)."""
    found = []
    for name, members in data.categories.items():
        if kind == "city" and name.startswith("Cities in "):
            found.append(Group(kind, "Cities", name, f"the cities in {name[10:]}", members))
        elif kind == "company" and name.endswith(" companies"):
            phrase = f"the {name.lower()} on the wiki"
            found.append(Group(kind, "Companies", name, phrase, members))
        elif name.startswith(f"{_TOPS.get(kind)} of "):
            phrase = f"the {name[0].lower()}{name[1:]}"
            found.append(Group(kind, _TOPS[kind], name, phrase, members))
        elif kind == "person" and name in OCCUPATION_PLURALS.values():
            found.append(Group(kind, "People", name, f"the {name.lower()} on the wiki", members))
        elif kind == "species" and name in GROUP_PLURALS.values():
            found.append(Group(kind, "Species", name, f"the {name.lower()} on the wiki", members))
    return [g for g in found if 3 <= len(g.members) <= PAGE_SIZE]


def _between(low: int, high: int) -> int:
    """The roundest whole number t with ``low < t <= high``."""
    for step in (1_000_000, 100_000, 10_000, 1_000, 100, 10, 5, 1):
        t = (low // step + 1) * step
        if t <= high:
            return t
    return high  # pragma: no cover - step 1 always fits


def walk(group: Group, data: WikiData) -> tuple[Step, ...]:
    """From the main page, open a category and each of its articles."""
    titles = [data.title(s) for s in group.members]
    return (*open_category(group.top, group.category), *visit_each(titles))


def category_extreme(world: World, rng: random.Random) -> WebTaskDraft | None:
    """The article of a category with the largest or smallest value: the largest city of X."""
    data: WikiData = world.data
    metric = rng.choice(METRICS)
    groups = category_groups(data, metric.kind)
    if not groups:
        return None
    group = rng.choice(groups)
    scored = sorted((metric.value(records(data, metric.kind)[s]), s) for s in group.members)
    largest = rng.random() < 0.5
    pick, runner_up = (scored[-1], scored[-2]) if largest else (scored[0], scored[1])
    if pick[0] == runner_up[0]:
        return None
    words = metric.most if largest else metric.least
    question = rng.choice(["Which of {g} {w}?", "Among {g}, which one {w}?"])
    title = data.title(pick[1])
    return WebTaskDraft(
        prompt=question.format(g=group.phrase, w=words) + hint(rng, "name"),
        start=HOME,
        plan=(*walk(group, data), answer(title)),
        answer=Answer(title, "text"),
        metadata={"template": "category_extreme"},
    )


def category_count(world: World, rng: random.Random) -> WebTaskDraft | None:
    """How many (or which) articles of a category are above or below a threshold."""
    data: WikiData = world.data
    metric = rng.choice([m for m in METRICS if m.threshold])
    groups = category_groups(data, metric.kind)
    if not groups or metric.threshold is None:
        return None
    group = rng.choice(groups)
    values = {s: metric.value(records(data, metric.kind)[s]) for s in group.members}
    ordered = sorted(set(values.values()))
    if len(ordered) < 2:
        return None
    i = rng.randrange(1, len(ordered))
    if metric.below:  # value < t
        t = _between(ordered[i - 1], ordered[i])
        chosen = [s for s, v in values.items() if v < t]
    else:  # value > t
        t = _between(ordered[i - 1] - 1, ordered[i] - 1)
        chosen = [s for s, v in values.items() if v > t]
    condition = metric.threshold.format(t=metric.show(t))
    kind: AnswerKind
    if rng.random() < 0.5:
        expected, kind = str(len(chosen)), "number"
        prompt = f"How many of {group.phrase} {condition}?"
    else:
        expected, kind = ", ".join(sorted(data.title(s) for s in chosen)), "set"
        prompt = f"Which of {group.phrase} {condition}?"
    return WebTaskDraft(
        prompt=prompt + hint(rng, kind),
        start=HOME,
        plan=(*walk(group, data), answer(expected)),
        answer=Answer(expected, kind),
        metadata={"template": "category_count"},
    )


def category_total(world: World, rng: random.Random) -> WebTaskDraft | None:
    """The sum of a number over a category: the combined population of the cities in X."""
    data: WikiData = world.data
    metric = rng.choice([m for m in METRICS if m.total])
    groups = category_groups(data, metric.kind)
    if not groups or metric.total is None:
        return None
    group = rng.choice(groups)
    total = sum(metric.value(records(data, metric.kind)[s]) for s in group.members)
    return WebTaskDraft(
        prompt=metric.total.format(g=group.phrase) + hint(rng, "number"),
        start=HOME,
        plan=(*walk(group, data), answer(str(total))),
        answer=Answer(str(total), "number"),
        metadata={"template": "category_total"},
    )


def twin_cities(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Something about each twin city of a city: their mayors, countries or population."""
    data: WikiData = world.data
    city = data.cities[rng.choice(sorted(s for s, c in data.cities.items() if len(c.twins) >= 2))]
    twins = [data.cities[t] for t in city.twins]
    choice = rng.choice(["mayors", "countries", "population", "largest"])
    kind: AnswerKind
    if choice == "mayors":
        expected, kind = ", ".join(sorted(data.title(t.mayor) for t in twins)), "set"
        prompt = f"Who are the mayors of the twin cities of {city.name}?"
    elif choice == "countries":
        expected = ", ".join(sorted({data.title(t.country) for t in twins}))
        kind, prompt = "set", f"In which countries are the twin cities of {city.name}?"
    elif choice == "population":
        expected, kind = str(sum(t.population for t in twins)), "number"
        prompt = f"What is the combined population of the twin cities of {city.name}?"
    else:
        expected, kind = max(twins, key=lambda t: t.population).name, "text"
        prompt = f"Which of the twin cities of {city.name} has the largest population?"
    return WebTaskDraft(
        prompt=prompt + hint(rng, "name" if kind == "text" else kind),
        start=HOME,
        plan=(*open_article(city.name), *visit_each([t.name for t in twins]), answer(expected)),
        answer=Answer(expected, kind),
        metadata={"template": "twin_cities"},
    )


def compare_three(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Which of three named articles has the largest (or smallest) value."""
    data: WikiData = world.data
    metric = rng.choice(METRICS)
    slugs = rng.sample(sorted(records(data, metric.kind)), 3)
    scored = sorted((metric.value(records(data, metric.kind)[s]), s) for s in slugs)
    largest = rng.random() < 0.5
    pick, runner_up = (scored[-1], scored[-2]) if largest else (scored[0], scored[1])
    if pick[0] == runner_up[0]:
        return None
    a, b, c = (named(data, s) for s in slugs)
    question = rng.choice(["Which of {a}, {b} and {c} {w}?", "Of {a}, {b} and {c}, which one {w}?"])
    words = metric.most if largest else metric.least
    title = data.title(pick[1])
    plan = [step for s in slugs for step in open_article(data.title(s))]
    return WebTaskDraft(
        prompt=question.format(a=a, b=b, c=c, w=words) + hint(rng, "name"),
        start=HOME,
        plan=(*plan, answer(title)),
        answer=Answer(title, "text"),
        metadata={"template": "compare_three"},
    )


_MISSING_INDUSTRIES = ("toy", "furniture", "mining", "banking", "publishing", "brewing")


def missing_category(world: World, rng: random.Random) -> WebTaskDraft | None:
    """A category question about a country or an industry the wiki does not have."""
    data: WikiData = world.data
    if rng.random() < 0.5:
        country = missing_name(data, "country", rng)
        if country is None:
            return None
        return WebTaskDraft(
            prompt=f"Which of the cities in {country} has the largest population?",
            start=HOME,
            plan=(
                *open_article(country)[:2],
                give_up(f"The wiki has no country called {country}."),
            ),
            feasible=False,
            metadata={"template": "missing_category"},
        )
    industry = rng.choice(_MISSING_INDUSTRIES)
    year = rng.randrange(1950, 2010, 5)
    return WebTaskDraft(
        prompt=f"How many of the {industry} companies on the wiki were founded before {year}?",
        start=HOME,
        plan=(
            click("link", "Companies"),
            give_up(f"The wiki has no category of {industry} companies."),
        ),
        feasible=False,
        metadata={"template": "missing_category"},
    )


LEVEL_3 = [
    category_extreme,
    category_extreme,
    category_count,
    category_count,
    category_total,
    twin_cities,
    compare_three,
    missing_category,
]
"""Level-3 questions, weighted by repetition."""
