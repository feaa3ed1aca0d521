"""What orders cost and how they are stored: prices, shipping, the order rows and the database.

The pages and the task templates build order rows with the same function (`order_rows`), so
the rows a template expects are exactly the rows the checkout writes. Order lines are keyed by
order, product and options (``"10424:117:M:Navy"``), not by a counter, so two carts that hold
the same lines in another order make the same rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from palaestra.envs.web_nav.sites.shop.catalog import Catalog, Customer, Product

__all__ = [
    "EXPRESS_CENTS",
    "FREE_SHIPPING_FROM_CENTS",
    "GIFT_WRAP_CENTS",
    "MAX_QUANTITY",
    "STANDARD_CENTS",
    "Address",
    "Line",
    "build_database",
    "delivery_days",
    "money",
    "order_rows",
    "past_orders",
    "save_order",
    "shipping_cents",
    "unit_price_cents",
]

STANDARD_CENTS = 599
FREE_SHIPPING_FROM_CENTS = 7500
"""Standard shipping is free from this subtotal on."""
EXPRESS_CENTS = 1499
GIFT_WRAP_CENTS = 450
MAX_QUANTITY = 10
"""The most units of one product and options an order line (a cart line) takes."""


def money(cents: int) -> str:
    """Cents as the shop writes prices: ``$1,204.50``."""
    return f"${cents / 100:,.2f}"


@dataclass(frozen=True)
class Line:
    """A cart or order line: a product, its chosen options ("" when it has none), how many."""

    product_id: int
    size: str
    color: str
    quantity: int


@dataclass(frozen=True)
class Address:
    """Where an order goes."""

    full_name: str
    street: str
    city: str
    zip: str
    country: str


def delivery_days(product_id: int, zip_code: str) -> int:
    """How many days delivery of a product to a ZIP code takes: 2-8, fixed per pair."""
    digest = hashlib.sha256(f"{product_id}/{zip_code}".encode()).digest()
    return 2 + digest[0] % 7


def unit_price_cents(product: Product, size: str, color: str) -> int:
    """The price of one unit with these options: the base price plus what the options add."""
    extra = 0
    for choice in (product.size(size), product.color(color)):
        extra += choice.extra_cents if choice is not None else 0
    return product.price_cents + extra


def shipping_cents(subtotal_cents: int, shipping: str) -> int:
    """What a shipping method costs for an order of this subtotal."""
    if shipping == "express":
        return EXPRESS_CENTS
    return 0 if subtotal_cents >= FREE_SHIPPING_FROM_CENTS else STANDARD_CENTS


def order_rows(
    catalog: Catalog,
    order_id: int,
    lines: list[Line],
    address: Address,
    shipping: str,
    gift_wrap: bool,
    placed_on: dt.date,
    status: str = "Processing",
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The ``orders`` row and the ``order_items`` rows of an order."""
    items = []
    for line in lines:
        product = catalog.by_id[line.product_id]
        items.append(
            {
                "id": f"{order_id}:{line.product_id}:{line.size}:{line.color}",
                "order_id": order_id,
                "product_id": line.product_id,
                "product_name": product.name,
                "size": line.size,
                "color": line.color,
                "quantity": line.quantity,
                "unit_price_cents": unit_price_cents(product, line.size, line.color),
            }
        )
    subtotal = sum(
        unit_price_cents(catalog.by_id[x.product_id], x.size, x.color) * x.quantity for x in lines
    )
    ship = shipping_cents(subtotal, shipping)
    wrap = GIFT_WRAP_CENTS if gift_wrap else 0
    order = {
        "id": order_id,
        "placed_on": placed_on.isoformat(),
        "status": status,
        "full_name": address.full_name,
        "street": address.street,
        "city": address.city,
        "zip": address.zip,
        "country": address.country,
        "shipping": shipping,
        "gift_wrap": int(gift_wrap),
        "subtotal_cents": subtotal,
        "shipping_cents": ship,
        "gift_wrap_cents": wrap,
        "total_cents": subtotal + ship + wrap,
    }
    return order, items


