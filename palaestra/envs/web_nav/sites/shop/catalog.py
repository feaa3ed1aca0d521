"""The shop's generated world: the catalog, the signed-in customer and their past orders.

Every world holds 120-200 products with distinctive names (collection, material, item: "Harbor
Stoneware Mug"), each of one category and brand, with a price, a rating, a stock count and
sometimes a Size and a Color choice (a choice may add to the price or be out of stock). Search
and sorting live here too, so the results pages and the task templates that quote them agree.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from palaestra.envs.web_nav.sites.shop.orders import past_orders

__all__ = [
    "CATEGORIES",
    "COUNTRIES",
    "SORTS",
    "Catalog",
    "Choice",
    "Customer",
    "Product",
    "generate_catalog",
    "person_name",
    "search",
    "street_and_city",
    "unlisted_name",
]

COUNTRIES = ("United States", "Germany", "France", "Italy", "Spain", "Mexico", "Finland")
"""Countries the shop ships to: all with five-digit postal codes."""

SORTS = {
    "featured": "Featured",
    "price_asc": "Price: low to high",
    "price_desc": "Price: high to low",
    "rating": "Rating: high to low",
}
"""Sort keys of the results page and their labels."""


@dataclass(frozen=True)
class _Kind:
    """A kind of item a category sells, and what its products can look like."""

    item: str
    materials: tuple[str, ...]
    dollars: tuple[int, int]
    sizes: tuple[str, ...] = ()
    colors: bool = False


_CLOTHING_SIZES = ("S", "M", "L", "XL")
CATEGORIES: dict[str, tuple[_Kind, ...]] = {
    "Kitchen": (
        _Kind("Mug", ("Stoneware", "Enamel", "Porcelain"), (8, 26), colors=True),
        _Kind("Teapot", ("Cast Iron", "Glass", "Stoneware"), (18, 64), colors=True),
        _Kind("Chef Knife", ("Carbon", "Damascus"), (29, 149)),
        _Kind("Cutting Board", ("Bamboo", "Walnut", "Acacia"), (15, 72), ("Small", "Large")),
        _Kind("Saucepan", ("Copper", "Aluminum"), (24, 110), ("1.5 qt", "3 qt")),
        _Kind("Pepper Mill", ("Beech", "Acrylic", "Olivewood"), (12, 45)),
    ),
    "Home": (
        _Kind("Throw Blanket", ("Wool", "Cotton", "Fleece"), (25, 120), ("Twin", "Queen"), True),
        _Kind("Table Lamp", ("Brass", "Rattan", "Ceramic"), (30, 140), colors=True),
        _Kind("Scented Candle", ("Soy", "Beeswax"), (9, 38), ("8 oz", "16 oz")),
        _Kind("Vase", ("Terracotta", "Glass", "Porcelain"), (14, 80), colors=True),
        _Kind("Pillow Cover", ("Linen", "Velvet"), (12, 40), colors=True),
        _Kind("Wall Clock", ("Oak", "Metal"), (22, 95)),
    ),
    "Outdoor": (
        _Kind("Backpack", ("Nylon", "Canvas"), (35, 160), ("20 L", "30 L", "40 L"), True),
        _Kind("Tent", ("Ripstop", "Polyester"), (80, 320), ("2-person", "4-person")),
        _Kind("Camp Chair", ("Aluminum", "Bamboo"), (25, 90), colors=True),
        _Kind("Water Bottle", ("Stainless", "Tritan"), (12, 42), ("500 ml", "750 ml"), True),
        _Kind("Headlamp", ("Rechargeable", "Compact"), (15, 60)),
        _Kind("Sleeping Bag", ("Down", "Synthetic"), (60, 260), ("Regular", "Long")),
    ),
    "Electronics": (
        _Kind("Wireless Earbuds", ("Aluminum", "Matte"), (29, 180), colors=True),
        _Kind("Bluetooth Speaker", ("Waterproof", "Fabric"), (25, 150), colors=True),
        _Kind("USB-C Charger", ("Compact", "Braided"), (15, 65)),
        _Kind("Power Bank", ("Slim", "Rugged"), (20, 90), ("10000 mAh", "20000 mAh")),
        _Kind("Mechanical Keyboard", ("Aluminum", "Wooden"), (60, 210), colors=True),
        _Kind("Webcam", ("Compact", "Studio"), (30, 130)),
    ),
    "Clothing": (
        _Kind("Rain Jacket", ("Nylon", "Waterproof"), (45, 190), _CLOTHING_SIZES, True),
        _Kind("Sweater", ("Merino", "Cashmere", "Cotton"), (35, 160), _CLOTHING_SIZES, True),
        _Kind("T-Shirt", ("Cotton", "Linen"), (12, 40), _CLOTHING_SIZES, True),
        _Kind("Hiking Socks", ("Merino", "Bamboo"), (9, 28), ("S", "M", "L")),
        _Kind("Beanie", ("Wool", "Acrylic"), (10, 36), colors=True),
        _Kind("Fleece Vest", ("Recycled", "Polar"), (30, 95), _CLOTHING_SIZES, True),
    ),
    "Office": (
        _Kind("Notebook", ("Leather", "Kraft"), (8, 42), ("A5", "A4")),
        _Kind("Desk Lamp", ("Aluminum", "Brass"), (28, 120), colors=True),
        _Kind("Fountain Pen", ("Resin", "Brass"), (18, 150), colors=True),
        _Kind("Desk Organizer", ("Bamboo", "Felt"), (14, 55)),
        _Kind("Monitor Stand", ("Walnut", "Aluminum"), (30, 110)),
        _Kind("Planner", ("Linen", "Leather"), (12, 48), ("A5", "A4"), True),
    ),
    "Sports": (
        _Kind("Yoga Mat", ("Cork", "Rubber"), (20, 95), colors=True),
        _Kind("Dumbbell Set", ("Cast Iron", "Neoprene"), (30, 180), ("5 lb", "10 lb", "15 lb")),
        _Kind("Jump Rope", ("Leather", "Speed"), (8, 35)),
        _Kind("Tennis Racket", ("Graphite", "Carbon"), (45, 230)),
        _Kind("Foam Roller", ("Textured", "Smooth"), (15, 50), ("Short", "Long")),
        _Kind("Gym Bag", ("Canvas", "Nylon"), (25, 95), colors=True),
    ),
}
"""The categories and the kinds of item each sells."""

_WEIGHTS_KG = {
    "Kitchen": (0.2, 3.0),
    "Home": (0.2, 3.0),
    "Outdoor": (0.3, 5.0),
    "Electronics": (0.1, 1.2),
    "Clothing": (0.1, 1.2),
    "Office": (0.1, 2.0),
    "Sports": (0.2, 8.0),
}
_COLLECTIONS = (
    "Harbor Summit Juniper Lantern Meadow Driftwood Aurora Fjord Saffron Willow Granite Cascade "
    "Ember Prairie Tundra Lagoon Marigold Sierra Canyon Orchard Beacon Solstice Monarch Alpine "
    "Heron Pioneer Nimbus Horizon Evergreen Riverstone Bramble Thistle Sparrow Cypress Dune "
    "Glacier Quarry Tidewater Wren Falcon"
).split()
_BRANDS = (
    "Kestrel Northwind Brightwater Oakhaven Larkspur Corvida Pinecrest Solano Vantage Halcyon "
    "Mirabel Tallis"
).split()
_COLORS = (
    "Black",
    "White",
    "Navy",
    "Forest Green",
    "Crimson",
    "Sand",
    "Slate",
    "Mustard",
    "Teal",
    "Coral",
    "Charcoal",
    "Ivory",
)
_FEATURES = (
    "built for everyday use",
    "made to last for years",
    "a favorite gift",
    "easy to clean",
    "designed in small batches",
    "light enough to take anywhere",
    "finished by hand",
    "tested by our team for a full season",
)
_FIRST = "Ada Amara Ben Carla Dana Diego Elena Farah Felix Grace Hana Hugo Ines Jade Jonas Lara"
_LAST = "Abbott Alvarez Baker Castro Dubois Evans Fischer Garcia Haddad Hansen Ito Jensen Kim Lopez"
_STREETS = (
    "Elm Street",
    "Oak Avenue",
    "Maple Road",
    "Cedar Lane",
    "Birch Way",
    "Harbor Drive",
    "Mill Road",
    "Station Street",
    "Park Avenue",
)
_CITIES = ("Springfield", "Riverton", "Lakeside", "Fairview", "Brookfield", "Ashford", "Kingston")


@dataclass(frozen=True)
class Choice:
    """One value of a product's Size or Color choice."""

    value: str
    extra_cents: int
    """What this value adds to the product's price."""
    in_stock: bool

    @property
    def label(self) -> str:
        """The option's text in the drop-down: ``"L (+$3.00)"``, ``"XL (out of stock)"``."""
        if not self.in_stock:
            return f"{self.value} (out of stock)"
        if self.extra_cents:
            return f"{self.value} (+${self.extra_cents / 100:.2f})"
        return self.value


