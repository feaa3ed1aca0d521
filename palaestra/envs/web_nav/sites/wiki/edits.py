"""Tasks that change the episode's state: the watchlist and error reports, at every level.

Level 1 unwatches articles from the watchlist page. Level 2 watches an article found by its
title or by one link ("the mayor of X"), swaps one watched article for another, or files an
error report on an infobox field. Level 3 watches several articles, the article a category
walk finds (the largest city of a country), every twin city of a city, or reports an error on
an article reached through a link. ``changes`` hold exactly the rows that must change: a
watched article is ``{"slug", "title"}``; the first report of an episode has id 1.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from palaestra.envs.web_nav.sites.base import World
from palaestra.envs.web_nav.sites.wiki.aggregates import METRICS, category_groups, walk
from palaestra.envs.web_nav.sites.wiki.articles import long_date
from palaestra.envs.web_nav.sites.wiki.plans import (
    FACTS,
    HOME,
    Fact,
    chain,
    named,
    open_article,
    records,
)
from palaestra.envs.web_nav.sites.wiki.world import WikiData
from palaestra.envs.web_nav.tasks import (
    Step,
    WebTaskDraft,
    answer,
    back,
    click,
    select,
    type_text,
)

__all__ = ["LEVEL_1", "LEVEL_2", "LEVEL_3"]

ADD = "Add to watchlist"
DONE = answer("Done.")


def _watched(data: WikiData, slugs: list[str] | tuple[str, ...]) -> dict[str, Any]:
    return {"watchlist": {s: {"slug": s, "title": data.title(s)} for s in slugs}}


def _unwatched(data: WikiData) -> list[str]:
    return sorted(s for s in data.titles if s not in data.watched)


def _quoted(titles: list[str]) -> str:
    quoted = [f'"{t}"' for t in titles]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


# ---------------------------------------------------------------------------------- level 1
def unwatch(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Remove one or two of the articles the watchlist starts with."""
    data: WikiData = world.data
    slugs = sorted(rng.sample(data.watched, rng.choice([1, 1, 2])), key=data.title)
    titles = [data.title(s) for s in slugs]
    prompt = rng.choice(
        [
            "Remove {t} from my watchlist.",
            "Stop watching {t} on the wiki.",
            "I no longer want to follow {t}: take it off my watchlist.",
        ]
    )
    if len(titles) > 1:
        prompt = prompt.replace("take it", "take them")
    return WebTaskDraft(
        prompt=prompt.format(t=_quoted(titles)),
        start=HOME,
        plan=(
            click("link", "Watchlist"),
            *(click("button", f"Unwatch {t}") for t in titles),
            DONE,
        ),
        changes={"watchlist": dict.fromkeys(slugs)},
        metadata={"template": "unwatch"},
    )


