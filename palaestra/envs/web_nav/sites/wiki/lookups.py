"""Questions one article answers (level 1) or a short chain of linked articles answers (level 2).

Level 1: a field of an infobox (search, open, read), a list field as a set, a rank on a list
page, and an entity the wiki does not have (search finds nothing: give up). Level 2: follow one
or two infobox links from the article searched for ("the population of the city where X was
born"), or the company a city's article names.
"""

from __future__ import annotations

import random

from palaestra.envs.web_nav.sites.base import World
from palaestra.envs.web_nav.sites.wiki.pages import LISTS
from palaestra.envs.web_nav.sites.wiki.plans import (
    FACTS,
    HOME,
    RELATIONS,
    Fact,
    chain,
    hint,
    missing_name,
    named,
    open_article,
    records,
)
from palaestra.envs.web_nav.sites.wiki.world import WikiData
from palaestra.envs.web_nav.tasks import Answer, WebTaskDraft, answer, click, give_up

__all__ = ["LEVEL_1", "LEVEL_2"]


def _fact_question(
    rng: random.Random, fact: Fact, subject: str, data: WikiData, value: str | None = None
) -> str:
    """A question for a fact about ``subject``, maybe with a lead-in and a hint at the form."""
    question = rng.choice(fact.questions).format(x=subject)
    lead = rng.choice(["", "According to the wiki, ", "Using the wiki: "])
    if lead:
        question = lead + question[0].lower() + question[1:]
    is_name = fact.answer_kind == "text" and (value is None or value in data.titles.values())
    return question + hint(
        rng, "name" if is_name and fact.field not in _WORDS else fact.answer_kind
    )


_WORDS = {"Occupation", "Currency", "Conservation status"}
"""Text fields whose values are words, not names."""


def entity_fact(world: World, rng: random.Random) -> WebTaskDraft | None:
    """A field of one article's infobox: the population of a city, a company's revenue."""
    data: WikiData = world.data
    fact = rng.choice(FACTS)
    slug, record = rng.choice(sorted(records(data, fact.kind).items()))
    value = fact.read(data, record)
    if value is None:
        return None
    title = data.title(slug)
    return WebTaskDraft(
        prompt=_fact_question(rng, fact, named(data, slug), data, value),
        start=HOME,
        plan=(*open_article(title), answer(value)),
        answer=Answer(value, fact.answer_kind),
        metadata={"template": "entity_fact", "field": fact.field},
    )


def list_field(world: World, rng: random.Random) -> WebTaskDraft | None:
    """A field that holds several values: twin cities, products, the cities on a river."""
    data: WikiData = world.data
    choice = rng.choice(["twins", "products", "banks"])
    if choice == "twins":
        slug = rng.choice(sorted(s for s, c in data.cities.items() if c.twins))
        values = [data.title(t) for t in data.cities[slug].twins]
        question = rng.choice(["What are the twin cities of {x}?", "List the twin cities of {x}."])
    elif choice == "products":
        slug = rng.choice(sorted(data.companies))
        values = list(data.companies[slug].products)
        question = rng.choice(["What products does {x} make?", "List the products of {x}."])
    else:
        slug = rng.choice(sorted(data.rivers))
        values = [data.title(c) for c in data.rivers[slug].cities]
        question = rng.choice(["Which cities lie on {x}?", "List the cities {x} flows past."])
    expected = ", ".join(sorted(values))
    return WebTaskDraft(
        prompt=question.format(x=named(data, slug)) + hint(rng, "set"),
        start=HOME,
        plan=(*open_article(data.title(slug)), answer(expected)),
        answer=Answer(expected, "set"),
        metadata={"template": "list_field"},
    )


_RANK_WORDS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}
_LIST_QUESTIONS = {
    # (list, sort, reversed): (question for rank 1, question for rank n)
    ("cities-by-population", "population", False): (
        "Which city on the wiki has the largest population?",
        "Which city ranks {rank} by population on the wiki's list of cities?",
    ),
    ("cities-by-population", "population", True): (
        "Which city on the wiki has the smallest population?",
        "On the wiki's list of cities, which city is the {rank} least populous?",
    ),
    ("cities-by-population", "founded", False): (
        "Which is the oldest city on the wiki (founded earliest)?",
        "Which city was the {rank} to be founded, according to the wiki's list of cities?",
    ),
    ("companies-by-revenue", "revenue", False): (
        "Which company on the wiki has the highest revenue?",
        "Which company ranks {rank} by revenue on the wiki's list of companies?",
    ),
    ("companies-by-revenue", "founded", False): (
        "Which company on the wiki was founded earliest?",
        "Which company was the {rank} to be founded, according to the wiki's list of companies?",
    ),
    ("mountains-by-elevation", "elevation", False): (
        "Which is the highest mountain on the wiki?",
        "Which mountain is the {rank} highest on the wiki's list of mountains?",
    ),
    ("mountains-by-elevation", "first_ascent", False): (
        "Which mountain on the wiki was climbed first?",
        "Which mountain was the {rank} to be climbed, according to the wiki's list?",
    ),
    ("rivers-by-length", "length", False): (
        "Which is the longest river on the wiki?",
        "Which river is the {rank} longest on the wiki's list of rivers?",
    ),
    ("rivers-by-length", "length", True): (
        "Which is the shortest river on the wiki?",
        "Which river is the {rank} shortest on the wiki's list of rivers?",
    ),
}
_SORT_LINKS = {
    "population": "Sort by population",
    "founded": "Sort by founding year",
    "first_ascent": "Sort by first ascent",
}


