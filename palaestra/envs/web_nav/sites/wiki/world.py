"""The wiki's generated knowledge base, where every fact one article states agrees with the rest.

A world holds countries, cities, people, companies, rivers, mountains and species.

`generate_data` draws one world from a seeded `random.Random`. The order of drawing matters for
coherence: places first, then people with their birth years, then what people did (a company is
founded, a mountain climbed, a species described when its person was an adult), then the
relations that point back at people (mayors, founders, employers).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from palaestra.envs.web_nav.sites.wiki.names import (
    CITY_HEADS,
    CITY_TAILS,
    COINED_HEADS,
    COINED_TAILS,
    COUNTRY_NAMES,
    CURRENCIES,
    FIRST_NAMES,
    INDUSTRIES,
    LAST_NAMES,
    MOUNTAIN_ROOTS,
    RIVER_ROOTS,
    SPECIES_ADJECTIVES,
    SPECIES_GROUPS,
    STATUSES,
)

__all__ = [
    "City",
    "Company",
    "Country",
    "Mountain",
    "Person",
    "River",
    "Species",
    "WikiData",
    "generate_data",
    "slug_of",
]

N_COUNTRIES = 6
CITIES_PER_COUNTRY = 5
N_COMPANIES = 28
N_MOUNTAINS = 12
N_RIVERS = 12
N_SPECIES = 16
N_MOUNTAINEERS = 8
N_NATURALISTS = 6
N_OTHER_PEOPLE = 12
LATEST_YEAR = 2024


def slug_of(title: str) -> str:
    """The URL name of a title: ``"Mount Aster"`` is ``Mount_Aster``."""
    return title.replace(" ", "_")


@dataclass(frozen=True)
class Country:
    """A country article."""

    slug: str
    name: str
    capital: str
    population: int
    area: int
    currency: str
    independence: int


@dataclass(frozen=True)
class City:
    """A city article; ``twins`` are city slugs (the relation is symmetric)."""

    slug: str
    name: str
    country: str
    population: int
    founded: int
    mayor: str
    twins: tuple[str, ...]


@dataclass(frozen=True)
class Person:
    """A person article; ``employer`` is a company slug, ``office`` the city a mayor runs."""

    slug: str
    name: str
    surname: str
    born: dt.date
    died: dt.date | None
    birthplace: str
    occupation: str
    employer: str | None
    office: str | None


@dataclass(frozen=True)
class Company:
    """A company article."""

    slug: str
    name: str
    industry: str
    founded: int
    founder: str
    headquarters: str
    revenue: int
    employees: int
    products: tuple[str, ...]


@dataclass(frozen=True)
class Mountain:
    """A mountain article; ``first_climber`` is a person slug."""

    slug: str
    name: str
    country: str
    elevation: int
    range_name: str
    first_ascent: int
    first_climber: str


@dataclass(frozen=True)
class River:
    """A river article; ``source`` is a mountain slug, ``cities`` the cities on its banks."""

    slug: str
    name: str
    country: str
    length: int
    source: str
    mouth: str
    cities: tuple[str, ...]


@dataclass(frozen=True)
class Species:
    """A species article; ``described_by`` is a person slug."""

    slug: str
    name: str
    group: str
    native_to: str
    described: int
    described_by: str
    length_cm: int
    status: str


@dataclass
class WikiData:
    """One world's records by slug, and the articles watched when an episode starts."""

    countries: dict[str, Country] = field(default_factory=dict)
    cities: dict[str, City] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    companies: dict[str, Company] = field(default_factory=dict)
    mountains: dict[str, Mountain] = field(default_factory=dict)
    rivers: dict[str, River] = field(default_factory=dict)
    species: dict[str, Species] = field(default_factory=dict)
    watched: tuple[str, ...] = ()
    titles: dict[str, str] = field(default_factory=dict)
    """Every article's title by slug."""
    categories: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Each category's articles by category name, in title order (filled by the writer)."""

    def title(self, slug: str) -> str:
        """The title of an article."""
        return self.titles[slug]


@dataclass
class _PersonDraft:
    """A person while the world is drawn: employer and office are filled in later."""

    role: str
    name: str
    born: dt.date
    died: dt.date | None
    occupation: str
    birthplace: str
    employer: str | None = None
    office: str | None = None

    @property
    def slug(self) -> str:
        return slug_of(self.name)


_OCCUPATIONS = {
    "founder": ("Entrepreneur", "Engineer", "Chemist", "Economist"),
    "other": ("Architect", "Painter", "Novelist", "Physician", "Engineer"),
    "mayor": ("Politician",),
    "mountaineer": ("Mountaineer",),
    "naturalist": ("Naturalist",),
}


