"""What the wiki's task templates share: facts, links, plan steps and names not in the wiki.

A `Fact` reads one infobox field of one kind of article (with the questions that ask for it);
a `Relation` is an infobox link from one kind to another (with the phrase a question uses for
it: "the city where {x} was born"). Gold plans open articles through the search box, which
every page has, and walk categories from the main page.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from palaestra.envs.web_nav.sites.wiki.database import search_matches
from palaestra.envs.web_nav.sites.wiki.names import (
    CITY_HEADS,
    CITY_TAILS,
    COINED_HEADS,
    COINED_TAILS,
    COUNTRY_NAMES,
    FIRST_NAMES,
    INDUSTRIES,
    LAST_NAMES,
    MOUNTAIN_ROOTS,
)
from palaestra.envs.web_nav.sites.wiki.world import WikiData
from palaestra.envs.web_nav.tasks import Step, back, click, type_text
from palaestra.tasks.normalize import AnswerKind

__all__ = [
    "FACTS",
    "HOME",
    "KINDS",
    "RELATIONS",
    "Fact",
    "Relation",
    "chain",
    "hint",
    "missing_name",
    "named",
    "open_article",
    "open_category",
    "records",
    "visit_each",
]

HOME = "/wiki/"
KINDS = ("country", "city", "person", "company", "mountain", "river", "species")
_TABLES = {
    "country": "countries",
    "city": "cities",
    "person": "people",
    "company": "companies",
    "mountain": "mountains",
    "river": "rivers",
    "species": "species",
}


def records(data: WikiData, kind: str) -> dict[str, Any]:
    """The records of one kind of article, by slug."""
    found: dict[str, Any] = getattr(data, _TABLES[kind])
    return found


def named(data: WikiData, slug: str) -> str:
    """An article's title as a question says it: rivers and species take "the"."""
    title = data.title(slug)
    return f"the {title}" if slug in data.rivers or slug in data.species else title


@dataclass(frozen=True)
class Fact:
    """One infobox field of a kind of article, and how to ask for it."""

    kind: str
    field: str
    """The infobox field it is read from (the "Field" an error report names)."""
    questions: tuple[str, ...]
    """Ways to ask, with ``{x}`` for the article (a title or a phrase leading to one)."""
    answer_kind: AnswerKind
    read: Callable[[WikiData, Any], str | None]
    """The expected answer for a record (None when the record has no such value)."""


def _title_of(attribute: str) -> Callable[[WikiData, Any], str | None]:
    def read(data: WikiData, record: Any) -> str | None:
        slug = getattr(record, attribute)
        return data.title(slug) if slug else None

    return read


def _number(attribute: str) -> Callable[[WikiData, Any], str | None]:
    return lambda data, record: str(getattr(record, attribute))


FACTS: tuple[Fact, ...] = (
    Fact("city", "Population", ("What is the population of {x}?", "How many people live in {x}?"),
         "number", _number("population")),
    Fact("city", "Founded", ("In what year was {x} founded?", "When was {x} founded (year)?"),
         "number", _number("founded")),
    Fact("city", "Mayor", ("Who is the mayor of {x}?",), "text", _title_of("mayor")),
    Fact("city", "Country", ("In which country is {x}?",), "text", _title_of("country")),
    Fact("person", "Born", ("When was {x} born?", "What is the date of birth of {x}?"), "date",
         lambda d, p: p.born.isoformat()),
    Fact("person", "Birthplace", ("In which city was {x} born?",), "text", _title_of("birthplace")),
    Fact("person", "Occupation", ("What is the occupation of {x}?",), "text",
         lambda d, p: p.occupation),
    Fact("company", "Founded", ("In what year was {x} founded?", "When was {x} founded (year)?"),
         "number", _number("founded")),
    Fact("company", "Revenue", ("What is the revenue of {x}?", "How much revenue does {x} make?"),
         "money", lambda d, k: f"${k.revenue:,}"),
    Fact("company", "Founder", ("Who founded {x}?", "Who is the founder of {x}?"), "text",
         _title_of("founder")),
    Fact("company", "Headquarters", ("In which city is {x} headquartered?",), "text",
         _title_of("headquarters")),
    Fact("company", "Employees", ("How many employees does {x} have?",), "number",
         _number("employees")),
    Fact("country", "Capital", ("What is the capital of {x}?",), "text", _title_of("capital")),
    Fact("country", "Population", ("What is the population of {x}?",), "number",
         _number("population")),
    Fact("country", "Area", ("What is the area of {x} in square kilometres?",), "number",
         _number("area")),
    Fact("country", "Independence", ("In what year did {x} become independent?",), "number",
         _number("independence")),
    Fact("country", "Currency", ("What is the currency of {x}?",), "text", lambda d, c: c.currency),
    Fact("mountain", "Elevation", ("How high is {x}, in metres?", "What is the elevation of {x}?"),
         "number", _number("elevation")),
    Fact("mountain", "First ascent", ("In what year was {x} first climbed?",), "number",
         _number("first_ascent")),
    Fact("mountain", "First climbed by", ("Who first climbed {x}?",), "text",
         _title_of("first_climber")),
    Fact("river", "Length", ("How long is {x}, in kilometres?", "What is the length of {x}?"),
         "number", _number("length")),
    Fact("river", "Source", ("On which mountain does {x} rise?",), "text", _title_of("source")),
    Fact("species", "Described", ("In what year was {x} first described?",), "number",
         _number("described")),
    Fact("species", "Native to", ("Which country is {x} native to?",), "text",
         _title_of("native_to")),
    Fact("species", "Conservation status", ("What is the conservation status of {x}?",), "text",
         lambda d, s: s.status),
)  # fmt: skip