# ---------------------------------------------------------------------------------- level 2
def watch_one(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Add an article, named by its title, to the watchlist."""
    data: WikiData = world.data
    slug = rng.choice(_unwatched(data))
    prompt = rng.choice(
        [
            "Add the article {t} to my watchlist.",
            "Please watch the wiki article {t} for me.",
            "I want to follow changes to {t}: put it on my watchlist.",
        ]
    )
    return WebTaskDraft(
        prompt=prompt.format(t=_quoted([data.title(slug)])),
        start=HOME,
        plan=(*open_article(data.title(slug)), click("button", ADD), DONE),
        changes=_watched(data, [slug]),
        metadata={"template": "watch_one"},
    )


def watch_by_clue(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Watch the article one link away from a named one: "the mayor of X"."""
    data: WikiData = world.data
    found = chain(data, rng, 1)
    if found is None or found[0][-1] in data.watched:
        return None
    path, _, phrase = found
    prompt = rng.choice(
        [
            "Add the wiki article about {p} to my watchlist.",
            "Find {p} on the wiki and add that article to my watchlist.",
        ]
    )
    return WebTaskDraft(
        prompt=prompt.format(p=phrase),
        start=HOME,
        plan=(
            *open_article(data.title(path[0])),
            click("link", data.title(path[1])),
            click("button", ADD),
            DONE,
        ),
        changes=_watched(data, [path[1]]),
        metadata={"template": "watch_by_clue"},
    )


def swap_watch(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Unwatch one article and watch another."""
    data: WikiData = world.data
    old, new = rng.choice(sorted(data.watched)), rng.choice(_unwatched(data))
    old_title, new_title = data.title(old), data.title(new)
    prompt = rng.choice(
        [
            'On my watchlist, replace "{o}" with "{n}".',
            'Stop watching "{o}" and start watching "{n}" instead.',
        ]
    )
    changes = _watched(data, [new])
    changes["watchlist"][old] = None
    return WebTaskDraft(
        prompt=prompt.format(o=old_title, n=new_title),
        start=HOME,
        plan=(
            click("link", "Watchlist"),
            click("button", f"Unwatch {old_title}"),
            *open_article(new_title),
            click("button", ADD),
            DONE,
        ),
        changes=changes,
        metadata={"template": "swap_watch"},
    )


def _correction(data: WikiData, fact: Fact, slug: str, rng: random.Random) -> str | None:
    """A wrong-looking value for a field: another article's value, written as the wiki does."""
    current = fact.read(data, records(data, fact.kind)[slug])
    values = {fact.read(data, r) for r in records(data, fact.kind).values()}
    others = sorted(v for v in values if v is not None and v != current)
    if not others:
        return None
    value = str(rng.choice(others))
    if fact.answer_kind == "date":
        return long_date(dt.date.fromisoformat(value))
    if fact.answer_kind == "number" and int(value) >= 10_000:
        return f"{int(value):,}"
    return value


def _report_steps(fact: Fact, correction: str) -> tuple[Step, ...]:
    return (
        click("link", "Report an error"),
        select("Field", fact.field),
        type_text("Correction", correction),
        click("button", "Send report"),
        DONE,
    )


def _report_row(slug: str, fact: Fact, correction: str) -> dict[str, Any]:
    row = {"id": 1, "slug": slug, "field": fact.field, "correction": correction}
    return {"reports": {"1": row}}


def report_error(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Report that an infobox field of a named article is wrong, with the correction."""
    data: WikiData = world.data
    fact = rng.choice(FACTS)
    slug = rng.choice(sorted(records(data, fact.kind)))
    correction = _correction(data, fact, slug, rng)
    if correction is None:
        return None
    prompt = rng.choice(
        [
            'The wiki article "{t}" has a wrong {f}. Report an error in its {F} field with the '
            'correction "{c}".',
            'Report an error on the article "{t}": the {F} field should say "{c}".',
            'File an error report for "{t}" (field: {F}; correction: "{c}").',
        ]
    )
    title = data.title(slug)
    return WebTaskDraft(
        prompt=prompt.format(t=title, f=fact.field.lower(), F=fact.field, c=correction),
        start=HOME,
        plan=(*open_article(title), *_report_steps(fact, correction)),
        changes=_report_row(slug, fact, correction),
        metadata={"template": "report_error"},
    )


# ---------------------------------------------------------------------------------- level 3
def watch_several(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Watch two or three articles named by their titles."""
    data: WikiData = world.data
    slugs = rng.sample(_unwatched(data), rng.choice([2, 3]))
    titles = [data.title(s) for s in slugs]
    prompt = rng.choice(
        [
            "Add {t} to my watchlist.",
            "Please watch these wiki articles for me: {t}.",
        ]
    )
    plan = [step for t in titles for step in (*open_article(t), click("button", ADD))]
    return WebTaskDraft(
        prompt=prompt.format(t=_quoted(titles)),
        start=HOME,
        plan=(*plan, DONE),
        changes=_watched(data, slugs),
        metadata={"template": "watch_several"},
    )


def watch_extreme(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Watch the article of a category with the largest value: the largest city of X."""
    data: WikiData = world.data
    metric = rng.choice(METRICS)
    groups = category_groups(data, metric.kind)
    if not groups:
        return None
    group = rng.choice(groups)
    scored = sorted((metric.value(records(data, metric.kind)[s]), s) for s in group.members)
    if scored[-1][0] == scored[-2][0] or scored[-1][1] in data.watched:
        return None
    pick = scored[-1][1]
    last = group.members[-1]
    reach = () if pick == last else (back(), click("link", data.title(pick)))
    return WebTaskDraft(
        prompt=f"Find which of {group.phrase} {metric.most}, and add that article to my watchlist.",
        start=HOME,
        plan=(*walk(group, data), *reach, click("button", ADD), DONE),
        changes=_watched(data, [pick]),
        metadata={"template": "watch_extreme"},
    )


def watch_twins(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Watch every twin city of a city (each twin's article links back to the city)."""
    data: WikiData = world.data
    city = data.cities[rng.choice(sorted(s for s, c in data.cities.items() if len(c.twins) >= 2))]
    if any(t in data.watched for t in city.twins):
        return None
    plan: list[Step] = list(open_article(city.name))
    for i, twin in enumerate(city.twins):
        plan += [click("link", data.title(twin)), click("button", ADD)]
        if i < len(city.twins) - 1:
            plan.append(click("link", city.name))
    prompt = rng.choice(
        [
            "Add every twin city of {c} to my watchlist.",
            "Put all the twin cities of {c} on my watchlist.",
        ]
    )
    return WebTaskDraft(
        prompt=prompt.format(c=city.name),
        start=HOME,
        plan=(*plan, DONE),
        changes=_watched(data, city.twins),
        metadata={"template": "watch_twins"},
    )


def report_by_clue(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Report an error on the article one link away from a named one."""
    data: WikiData = world.data
    found = chain(data, rng, 1)
    if found is None:
        return None
    path, kind, phrase = found
    fact = rng.choice([f for f in FACTS if f.kind == kind])
    correction = _correction(data, fact, path[1], rng)
    if correction is None or correction in {data.title(s) for s in path}:
        return None
    prompt = rng.choice(
        [
            'On the wiki, the "{F}" field of {p} is wrong; it should be "{c}". Report the error '
            "on that article.",
            'On the article about {p}, report an error: the {F} field should say "{c}".',
        ]
    )
    return WebTaskDraft(
        prompt=prompt.format(F=fact.field, p=phrase, c=correction),
        start=HOME,
        plan=(
            *open_article(data.title(path[0])),
            click("link", data.title(path[1])),
            *_report_steps(fact, correction),
        ),
        changes=_report_row(path[1], fact, correction),
        metadata={"template": "report_by_clue", "about": named(data, path[1])},
    )


LEVEL_1 = [unwatch]
LEVEL_2 = [watch_one, watch_by_clue, swap_watch, report_error]
LEVEL_3 = [watch_several, watch_extreme, watch_twins, report_by_clue]