@dataclass(frozen=True)
class Product:
    """A product of the catalog."""

    id: int
    name: str
    category: str
    brand: str
    material: str
    price_cents: int
    rating: float
    reviews: int
    stock: int
    """Units in stock when the world starts (orders placed in an episode lower it)."""
    weight_kg: float
    warranty_years: int
    description: str
    sizes: tuple[Choice, ...] = ()
    colors: tuple[Choice, ...] = ()

    def size(self, value: str) -> Choice | None:
        """The size called ``value``, if the product has it."""
        return next((c for c in self.sizes if c.value == value), None)

    def color(self, value: str) -> Choice | None:
        """The color called ``value``, if the product has it."""
        return next((c for c in self.colors if c.value == value), None)

    @cached_property
    def search_text(self) -> str:
        """The words a search can match (name, brand, category, material), each after a space."""
        text = f"{self.name} {self.brand} {self.category} {self.material}"
        return "".join(f" {w}" for w in _words(text))


@dataclass(frozen=True)
class Customer:
    """The signed-in customer (the episode's user) and their saved address."""

    name: str
    street: str
    city: str
    zip: str
    country: str


@dataclass(frozen=True)
class Catalog:
    """A world's records: what the pages show and the task templates read."""

    products: tuple[Product, ...]
    customer: Customer
    today: dt.date
    """The date orders placed in an episode carry (fixed per world, so verification is exact)."""
    orders: tuple[dict[str, Any], ...]
    """The customer's past orders, as rows of the ``orders`` table."""
    order_items: tuple[dict[str, Any], ...]
    """Their lines, as rows of the ``order_items`` table."""

    @cached_property
    def by_id(self) -> dict[int, Product]:
        """The products by id."""
        return {p.id: p for p in self.products}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def search(
    products: tuple[Product, ...],
    query: str = "",
    category: str = "",
    max_price_cents: int | None = None,
    sort: str = "featured",
) -> list[Product]:
    """The products a results page lists, in its order.

    Every word of ``query`` must begin a word of the product's name, brand, category or
    material; the price filter compares the base price.
    """
    starts = [f" {w}" for w in _words(query)]  # " mu" in " harbor stoneware mug": a word start
    found = [
        p
        for p in products
        if (not category or p.category == category)
        and (max_price_cents is None or p.price_cents <= max_price_cents)
        and all(s in p.search_text for s in starts)
    ]
    if sort == "price_asc":
        found.sort(key=lambda p: (p.price_cents, p.id))
    elif sort == "price_desc":
        found.sort(key=lambda p: (-p.price_cents, p.id))
    elif sort == "rating":
        found.sort(key=lambda p: (-p.rating, -p.reviews, p.id))
    return found


