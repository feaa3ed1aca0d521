"""Name and place pools the domains draw from, so generated worlds read naturally."""

from __future__ import annotations

import random

__all__ = ["CITIES", "FIRST_NAMES", "LAST_NAMES", "STREETS", "person_names", "street_address"]

FIRST_NAMES = (
    "Ada Alan Amara Ben Carla Chen Dana Diego Elena Emeka Farah Felix Grace Hana Hugo Ines Ivan "
    "Jade Jonas Kai Kemal Lara Leo Lucia Malik Maya Mina Nadia Noah Omar Oren Paula Priya Quinn "
    "Rafael Rosa Sami Sara Tariq Tess Uma Victor Wen Yara Yusuf Zoe"
).split()
LAST_NAMES = (
    "Abbott Alvarez Baker Bauer Castro Chen Dubois Evans Fischer Garcia Haddad Hansen Ito Jensen "
    "Kim Kowalski Larsen Lopez Mensah Moreau Nakamura Novak Okafor Olsen Patel Perez Quist Rossi "
    "Sato Schmidt Silva Singh Tanaka Torres Usman Varga Wagner Weber Wong Yilmaz Young Zhang"
).split()
STREETS = (
    "Elm Street, Oak Avenue, Maple Road, Cedar Lane, Birch Way, Harbor Drive, Mill Road, "
    "Station Street, Park Avenue, River Lane, Hill Road, Orchard Way"
).split(", ")
CITIES = (
    "Springfield, Riverton, Lakeside, Fairview, Brookfield, Greenville, Ashford, Milton, Kingston, "
    "Westport"
).split(", ")


def person_names(rng: random.Random, count: int) -> list[str]:
    """``count`` distinct full names."""
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def street_address(rng: random.Random) -> str:
    """A plausible street address."""
    return f"{rng.randint(1, 199)} {rng.choice(STREETS)}, {rng.choice(CITIES)}"
