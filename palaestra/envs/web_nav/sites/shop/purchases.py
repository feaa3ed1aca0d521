"""The shop's state-changing task templates: orders placed through the cart and the checkout.

The verifier compares the ``orders`` and ``order_items`` rows exactly (`plans.purchase_changes`
builds them with the checkout's own function). Level 1 buys an option-less product from its
page; level 2 chooses options and shipping; level 3 finds the product first, buys two, enters
a new address or repeats a past order. Requests the shop cannot fulfil (an option or a product
out of stock, more units than are left) are infeasible: the agent must give up.
"""

from __future__ import annotations

import random

from palaestra.envs.web_nav.sites.base import TaskTemplate, World
from palaestra.envs.web_nav.sites.shop.catalog import Catalog, Product, search
from palaestra.envs.web_nav.sites.shop.orders import Line
from palaestra.envs.web_nav.sites.shop.plans import (
    HOME,
    Purchase,
    add_steps,
    address_phrase,
    checkout_steps,
    find_steps,
    line_phrase,
    new_address,
    per_catalog,
    pick_line,
    product_path,
    purchase_changes,
    shipping_phrase,
)
from palaestra.envs.web_nav.tasks import (
    Step,
    WebTaskDraft,
    answer,
    click,
    give_up,
    select,
    type_text,
)

__all__ = ["PURCHASES"]

_VERBS = ("Buy", "Order", "Please order", "I'd like to buy", "Purchase")
_SAVED = (
    "Ship to my saved address.",
    "Send it to the address on my account.",
    "Deliver to my saved address.",
)


def _catalog(world: World) -> Catalog:
    catalog: Catalog = world.data
    return catalog


def _shipping(rng: random.Random) -> tuple[str, bool]:
    return rng.choice(("standard", "standard", "express")), rng.random() < 0.3


def _draft(
    catalog: Catalog, prompt: str, start: str, steps: list[Step], order: Purchase
) -> WebTaskDraft:
    plan = (*steps, *checkout_steps(catalog, order.address, order.shipping, order.gift_wrap))
    return WebTaskDraft(
        prompt, start, (*plan, answer("Done.")), changes=purchase_changes(catalog, order)
    )


# ------------------------------------------------------------------------------------ level 1
def buy_now(world: World, rng: random.Random) -> WebTaskDraft | None:
    """One unit of an option-less product, from its page, to the saved address."""
    catalog = _catalog(world)
    product = rng.choice([p for p in catalog.products if not (p.sizes or p.colors)])
    line = pick_line(rng, product)
    if line is None:
        return None
    order = Purchase((line,), None, "standard", False)
    prompt = (
        f"{rng.choice(_VERBS)} one {product.name} with standard shipping and no gift wrap. "
        f"{rng.choice(_SAVED)}"
    )
    return _draft(catalog, prompt, product_path(product), add_steps(product, line), order)


# ------------------------------------------------------------------------------------ level 2
def buy_on_page(world: World, rng: random.Random) -> WebTaskDraft | None:
    """A product with options and a quantity, from its page, with a shipping choice."""
    catalog = _catalog(world)
    product = rng.choice(catalog.products)
    line = pick_line(rng, product, rng.choice((1, 1, 2, 3)))
    if line is None:
        return None
    shipping, gift_wrap = _shipping(rng)
    order = Purchase((line,), None, shipping, gift_wrap)
    prompt = (
        f"{rng.choice(_VERBS)} {line_phrase(product, line, rng)}. {rng.choice(_SAVED)} "
        f"{shipping_phrase(shipping, gift_wrap, rng)}"
    )
    return _draft(catalog, prompt, product_path(product), add_steps(product, line), order)


def _sells_out_of_an_option(product: Product) -> bool:
    """Whether the product is in stock but one of its options is not."""
    choices = (*product.sizes, *product.colors)
    return product.stock > 0 and any(not c.in_stock for c in choices)


