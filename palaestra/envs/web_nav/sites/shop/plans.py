"""Pieces of the shop's gold plans and prompts that many task templates share.

A plan finds a product by typing its full name into the search box (its link is then on the
first results page), chooses options by the labels the drop-downs show, and checks out from the
cart; `purchase_changes` turns a `Purchase` into the rows the order must end as.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, overload

from palaestra.envs.web_nav.sites.shop.catalog import (
    CATEGORIES,
    COUNTRIES,
    Catalog,
    Product,
    person_name,
    search,
    street_and_city,
)
from palaestra.envs.web_nav.sites.shop.orders import Address, Line, order_rows
from palaestra.envs.web_nav.sites.shop.pages import PAGE_SIZE, results_path
from palaestra.envs.web_nav.tasks import Step, check, click, select, type_text

__all__ = [
    "HOME",
    "Purchase",
    "add_steps",
    "address_phrase",
    "category_page",
    "checkout_steps",
    "dollars",
    "find_steps",
    "line_phrase",
    "new_address",
    "per_catalog",
    "pick_line",
    "product_path",
    "purchase_changes",
    "random_category",
    "shipping_phrase",
]

HOME = "/shop/"
T = TypeVar("T")
_CACHE: dict[tuple[int, str], tuple[Catalog, Any]] = {}


def per_catalog(catalog: Catalog, compute: Callable[[Catalog], T]) -> T:
    """``compute(catalog)``, computed once per catalog (for candidates that take many searches)."""
    key = (id(catalog), compute.__qualname__)
    cached = _CACHE.get(key)
    if cached is None or cached[0] is not catalog:
        cached = _CACHE[key] = (catalog, compute(catalog))
    result: T = cached[1]
    return result


def product_path(product: Product) -> str:
    """The product page's path, as a task's start."""
    return f"/shop/product/{product.id}"


def dollars(cents: int) -> str:
    """An amount as prompts and answers write it: ``$12.99``."""
    return f"${cents / 100:,.2f}"


def find_steps(catalog: Catalog, product: Product) -> list[Step] | None:
    """Search for the product by its name and open it; None if it is not on the first page."""
    if product not in search(catalog.products, product.name)[:PAGE_SIZE]:
        return None
    return [
        type_text("Search", product.name),
        click("button", "Search"),
        click("link", product.name),
    ]


def category_page(catalog: Catalog, product: Product) -> str:
    """The path of the category listing page that shows the product."""
    listing = search(catalog.products, category=product.category)
    page = listing.index(product) // PAGE_SIZE + 1
    return "/shop" + results_path(category=product.category, page=page if page > 1 else "")


@overload
def pick_line(rng: random.Random, product: Product, quantity: int = 1) -> Line | None: ...
@overload
def pick_line(
    rng: random.Random, product: Product, quantity: int = 1, *, in_stock: Literal[False]
) -> Line: ...
def pick_line(
    rng: random.Random, product: Product, quantity: int = 1, *, in_stock: bool = True
) -> Line | None:
    """A line of the product with available options; None if its stock is short of the quantity.

    With ``in_stock=False`` the stock is not checked (for requests the shop must refuse).
    """
    if in_stock and product.stock < quantity:
        return None
    size = rng.choice([c.value for c in product.sizes if c.in_stock] or [""])
    color = rng.choice([c.value for c in product.colors if c.in_stock] or [""])
    return Line(product.id, size, color, quantity)


def line_phrase(product: Product, line: Line, rng: random.Random) -> str:
    """How a user asks for a line: ``2 of the Harbor Enamel Mug in size M and color Navy``."""
    options = [
        f"size {line.size}" if line.size else "",
        f"color {line.color}" if line.color else "",
    ]
    chosen = " and ".join(o for o in options if o)
    count = rng.choice(
        (f"{line.quantity} of the", f"{line.quantity} x the")
        if line.quantity > 1
        else ("the", "one", "a single")
    )
    return f"{count} {product.name}" + (f" in {chosen}" if chosen else "")


def add_steps(product: Product, line: Line) -> list[Step]:
    """On the product page: choose the options, the quantity, and add the line to the cart."""
    steps = []
    size, color = product.size(line.size), product.color(line.color)
    if size is not None:
        steps.append(select("Size", size.label))
    if color is not None:
        steps.append(select("Color", color.label))
    if line.quantity != 1:
        steps.append(type_text("Quantity", str(line.quantity)))
    steps.append(click("button", "Add to cart"))
    return steps


def new_address(rng: random.Random, catalog: Catalog) -> Address:
    """An address other than the customer's saved one (sometimes for another person)."""
    customer = catalog.customer
    name = customer.name if rng.random() < 0.5 else person_name(rng)
    street, city = street_and_city(rng)
    country = customer.country if rng.random() < 0.5 else rng.choice(COUNTRIES)
    return Address(name, street, city, f"{rng.randint(10000, 99999)}", country)


def address_phrase(address: Address, catalog: Catalog, rng: random.Random) -> str:
    """The new address as the prompt states it, with every value the form needs."""
    recipient = (
        "me" if address.full_name == catalog.customer.name else f"{address.full_name} (full name)"
    )
    return rng.choice(
        (
            f"Ship the order to {recipient} at street {address.street}, city {address.city}, "
            f"ZIP code {address.zip}, {address.country}.",
            f"Deliver to {recipient}: {address.street}, {address.city}, ZIP {address.zip}, "
            f"country {address.country}.",
        )
    )


def shipping_phrase(shipping: str, gift_wrap: bool, rng: random.Random) -> str:
    """The shipping method and gift wrap as the prompt asks for them."""
    method = "express shipping" if shipping == "express" else "standard shipping"
    wrap = rng.choice(("with gift wrap", "gift wrapped")) if gift_wrap else "no gift wrap"
    return f"Use {method}, {wrap}."


def checkout_steps(
    catalog: Catalog, address: Address | None, shipping: str, gift_wrap: bool
) -> list[Step]:
    """From the cart: the checkout form (a new address, or the saved one kept) and the order."""
    customer = catalog.customer
    steps = [click("link", "Checkout")]
    if address is not None:
        if address.full_name != customer.name:
            steps.append(type_text("Full name", address.full_name))
        steps += [
            type_text("Street", address.street),
            type_text("City", address.city),
            type_text("ZIP code", address.zip),
        ]
        if address.country != customer.country:
            steps.append(select("Country", address.country))
    if shipping == "express":
        steps.append(check("Express shipping", role="radio"))
    if gift_wrap:
        steps.append(check("Gift wrap"))
    steps.append(click("button", "Place order"))
    return steps


@dataclass(frozen=True)
class Purchase:
    """What a purchase task orders and how."""

    lines: tuple[Line, ...]
    address: Address | None
    """None: the customer's saved address."""
    shipping: str
    gift_wrap: bool


def purchase_changes(catalog: Catalog, order: Purchase) -> dict[str, dict[str, Any]]:
    """The rows the purchase must add: one order (the next id) and its lines."""
    customer = catalog.customer
    saved = Address(customer.name, customer.street, customer.city, customer.zip, customer.country)
    order_id = max(int(o["id"]) for o in catalog.orders) + 1
    row, items = order_rows(
        catalog,
        order_id,
        list(order.lines),
        order.address or saved,
        order.shipping,
        order.gift_wrap,
        catalog.today,
    )
    return {"orders": {str(order_id): row}, "order_items": {i["id"]: i for i in items}}


def random_category(rng: random.Random) -> str:
    """A category name."""
    return rng.choice(list(CATEGORIES))