def generate_data(rng: random.Random) -> WikiData:
    """Draw one world's knowledge base."""
    return _Builder(rng).build()


class _Builder:
    """Draws a world in the order that keeps it coherent (see the module docstring)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.data = WikiData()
        self.taken: set[str] = set()
        self.people: list[_PersonDraft] = []

    def build(self) -> WikiData:
        rng, data = self.rng, self.data
        countries = rng.sample(COUNTRY_NAMES, N_COUNTRIES)
        self.taken.update(countries)
        city_names = [
            self._title("{}{}", CITY_HEADS, CITY_TAILS)
            for _ in range(N_COUNTRIES * CITIES_PER_COUNTRY)
        ]
        self._draw_people(city_names)
        self._add_places(countries, city_names)
        self._add_companies(city_names)
        self._add_nature([slug_of(c) for c in countries])
        for p in self.people:
            data.people[p.slug] = Person(
                slug=p.slug,
                name=p.name,
                surname=p.name.split()[-1],
                born=p.born,
                died=p.died,
                birthplace=p.birthplace,
                occupation=p.occupation,
                employer=p.employer,
                office=p.office,
            )
        for records in (data.countries, data.cities, data.people, data.companies,
                        data.mountains, data.rivers, data.species):  # fmt: skip
            for slug, record in records.items():
                data.titles[slug] = record.name
        data.watched = tuple(rng.sample(sorted(data.titles), 3))
        return data

    def _title(self, pattern: str, *pools: Sequence[str]) -> str:
        """A title no other article has: ``pattern`` filled with one word from each pool."""
        for _ in range(1000):
            title = pattern.format(*(self.rng.choice(pool) for pool in pools))
            if title not in self.taken:
                self.taken.add(title)
                return title
        raise RuntimeError("the name pools are too small for this world")  # pragma: no cover

    def _role(self, role: str) -> list[_PersonDraft]:
        return [p for p in self.people if p.role == role]

    def _draw_people(self, city_names: list[str]) -> None:
        rng = self.rng
        roles = (
            ["mayor"] * len(city_names)
            + ["founder"] * N_COMPANIES
            + ["mountaineer"] * N_MOUNTAINEERS
            + ["naturalist"] * N_NATURALISTS
            + ["other"] * N_OTHER_PEOPLE
        )
        for role in roles:
            name = self._title("{} {}", FIRST_NAMES, LAST_NAMES)
            low, high = (1950, 1988) if role == "mayor" else (1905, 1995)
            born = dt.date(rng.randint(low, high), rng.randint(1, 12), rng.randint(1, 28))
            died = None
            if born.year < 1940 and rng.random() < 0.8:
                year = min(born.year + rng.randint(62, 94), LATEST_YEAR - 1)
                died = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
            birthplace = slug_of(rng.choice(city_names))
            occupation = rng.choice(_OCCUPATIONS[role])
            self.people.append(_PersonDraft(role, name, born, died, occupation, birthplace))

    def _add_places(self, countries: list[str], city_names: list[str]) -> None:
        rng, data = self.rng, self.data
        populations = _distinct_ints(rng, len(city_names), 8_000, 1_900_000, 100)
        country_of = {
            slug_of(n): slug_of(countries[i % len(countries)]) for i, n in enumerate(city_names)
        }
        twins = _twin_pairs(rng, [slug_of(n) for n in city_names], country_of)
        mayors = self._role("mayor")
        for city, mayor, population in zip(city_names, mayors, populations, strict=True):
            slug = slug_of(city)
            mayor.office = slug
            data.cities[slug] = City(
                slug=slug,
                name=city,
                country=country_of[slug],
                population=population,
                founded=rng.randint(780, 1890),
                mayor=mayor.slug,
                twins=tuple(sorted(twins.get(slug, ()))),
            )
        for country in countries:
            members = [c for c in data.cities.values() if c.country == slug_of(country)]
            people = sum(c.population for c in members) * rng.randint(15, 40) // 10
            data.countries[slug_of(country)] = Country(
                slug=slug_of(country),
                name=country,
                capital=rng.choice(members).slug,
                population=people // 1000 * 1000,
                area=rng.randint(180, 4200) * 100,
                currency=rng.choice(CURRENCIES),
                independence=rng.randint(1648, 1991),
            )

    def _add_companies(self, city_names: list[str]) -> None:
        """Companies, each founded by its founder as an adult; employers for other people."""
        rng, data = self.rng, self.data
        industries = list(INDUSTRIES) * (N_COMPANIES // len(INDUSTRIES))
        rng.shuffle(industries)
        revenues = _distinct_ints(rng, N_COMPANIES, 800_000, 4_800_000_000, 10_000)
        founders = self._role("founder")
        for industry, founder, revenue in zip(industries, founders, revenues, strict=True):
            words, products = INDUSTRIES[industry]
            hq = rng.choice(city_names)
            prefixes = (
                hq,
                rng.choice(LAST_NAMES),
                rng.choice(COINED_HEADS) + rng.choice(COINED_TAILS),
            )
            name = self._title("{} {}", prefixes, words)
            slug = slug_of(name)
            founder.employer = slug
            data.companies[slug] = Company(
                slug=slug,
                name=name,
                industry=industry,
                founded=min(founder.born.year + rng.randint(22, 48), LATEST_YEAR - 2),
                founder=founder.slug,
                headquarters=slug_of(hq),
                revenue=revenue,
                employees=rng.randint(12, 38_000),
                products=tuple(rng.sample(products, rng.randint(2, 3))),
            )
        companies = sorted(data.companies)
        for person in self._role("other") + self._role("mountaineer"):
            if rng.random() < 0.75:
                person.employer = rng.choice(companies)

    def _add_nature(self, countries: list[str]) -> None:
        """Mountains, rivers and species, with the people who climbed and described them."""
        rng, data = self.rng, self.data
        climbers = self._role("mountaineer")
        climbers += rng.sample(climbers, N_MOUNTAINS - len(climbers))
        elevations = _distinct_ints(rng, N_MOUNTAINS, 900, 6_900, 1)
        for elevation, climber in zip(elevations, climbers, strict=True):
            pattern = rng.choice(["Mount {}", "{} Peak", "Mount {}"])
            name = self._title(pattern, MOUNTAIN_ROOTS)
            data.mountains[slug_of(name)] = Mountain(
                slug=slug_of(name),
                name=name,
                country=rng.choice(countries),
                elevation=elevation,
                range_name=f"{rng.choice(MOUNTAIN_ROOTS)} {rng.choice(['Range', 'Mountains'])}",
                first_ascent=min(climber.born.year + rng.randint(19, 40), LATEST_YEAR - 1),
                first_climber=climber.slug,
            )
        for length in _distinct_ints(rng, N_RIVERS, 40, 1_300, 1):
            name = self._title("{} River", RIVER_ROOTS)
            country = rng.choice(countries)
            sources = [m.slug for m in data.mountains.values() if m.country == country]
            banks = [c.slug for c in data.cities.values() if c.country == country]
            mouth = rng.choice(["Lake {}", "the Gulf of {}", "the {} Sea"])
            data.rivers[slug_of(name)] = River(
                slug=slug_of(name),
                name=name,
                country=country,
                length=length,
                source=rng.choice(sources or sorted(data.mountains)),
                mouth=mouth.format(rng.choice(RIVER_ROOTS)),
                cities=tuple(sorted(rng.sample(banks, rng.randint(1, 3)))),
            )
        naturalists = self._role("naturalist")
        for _ in range(N_SPECIES):
            group = rng.choice(sorted(SPECIES_GROUPS))
            name = self._title("{} {}", SPECIES_ADJECTIVES, SPECIES_GROUPS[group])
            naturalist = rng.choice(naturalists)
            data.species[slug_of(name)] = Species(
                slug=slug_of(name),
                name=name,
                group=group,
                native_to=rng.choice(countries),
                described=min(naturalist.born.year + rng.randint(24, 55), LATEST_YEAR - 1),
                described_by=naturalist.slug,
                length_cm=rng.randint(4, 140),
                status=rng.choice(STATUSES),
            )


def _distinct_ints(rng: random.Random, count: int, low: int, high: int, step: int) -> list[int]:
    """``count`` different multiples of ``step`` between ``low`` and ``high``."""
    return [v * step for v in rng.sample(range(low // step, high // step), count)]


def _twin_pairs(
    rng: random.Random, cities: list[str], country_of: dict[str, str]
) -> dict[str, set[str]]:
    """Twin-city links between cities of different countries, at most three per city."""
    twins: dict[str, set[str]] = {}
    for _ in range(len(cities)):
        a, b = rng.sample(cities, 2)
        if country_of[a] == country_of[b] or b in twins.get(a, set()):
            continue
        if len(twins.get(a, ())) >= 3 or len(twins.get(b, ())) >= 3:
            continue
        twins.setdefault(a, set()).add(b)
        twins.setdefault(b, set()).add(a)
    return twins
