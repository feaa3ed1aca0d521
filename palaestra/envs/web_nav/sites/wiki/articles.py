"""The wiki's articles and categories, written from a world's records.

Every article is a lead sentence, an infobox (a two-column table of fields, values linking to
related articles), two or three short prose sections that mention the linked entities, a
"See also" list and its categories. The article body is written once per world, as HTML; the
page adds the title, the watchlist button and the "Report an error" link around it.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from palaestra.envs.web_nav.sites.base import esc
from palaestra.envs.web_nav.sites.base import href as site_href
from palaestra.envs.web_nav.sites.wiki.names import OCCUPATION_PLURALS
from palaestra.envs.web_nav.sites.wiki.world import WikiData, slug_of

__all__ = [
    "GROUP_PLURALS",
    "TOP_CATEGORIES",
    "Article",
    "Category",
    "href",
    "long_date",
    "write_articles",
]

TOP_CATEGORIES = ("Countries", "Cities", "People", "Companies", "Rivers", "Mountains", "Species")
GROUP_PLURALS = {"Bird": "Birds", "Fish": "Fishes", "Mammal": "Mammals", "Reptile": "Reptiles"}


def href(path: str) -> str:
    """The escaped absolute path of a wiki page (the site is mounted at ``/wiki``)."""
    return site_href("wiki", path)


def long_date(day: dt.date) -> str:
    """A date as the wiki writes it: ``14 March 1962``."""
    return f"{day.day} {day.strftime('%B')} {day.year}"


@dataclass(frozen=True)
class Article:
    """One article as the database stores it."""

    slug: str
    title: str
    kind: str
    description: str
    """A few words shown under the title in search results."""
    fields: tuple[str, ...]
    """The infobox field names, in order (the "Field" choices of an error report)."""
    body: str
    categories: tuple[str, ...]
    numbers: dict[str, int] = field(default_factory=dict)
    """The values list pages sort by: population, founded, revenue, ..."""


@dataclass(frozen=True)
class Category:
    """A category page: its articles (by title) and subcategories."""

    slug: str
    name: str
    parent: str | None
    members: tuple[str, ...]


class _Writer:
    """Writes the articles of one world."""

    def __init__(self, data: WikiData, rng: random.Random) -> None:
        self.data = data
        self.rng = rng

    def link(self, slug: str) -> str:
        return f'<a href="{href("/article/" + slug)}">{esc(self.data.title(slug))}</a>'

    def links(self, slugs: list[str] | tuple[str, ...]) -> str:
        """Links joined as prose: ``A, B and C``."""
        parts = [self.link(s) for s in slugs]
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]

    def article(
        self,
        slug: str,
        kind: str,
        description: str,
        lead: str,
        infobox: list[tuple[str, str]],
        sections: list[tuple[str, str]],
        see_also: list[str],
        categories: list[str],
        numbers: dict[str, int] | None = None,
    ) -> Article:
        """Assemble an article from its parts (values and prose are HTML, already escaped)."""
        rows = "".join(f"<tr><th>{esc(k)}</th><td>{v}</td></tr>" for k, v in infobox)
        parts = [f"<p>{lead}</p>", f'<table class="infobox">{rows}</table>']
        parts += [f"<h2>{esc(head)}</h2><p>{text}</p>" for head, text in sections]
        if see_also:
            items = "".join(f"<li>{self.link(s)}</li>" for s in see_also)
            parts.append(f"<h2>See also</h2><ul>{items}</ul>")
        cats = " | ".join(
            f'<a href="{href("/category/" + slug_of(c))}">{esc(c)}</a>' for c in categories
        )
        parts.append(f'<p class="categories">Categories: {cats}</p>')
        return Article(
            slug=slug,
            title=self.data.title(slug),
            kind=kind,
            description=description,
            fields=tuple(k for k, _ in infobox),
            body="".join(parts),
            categories=tuple(categories),
            numbers=numbers or {},
        )

    def others(self, pool: list[str], slug: str, count: int = 2) -> list[str]:
        """A few related articles for "See also", never the article itself."""
        candidates = sorted(s for s in pool if s != slug)
        return sorted(self.rng.sample(candidates, min(count, len(candidates))))

    # ----------------------------------------------------------------------------- by kind
    def country(self, slug: str) -> Article:
        d, c = self.data, self.data.countries[slug]
        mountains = sorted(m.slug for m in d.mountains.values() if m.country == slug)
        rivers = sorted(r.slug for r in d.rivers.values() if r.country == slug)
        cities = f'<a href="{href("/category/Cities_in_" + slug)}">Cities in {esc(c.name)}</a>'
        geography = f"The capital is {self.link(c.capital)}. For its cities, see {cities}."
        if rivers:
            geography += f" Its rivers include the {self.links(rivers)}."
        if mountains:
            geography += f" Among its mountains are {self.links(mountains)}."
        history = f"{esc(c.name)} became independent in {c.independence}."
        return self.article(
            slug,
            "country",
            "Country",
            f"<b>{esc(c.name)}</b> is a country with a population of {c.population:,}.",
            [
                ("Capital", self.link(c.capital)),
                ("Population", f"{c.population:,}"),
                ("Area", f"{c.area:,} sq km"),
                ("Currency", esc(c.currency)),
                ("Independence", str(c.independence)),
            ],
            [("Geography", geography), ("History", history)],
            self.others(list(d.countries), slug),
            ["Countries"],
            {"population": c.population},
        )

    def city(self, slug: str) -> Article:
        d, c = self.data, self.data.cities[slug]
        country = d.countries[c.country]
        lead = f"<b>{esc(c.name)}</b> is a city in {self.link(c.country)}."
        if country.capital == slug:
            lead += f" It is the capital of {esc(country.name)}."
        origin = self.rng.choice(["market town", "river crossing", "fortress", "fishing village"])
        history = f"{esc(c.name)} was founded in {c.founded} as a {origin}."
        rivers = sorted(r.slug for r in d.rivers.values() if slug in r.cities)
        if rivers:
            history += f" It lies on the {self.links(rivers)}."
        sections = [
            ("History", history),
            ("Government", f"The mayor of {esc(c.name)} is {self.link(c.mayor)}."),
        ]
        companies = sorted(k.slug for k in d.companies.values() if k.headquarters == slug)
        if companies:
            sections.append(("Economy", f"Companies based here include {self.links(companies)}."))
        natives = sorted(p.slug for p in d.people.values() if p.birthplace == slug)
        if natives:
            sections.append(("Notable people", f"People born here include {self.links(natives)}."))
        infobox = [
            ("Country", self.link(c.country)),
            ("Population", f"{c.population:,}"),
            ("Founded", str(c.founded)),
            ("Mayor", self.link(c.mayor)),
        ]
        if c.twins:
            infobox.append(("Twin cities", ", ".join(self.link(t) for t in c.twins)))
        peers = [x.slug for x in d.cities.values() if x.country == c.country]
        return self.article(
            slug,
            "city",
            f"City in {country.name}",
            lead,
            infobox,
            sections,
            self.others(peers, slug),
            ["Cities", f"Cities in {country.name}"],
            {"population": c.population, "founded": c.founded},
        )

    def person(self, slug: str) -> Article:
        d, p = self.data, self.data.people[slug]
        home = d.cities[p.birthplace]
        country = d.countries[home.country]
        job = p.occupation.lower()
        article = "an" if job[0] in "aeiou" else "a"
        if p.died is None:
            lead = f"<b>{esc(p.name)}</b> (born {long_date(p.born)}) is {article} {job}"
        else:
            lead = (
                f"<b>{esc(p.name)}</b> ({long_date(p.born)} - {long_date(p.died)}) "
                f"was {article} {job}"
            )
        lead += f" from {self.link(country.slug)}."
        early = f"{esc(p.surname)} was born in {self.link(p.birthplace)}, {esc(country.name)}."
        infobox = [("Born", long_date(p.born))]
        if p.died is not None:
            infobox.append(("Died", long_date(p.died)))
        infobox += [("Birthplace", self.link(p.birthplace)), ("Occupation", esc(p.occupation))]
        career = self._career(slug)
        if p.office is not None:
            infobox.append(("Office", f"Mayor of {self.link(p.office)}"))
        elif p.employer is not None:
            infobox.append(("Employer", self.link(p.employer)))
        peers = [x.slug for x in d.people.values() if x.occupation == p.occupation]
        return self.article(
            slug,
            "person",
            f"{p.occupation} from {country.name}",
            lead,
            infobox,
            [("Early life", early), ("Career", career)],
            self.others(peers, slug),
            ["People", OCCUPATION_PLURALS[p.occupation], f"People from {country.name}"],
        )

    def _career(self, slug: str) -> str:
        d, p = self.data, self.data.people[slug]
        name, past = esc(p.surname), p.died is not None
        works = "worked" if past else "works"
        job = p.occupation.lower()
        founded = [k for k in d.companies.values() if k.founder == slug]
        if p.office is not None:
            since = self.rng.randint(max(p.born.year + 30, 2004), 2023)
            return f"{name} has been mayor of {self.link(p.office)} since {since}."
        if founded:
            return f"{name} founded {self.link(founded[0].slug)} in {founded[0].founded}."
        text = f"{name} {works} as {'an' if job[0] in 'aeiou' else 'a'} {job}"
        text += f" at {self.link(p.employer)}." if p.employer else " on their own account."
        for m in sorted(d.mountains.values(), key=lambda m: m.first_ascent):
            if m.first_climber == slug:
                text += (
                    f" In {m.first_ascent}, {name} made the first ascent of {self.link(m.slug)}."
                )
        described = sorted(s.slug for s in d.species.values() if s.described_by == slug)
        if described:
            text += f" {name} described the {self.links(described)}."
        return text

    def company(self, slug: str) -> Article:
        d, k = self.data, self.data.companies[slug]
        country = d.countries[d.cities[k.headquarters].country]
        industry = k.industry.lower()
        lead = (
            f"<b>{esc(k.name)}</b> is a {industry} company based in {self.link(k.headquarters)}, "
            f"{self.link(country.slug)}."
        )
        sections = [
            ("History", f"{self.link(k.founder)} founded the company in {k.founded}."),
            ("Products", f"Its products include {esc(_prose_list(k.products))}."),
        ]
        staff = sorted(
            p.slug for p in d.people.values() if p.employer == slug and p.slug != k.founder
        )
        if staff:
            sections.append(("People", f"Notable employees include {self.links(staff)}."))
        peers = [x.slug for x in d.companies.values() if x.industry == k.industry]
        return self.article(
            slug,
            "company",
            f"{k.industry} company",
            lead,
            [
                ("Industry", esc(k.industry)),
                ("Founded", str(k.founded)),
                ("Founder", self.link(k.founder)),
                ("Headquarters", self.link(k.headquarters)),
                ("Revenue", f"${k.revenue:,}"),
                ("Employees", f"{k.employees:,}"),
                ("Products", esc(", ".join(k.products))),
            ],
            sections,
            self.others(peers, slug),
            ["Companies", f"{k.industry} companies", f"Companies based in {country.name}"],
            {"founded": k.founded, "revenue": k.revenue},
        )

    def mountain(self, slug: str) -> Article:
        d, m = self.data, self.data.mountains[slug]
        country = d.countries[m.country]
        rivers = sorted(r.slug for r in d.rivers.values() if r.source == slug)
        climbing = f"{self.link(m.first_climber)} made the first ascent in {m.first_ascent}."
        sections = [("Climbing", climbing)]
        if rivers:
            sections.append(("Rivers", f"The {self.links(rivers)} rises on its slopes."))
        return self.article(
            slug,
            "mountain",
            f"Mountain in {country.name}",
            f"<b>{esc(m.name)}</b> is a mountain of the {esc(m.range_name)} in "
            f"{self.link(m.country)}.",
            [
                ("Country", self.link(m.country)),
                ("Elevation", f"{m.elevation:,} m"),
                ("Range", esc(m.range_name)),
                ("First ascent", str(m.first_ascent)),
                ("First climbed by", self.link(m.first_climber)),
            ],
            sections,
            self.others(list(d.mountains), slug),
            ["Mountains", f"Mountains of {country.name}"],
            {"elevation": m.elevation, "first_ascent": m.first_ascent},
        )

    def river(self, slug: str) -> Article:
        d, r = self.data, self.data.rivers[slug]
        country = d.countries[r.country]
        course = (
            f"The {esc(r.name)} rises on {self.link(r.source)} and flows {r.length} km past "
            f"{self.links(r.cities)} into {esc(r.mouth)}."
        )
        return self.article(
            slug,
            "river",
            f"River in {country.name}",
            f"The <b>{esc(r.name)}</b> is a river in {self.link(r.country)}.",
            [
                ("Country", self.link(r.country)),
                ("Length", f"{r.length:,} km"),
                ("Source", self.link(r.source)),
                ("Mouth", esc(r.mouth)),
                ("Cities", ", ".join(self.link(c) for c in r.cities)),
            ],
            [("Course", course)],
            self.others(list(d.rivers), slug),
            ["Rivers", f"Rivers of {country.name}"],
            {"length": r.length},
        )

    def species(self, slug: str) -> Article:
        d, s = self.data, self.data.species[slug]
        country = d.countries[s.native_to]
        group = s.group.lower()
        return self.article(
            slug,
            "species",
            f"{s.group} native to {country.name}",
            f"The <b>{esc(s.name)}</b> is a {group} native to {self.link(s.native_to)}.",
            [
                ("Class", esc(s.group)),
                ("Native to", self.link(s.native_to)),
                ("Described", str(s.described)),
                ("Described by", self.link(s.described_by)),
                ("Length", f"{s.length_cm} cm"),
                ("Conservation status", esc(s.status)),
            ],
            [
                ("Description", f"Adults grow to about {s.length_cm} cm."),
                ("Discovery", f"{self.link(s.described_by)} described it in {s.described}."),
            ],
            self.others([x.slug for x in d.species.values() if x.group == s.group], slug),
            ["Species", GROUP_PLURALS[s.group], f"Fauna of {country.name}"],
        )


def _prose_list(items: tuple[str, ...]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def write_articles(data: WikiData, rng: random.Random) -> tuple[list[Article], list[Category]]:
    """Every article of a world, and the categories they fall in."""
    writer = _Writer(data, rng)
    articles = (
        [writer.country(s) for s in data.countries]
        + [writer.city(s) for s in data.cities]
        + [writer.person(s) for s in data.people]
        + [writer.company(s) for s in data.companies]
        + [writer.mountain(s) for s in data.mountains]
        + [writer.river(s) for s in data.rivers]
        + [writer.species(s) for s in data.species]
    )
    members: dict[str, list[str]] = {}
    top_of = {a.slug: a.categories[0] for a in articles}
    for article in articles:
        for name in article.categories:
            members.setdefault(name, []).append(article.slug)
    categories = []
    for name, slugs in members.items():
        parent = None if name in TOP_CATEGORIES else top_of[slugs[0]]
        ordered = tuple(sorted(slugs, key=data.title))
        categories.append(Category(slug_of(name), name, parent, ordered))
        data.categories[name] = ordered
    return articles, categories