def list_rank(world: World, rng: random.Random) -> WebTaskDraft | None:
    """A place on a list page: the most populous city, the third longest river."""
    data: WikiData = world.data
    (slug, sort, flipped), (first, nth) = rng.choice(sorted(_LIST_QUESTIONS.items()))
    spec = LISTS[slug]
    rows = sorted((getattr(r, sort), r.name) for r in records(data, spec.kind).values())
    ascending = sort in ("founded", "first_ascent")
    if ascending == flipped:
        rows.reverse()
    rank = rng.choice([1, 1, 2, 3, 4, 5])
    value, title = rows[rank - 1]
    neighbours = [v for v, _ in rows[max(0, rank - 2) : rank + 1]]
    if neighbours.count(value) > 1:  # a tie makes the rank ambiguous
        return None
    plan = [click("link", spec.title)]
    if sort != spec.columns[0][0]:
        plan.append(click("link", _SORT_LINKS[sort]))
    if flipped:
        plan.append(click("link", "Reverse order"))
    question = first if rank == 1 else nth.format(rank=_RANK_WORDS[rank])
    return WebTaskDraft(
        prompt=question + hint(rng, "name"),
        start=HOME,
        plan=(*plan, answer(title)),
        answer=Answer(title, "text"),
        metadata={"template": "list_rank"},
    )


def missing_entity(world: World, rng: random.Random) -> WebTaskDraft | None:
    """A question about something the wiki has no article on: the search finds nothing."""
    data: WikiData = world.data
    fact = rng.choice([f for f in FACTS if f.kind in ("city", "person", "company", "mountain")])
    name = missing_name(data, fact.kind, rng)
    if name is None:
        return None
    return WebTaskDraft(
        prompt=_fact_question(rng, fact, name, data),
        start=HOME,
        plan=(
            *open_article(name)[:2],
            give_up(f"The wiki has no article about {name}; the search finds nothing."),
        ),
        feasible=False,
        metadata={"template": "missing_entity"},
    )


# -------------------------------------------------------------------------------- level 2
def chained_fact(world: World, rng: random.Random) -> WebTaskDraft | None:
    """A field of an article one or two links away.

    "The population of the city where X was born", "the revenue of the employer of Y".
    """
    data: WikiData = world.data
    found = chain(data, rng, rng.choice([1, 1, 2]))
    if found is None:
        return None
    path, kind, phrase = found
    fact = rng.choice([f for f in FACTS if f.kind == kind])
    value = fact.read(data, records(data, kind)[path[-1]])
    if value is None or value in {data.title(s) for s in path}:
        return None
    plan = (*open_article(data.title(path[0])), *(click("link", data.title(s)) for s in path[1:]))
    return WebTaskDraft(
        prompt=_fact_question(rng, fact, phrase, data, value),
        start=HOME,
        plan=(*plan, answer(value)),
        answer=Answer(value, fact.answer_kind),
        metadata={"template": "chained_fact", "hops": len(path) - 1},
    )


def company_of_city(world: World, rng: random.Random) -> WebTaskDraft | None:
    """A fact about the one company a city's article says is based there."""
    data: WikiData = world.data
    by_city: dict[str, list[str]] = {}
    for k in data.companies.values():
        by_city.setdefault(k.headquarters, []).append(k.slug)
    city = rng.choice(sorted(c for c, ks in by_city.items() if len(ks) == 1))
    company = data.companies[by_city[city][0]]
    fact = rng.choice([f for f in FACTS if f.kind == "company" and f.field != "Headquarters"])
    value = fact.read(data, company)
    if value is None:
        return None
    subject = rng.choice(
        ["the company headquartered in {c}", "the only company based in {c}"]
    ).format(c=data.title(city))
    return WebTaskDraft(
        prompt=_fact_question(rng, fact, subject, data, value),
        start=HOME,
        plan=(*open_article(data.title(city)), click("link", company.name), answer(value)),
        answer=Answer(value, fact.answer_kind),
        metadata={"template": "company_of_city"},
    )


def missing_chain(world: World, rng: random.Random) -> WebTaskDraft | None:
    """A chained question whose first article does not exist."""
    data: WikiData = world.data
    kind = rng.choice(["person", "company", "city"])
    name = missing_name(data, kind, rng)
    if name is None:
        return None
    relation = rng.choice([r for r in RELATIONS if r.source == kind])
    fact = rng.choice([f for f in FACTS if f.kind == relation.target])
    return WebTaskDraft(
        prompt=_fact_question(rng, fact, relation.phrase.format(x=name), data),
        start=HOME,
        plan=(*open_article(name)[:2], give_up(f"The wiki has no article about {name}.")),
        feasible=False,
        metadata={"template": "missing_chain"},
    )


LEVEL_1 = [*[entity_fact] * 5, list_field, list_field, list_rank, list_rank, missing_entity]
"""Level-1 questions, weighted by repetition."""
LEVEL_2 = [*[chained_fact] * 5, company_of_city, missing_chain]