def _sold_out_choice(rng: random.Random, product: Product) -> Line | None:
    """A line that asks for an option of the product that is out of stock."""
    gone = [(k, c) for k, cs in (("size", product.sizes), ("color", product.colors)) for c in cs]
    gone = [(k, c) for k, c in gone if not c.in_stock]
    if not gone or product.stock == 0:
        return None
    kind, choice = rng.choice(gone)
    other = pick_line(rng, product)
    if other is None:
        return None
    size = choice.value if kind == "size" else other.size
    color = choice.value if kind == "color" else other.color
    return Line(product.id, size, color, 1)


def cannot_buy(world: World, rng: random.Random) -> WebTaskDraft | None:
    """An order the shop cannot take: an option sold out, the product sold out, too many units."""
    catalog = _catalog(world)
    why = rng.choice(("option", "product", "quantity"))
    candidates = {
        "option": [p for p in catalog.products if _sells_out_of_an_option(p)],
        "product": [p for p in catalog.products if p.stock == 0],
        "quantity": [p for p in catalog.products if 0 < p.stock < 8],
    }[why]
    if not candidates:
        return None
    product = rng.choice(candidates)
    start, steps = HOME, find_steps(catalog, product)
    if why == "option":
        line = _sold_out_choice(rng, product)
        reason = "The option asked for is out of stock."
    elif why == "product":
        line = pick_line(rng, product, in_stock=False)
        reason = "The product is out of stock."
    else:
        line = pick_line(rng, product, rng.randint(product.stock + 1, 10), in_stock=False)
        start, steps = product_path(product), add_steps(product, line)
        reason = f"Only {product.stock} units are in stock."
    if line is None or steps is None:
        return None
    prompt = (
        f"{rng.choice(_VERBS)} {line_phrase(product, line, rng)}. {rng.choice(_SAVED)} "
        "Use standard shipping."
    )
    return WebTaskDraft(prompt, start, (*steps, give_up(reason)), feasible=False)