def _price(rng: random.Random, low: int, high: int) -> int:
    return rng.randint(low, high) * 100 + rng.choice((99, 99, 49, 95, 0, 50, 25))


def _choices(rng: random.Random, values: tuple[str, ...], step: int) -> tuple[Choice, ...]:
    """Values with their price steps and stock; at least one is always available."""
    grows = rng.random() < 0.5
    premium = rng.randrange(len(values)) if rng.random() < 0.3 else -1
    choices = []
    for index, value in enumerate(values):
        extra = index * step if grows else (rng.choice((100, 200, 300)) if index == premium else 0)
        choices.append(Choice(value, extra, rng.random() > 0.15))
    if not any(c.in_stock for c in choices):
        keep = rng.randrange(len(choices))
        choices[keep] = Choice(choices[keep].value, choices[keep].extra_cents, True)
    return tuple(choices)


def _product(
    rng: random.Random, pid: int, category: str, kind: _Kind, material: str, collection: str
) -> Product:
    price = _price(rng, *kind.dollars)
    sizes = _choices(rng, kind.sizes, rng.choice((200, 300, 500, 1000))) if kind.sizes else ()
    colors = _choices(rng, tuple(rng.sample(_COLORS, rng.randint(2, 4))), 0) if kind.colors else ()
    roll = rng.random()
    stock = 0 if roll < 0.06 else rng.randint(1, 5) if roll < 0.26 else rng.randint(6, 40)
    brand = rng.choice(_BRANDS)
    feature = rng.choice(_FEATURES)
    return Product(
        id=pid,
        name=f"{collection} {material} {kind.item}",
        category=category,
        brand=brand,
        material=material,
        price_cents=price,
        rating=round(rng.triangular(2.6, 5.0, 4.4), 1),
        reviews=rng.randint(3, 900),
        stock=stock,
        weight_kg=round(rng.uniform(*_WEIGHTS_KG[category]), 1),
        warranty_years=rng.choice((1, 1, 2, 3)),
        description=f"{material} {kind.item.lower()} by {brand}, {feature}.",
        sizes=sizes,
        colors=colors,
    )