def past_orders(
    rng: random.Random, products: tuple[Product, ...], customer: Customer, today: dt.date
) -> tuple[tuple[dict[str, Any], ...], tuple[dict[str, Any], ...]]:
    """Two to four orders the customer placed before the episode, oldest first."""
    from palaestra.envs.web_nav.sites.shop.catalog import Catalog

    catalog = Catalog(products, customer, today, (), ())
    home = Address(customer.name, customer.street, customer.city, customer.zip, customer.country)
    count = rng.randint(2, 4)
    first_id = rng.randrange(10200, 98000)
    days_ago = sorted(rng.sample(range(6, 240), count), reverse=True)
    orders: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for index, ago in enumerate(days_ago):
        lines = []
        for product in rng.sample(products, rng.randint(1, 3)):
            size = rng.choice([c.value for c in product.sizes if c.in_stock] or [""])
            color = rng.choice([c.value for c in product.colors if c.in_stock] or [""])
            lines.append(Line(product.id, size, color, rng.choice((1, 1, 1, 2, 3))))
        status = "Shipped" if ago < 10 else "Delivered"
        order, rows = order_rows(
            catalog,
            first_id + index,
            lines,
            home,
            rng.choice(("standard", "standard", "express")),
            rng.random() < 0.3,
            today - dt.timedelta(days=ago),
            status,
        )
        orders.append(order)
        items.extend(rows)
    return tuple(orders), tuple(items)


_SCHEMA = """
CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, category TEXT, brand TEXT,
    price_cents INTEGER, rating REAL, reviews INTEGER, stock INTEGER);
CREATE TABLE product_options (product_id INTEGER, kind TEXT, value TEXT, extra_cents INTEGER,
    in_stock INTEGER);
CREATE TABLE orders (id INTEGER PRIMARY KEY, placed_on TEXT, status TEXT, full_name TEXT,
    street TEXT, city TEXT, zip TEXT, country TEXT, shipping TEXT, gift_wrap INTEGER,
    subtotal_cents INTEGER, shipping_cents INTEGER, gift_wrap_cents INTEGER, total_cents INTEGER);
CREATE TABLE order_items (id TEXT PRIMARY KEY, order_id INTEGER, product_id INTEGER,
    product_name TEXT, size TEXT, color TEXT, quantity INTEGER, unit_price_cents INTEGER);
"""


def build_database(catalog: Catalog) -> sqlite3.Connection:
    """The template database of a world: products, their options and the past orders."""
    database = sqlite3.connect(":memory:", check_same_thread=False)
    database.executescript(_SCHEMA)
    database.executemany(
        "INSERT INTO products VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (p.id, p.name, p.category, p.brand, p.price_cents, p.rating, p.reviews, p.stock)
            for p in catalog.products
        ],
    )
    database.executemany(
        "INSERT INTO product_options VALUES (?, ?, ?, ?, ?)",
        [
            (p.id, kind, c.value, c.extra_cents, int(c.in_stock))
            for p in catalog.products
            for kind, choices in (("size", p.sizes), ("color", p.colors))
            for c in choices
        ],
    )
    for order in catalog.orders:
        _insert(database, "orders", order)
    for item in catalog.order_items:
        _insert(database, "order_items", item)
    database.commit()
    return database


def _insert(database: sqlite3.Connection, table: str, row: dict[str, Any]) -> None:
    columns = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    database.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", tuple(row.values()))  # noqa: S608


def save_order(
    database: sqlite3.Connection, order: dict[str, Any], items: list[dict[str, Any]]
) -> None:
    """Store a placed order and take its units out of stock."""
    _insert(database, "orders", order)
    for item in items:
        _insert(database, "order_items", item)
        database.execute(
            "UPDATE products SET stock = stock - ? WHERE id = ?",
            (item["quantity"], item["product_id"]),
        )
    database.commit()