# ------------------------------------------------------------------------------------ level 3
def buy_to_new_address(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Find a product, choose its options, and ship it to a new address."""
    catalog = _catalog(world)
    product = rng.choice(catalog.products)
    line = pick_line(rng, product, rng.choice((1, 1, 2)))
    steps = find_steps(catalog, product)
    if line is None or steps is None:
        return None
    shipping, gift_wrap = _shipping(rng)
    address = new_address(rng, catalog)
    order = Purchase((line,), address, shipping, gift_wrap)
    prompt = (
        f"{rng.choice(_VERBS)} {line_phrase(product, line, rng)}. "
        f"{address_phrase(address, catalog, rng)} {shipping_phrase(shipping, gift_wrap, rng)}"
    )
    return _draft(catalog, prompt, HOME, steps + add_steps(product, line), order)


def buy_two(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Two different products in one order, to the saved or a new address."""
    catalog = _catalog(world)
    first, second = rng.sample(catalog.products, 2)
    line_1, line_2 = pick_line(rng, first, rng.choice((1, 2))), pick_line(rng, second)
    find_1, find_2 = find_steps(catalog, first), find_steps(catalog, second)
    if line_1 is None or line_2 is None or find_1 is None or find_2 is None:
        return None
    shipping, gift_wrap = _shipping(rng)
    address = new_address(rng, catalog) if rng.random() < 0.5 else None
    order = Purchase((line_1, line_2), address, shipping, gift_wrap)
    where = address_phrase(address, catalog, rng) if address else rng.choice(_SAVED)
    prompt = (
        f"{rng.choice(_VERBS)} {line_phrase(first, line_1, rng)} and "
        f"{line_phrase(second, line_2, rng)}, in one order. {where} "
        f"{shipping_phrase(shipping, gift_wrap, rng)}"
    )
    steps = find_1 + add_steps(first, line_1) + find_2 + add_steps(second, line_2)
    return _draft(catalog, prompt, HOME, steps, order)


def _cheapest_of_brands(catalog: Catalog) -> list[Product]:
    """The cheapest product of each brand and category, where a plain request can buy it.

    It must be cheaper than the brand's next product there and have no options to name.
    """
    fits = []
    for brand, category in sorted({(p.brand, p.category) for p in catalog.products}):
        listed = search(catalog.products, brand, category, sort="price_asc")
        if len(listed) >= 2 and listed[0].price_cents < listed[1].price_cents:
            if not (listed[0].sizes or listed[0].colors) and listed[0].stock >= 2:
                fits.append(listed[0])
    return fits


def buy_cheapest(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Find the cheapest product of a brand in a category (filters and sorting), then buy it."""
    catalog = _catalog(world)
    fits = per_catalog(catalog, _cheapest_of_brands)
    if not fits:
        return None
    cheapest = rng.choice(fits)
    line = pick_line(rng, cheapest, rng.choice((1, 1, 2)))
    if line is None:
        return None
    shipping, gift_wrap = _shipping(rng)
    order = Purchase((line,), None, shipping, gift_wrap)
    units = "one unit" if line.quantity == 1 else f"{line.quantity} units"
    prompt = (
        f"{rng.choice(_VERBS)} {units} of the cheapest {cheapest.brand} product in the "
        f"{cheapest.category} category. {rng.choice(_SAVED)} "
        f"{shipping_phrase(shipping, gift_wrap, rng)}"
    )
    steps = [
        type_text("Search", cheapest.brand),
        click("button", "Search"),
        select("Category", cheapest.category),
        select("Sort by", "Price: low to high"),
        click("button", "Apply filters"),
        click("link", cheapest.name),
        *add_steps(cheapest, line),
    ]
    return _draft(catalog, prompt, HOME, steps, order)


def buy_again(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Repeat one line of a past order: same product, options and quantity."""
    catalog = _catalog(world)
    item = rng.choice(catalog.order_items)
    order_id = item["order_id"]
    same = [
        i
        for i in catalog.order_items
        if (i["order_id"], i["product_id"]) == (order_id, item["product_id"])
    ]
    product = catalog.by_id[item["product_id"]]
    line = Line(product.id, item["size"], item["color"], item["quantity"])
    steps = find_steps(catalog, product)
    if len(same) > 1 or product.stock < line.quantity or steps is None:
        return None
    shipping, gift_wrap = _shipping(rng)
    order = Purchase((line,), None, shipping, gift_wrap)
    prompt = (
        f"Order the {product.name} from my order #{order_id} again, with the same options and "
        f"quantity. {rng.choice(_SAVED)} {shipping_phrase(shipping, gift_wrap, rng)}"
    )
    look = [click("link", "My orders"), click("link", f"Order #{order_id}")]
    return _draft(catalog, prompt, HOME, look + steps + add_steps(product, line), order)


def second_sold_out(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Two products in one order, the second in an option that is out of stock: give up."""
    catalog = _catalog(world)
    second = rng.choice([p for p in catalog.products if _sells_out_of_an_option(p)])
    first = rng.choice([p for p in catalog.products if p is not second])
    line = pick_line(rng, first)
    unavailable = _sold_out_choice(rng, second)
    finds = (find_steps(catalog, first), find_steps(catalog, second))
    if line is None or unavailable is None or finds[0] is None or finds[1] is None:
        return None
    prompt = (
        f"{rng.choice(_VERBS)} {line_phrase(first, line, rng)} together with "
        f"{line_phrase(second, unavailable, rng)}, in one order. {rng.choice(_SAVED)} "
        "Use standard shipping. Only order if both are available."
    )
    plan = (
        *finds[0],
        *add_steps(first, line),
        *finds[1],
        give_up(f"The {second.name} is out of stock in the option asked for."),
    )
    return WebTaskDraft(prompt, HOME, plan, feasible=False)


_LEVEL_1: list[TaskTemplate] = [buy_now, buy_now, buy_now]
_LEVEL_2: list[TaskTemplate] = [buy_on_page, buy_on_page, buy_on_page, buy_on_page, cannot_buy]
_LEVEL_3: list[TaskTemplate] = [buy_to_new_address, buy_to_new_address, buy_to_new_address]
_LEVEL_3 += [buy_two, buy_two, buy_two, buy_cheapest, buy_again, second_sold_out]
PURCHASES = {1: _LEVEL_1, 2: _LEVEL_2, 3: _LEVEL_3}
"""Purchase templates by level (a template listed more than once is drawn more often)."""