def generate_catalog(seed: int) -> Catalog:
    """World ``seed``'s catalog, customer and past orders (deterministic)."""
    rng = random.Random(f"shop/world/{seed}")
    kinds = [(category, kind) for category, ks in CATEGORIES.items() for kind in ks]
    combos = [
        (category, kind, material, collection)
        for category, kind in kinds
        for material in kind.materials
        for collection in _COLLECTIONS
    ]
    picks = rng.sample(combos, rng.randint(120, 200))
    first_id = rng.randrange(100, 700)
    products = tuple(_product(rng, first_id + index, *pick) for index, pick in enumerate(picks))
    street, city = street_and_city(rng)
    customer = Customer(
        name=person_name(rng),
        street=street,
        city=city,
        zip=f"{rng.randint(10000, 99999)}",
        country="United States",
    )
    today = dt.date(2026, 1, 5) + dt.timedelta(days=rng.randrange(300))
    orders, items = past_orders(rng, products, customer, today)
    return Catalog(products, customer, today, orders, items)


def unlisted_name(rng: random.Random, catalog: Catalog) -> str | None:
    """A product name in the catalog's style that no search of the world finds."""
    for _ in range(20):
        category = rng.choice(sorted(CATEGORIES))
        kind = rng.choice(CATEGORIES[category])
        name = f"{rng.choice(_COLLECTIONS)} {rng.choice(kind.materials)} {kind.item}"
        if not search(catalog.products, name):
            return name
    return None


def person_name(rng: random.Random) -> str:
    """A full name from the shop's name pool."""
    return f"{rng.choice(_FIRST.split())} {rng.choice(_LAST.split())}"


def street_and_city(rng: random.Random) -> tuple[str, str]:
    """A street address and a city from the shop's pools."""
    return f"{rng.randint(2, 399)} {rng.choice(_STREETS)}", rng.choice(_CITIES)