@dataclass(frozen=True)
class Relation:
    """An infobox link from one kind of article to another."""

    source: str
    target: str
    phrase: str
    """How a question names the target, with ``{x}`` for the source."""
    follow: Callable[[Any], str | None]
    """The target's slug for a source record (None when there is none)."""


RELATIONS: tuple[Relation, ...] = (
    Relation("person", "city", "the city where {x} was born", lambda p: p.birthplace),
    Relation("person", "company", "the employer of {x}", lambda p: p.employer),
    Relation("company", "person", "the founder of {x}", lambda k: k.founder),
    Relation(
        "company", "city", "the city where {x} has its headquarters", lambda k: k.headquarters
    ),
    Relation("city", "person", "the mayor of {x}", lambda c: c.mayor),
    Relation("city", "country", "the country {x} lies in", lambda c: c.country),
    Relation("country", "city", "the capital of {x}", lambda c: c.capital),
    Relation("mountain", "person", "the first person to climb {x}", lambda m: m.first_climber),
    Relation("river", "mountain", "the mountain where {x} rises", lambda r: r.source),
    Relation("species", "person", "the naturalist who described {x}", lambda s: s.described_by),
)

_HINTS: dict[str, tuple[str, ...]] = {
    "number": ("", " Reply with just the number.", " Answer with a number."),
    "money": ("", " Give the amount in dollars.", " Reply with the amount."),
    "date": ("", " Give the full date.", " Answer with the date."),
    "text": ("", " Answer briefly.", " Keep the answer short."),
    "name": ("", " Reply with just the name.", " Answer with the name only."),
    "set": ("", " List them all.", " Give every one of them, separated by commas."),
}


def hint(rng: random.Random, kind: AnswerKind | Literal["name"]) -> str:
    """An optional sentence saying what form the answer takes (``"name"``: an article title)."""
    return rng.choice(_HINTS.get(kind, ("",)))


def chain(data: WikiData, rng: random.Random, hops: int) -> tuple[list[str], str, str] | None:
    """A start article and ``hops`` links from it: (slugs along the way, kind, phrase)."""
    start_kind = rng.choice(sorted({r.source for r in RELATIONS}))
    slug = rng.choice(sorted(records(data, start_kind)))
    path, kind, phrase = [slug], start_kind, named(data, slug)
    for _ in range(hops):
        options = [r for r in RELATIONS if r.source == kind]
        relation = rng.choice(options)
        target = relation.follow(records(data, kind)[path[-1]])
        if target is None or target in path:
            return None
        path.append(target)
        kind, phrase = relation.target, relation.phrase.format(x=phrase)
    return path, kind, phrase


# ---------------------------------------------------------------------------------- plan steps
def open_article(title: str) -> tuple[Step, ...]:
    """Search for a title and open the article (the exact title is the first result)."""
    return (type_text("Search", title), click("button", "Search"), click("link", title))


def open_category(top: str, sub: str | None = None) -> tuple[Step, ...]:
    """From the main page, open a top-level category and maybe one of its subcategories."""
    return (click("link", top),) + ((click("link", sub),) if sub else ())


def visit_each(titles: list[str] | tuple[str, ...]) -> tuple[Step, ...]:
    """Open each listed article from the page at hand, going back after each but the last."""
    steps: list[Step] = []
    for i, title in enumerate(titles):
        steps.append(click("link", title))
        if i < len(titles) - 1:
            steps.append(back())
    return tuple(steps)


# ------------------------------------------------------------------------- things not there
def missing_name(data: WikiData, kind: str, rng: random.Random) -> str | None:
    """A plausible name of this kind that the world lacks and the search finds nothing for."""
    makers: dict[str, Callable[[], str]] = {
        "country": lambda: rng.choice(COUNTRY_NAMES),
        "city": lambda: rng.choice(CITY_HEADS) + rng.choice(CITY_TAILS),
        "person": lambda: f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        "company": lambda: (
            f"{rng.choice(COINED_HEADS)}{rng.choice(COINED_TAILS)} "
            f"{rng.choice(rng.choice(list(INDUSTRIES.values()))[0])}"
        ),
        "mountain": lambda: f"Mount {rng.choice(MOUNTAIN_ROOTS)}",
    }
    for _ in range(50):
        name = makers[kind]()
        if not search_matches(data.titles, name):
            return name
    return None
