"""The shop's information-seeking task templates (and the impossible question), by level.

Level 1 reads one product or order page; level 2 needs the search filters, sorting, or a
product found by search; level 3 compares several pages. Delivery questions need the
"Check delivery" button, so they are JavaScript tasks (``requires_js``).
"""

from __future__ import annotations

import random

from palaestra.envs.web_nav.sites.base import TaskTemplate, World
from palaestra.envs.web_nav.sites.shop.catalog import Catalog, Product, search, unlisted_name
from palaestra.envs.web_nav.sites.shop.checkout import long_date
from palaestra.envs.web_nav.sites.shop.orders import delivery_days, unit_price_cents
from palaestra.envs.web_nav.sites.shop.pages import PAGE_SIZE
from palaestra.envs.web_nav.sites.shop.plans import (
    HOME,
    category_page,
    dollars,
    find_steps,
    per_catalog,
    product_path,
    random_category,
)
from palaestra.envs.web_nav.tasks import (
    Answer,
    WebTaskDraft,
    answer,
    back,
    click,
    give_up,
    select,
    type_text,
)

__all__ = ["QUESTIONS"]


def _catalog(world: World) -> Catalog:
    catalog: Catalog = world.data
    return catalog


def _money(cents: int) -> Answer:
    return Answer(f"{cents / 100:.2f}", "money")


def _zip(rng: random.Random) -> str:
    return f"{rng.randint(10000, 99999)}"


# ------------------------------------------------------------------------------------ level 1
def price_by_search(world: World, rng: random.Random) -> WebTaskDraft | None:
    """The price of a product, read from the results of a search for it."""
    catalog = _catalog(world)
    product = rng.choice(catalog.products)
    steps = find_steps(catalog, product)
    if steps is None:
        return None
    prompt = rng.choice(
        (
            "What does the {name} cost?",
            "How much is the {name}? Answer with the price in dollars.",
            "What's the listed price of the {name}?",
            "Find the price of the {name}.",
        )
    ).format(name=product.name)
    value = _money(product.price_cents)
    return WebTaskDraft(
        prompt, HOME, (*steps[:2], answer(dollars(product.price_cents))), answer=value
    )


def product_fact(world: World, rng: random.Random) -> WebTaskDraft | None:
    """A fact only the product page shows (reviews, weight, warranty, stock), from its category."""
    catalog = _catalog(world)
    product = rng.choice(catalog.products)
    fact = rng.choice(("reviews", "weight", "warranty", "stock"))
    prompts = {
        "reviews": ("How many reviews does the {name} have?", str(product.reviews)),
        "weight": ("How much does the {name} weigh, in kilograms?", str(product.weight_kg)),
        "warranty": (
            "How many years of warranty come with the {name}?",
            str(product.warranty_years),
        ),
        "stock": (
            "How many units of the {name} are in stock? Answer with a number.",
            str(product.stock),
        ),
    }
    question, value = prompts[fact]
    category = rng.choice(("", " It is in the {category} category.", " Look in {category}."))
    prompt = question.format(name=product.name) + category.format(category=product.category)
    start = category_page(catalog, product) if category else HOME
    steps = [click("link", product.name)] if category else find_steps(catalog, product)
    if steps is None:
        return None
    return WebTaskDraft(prompt, start, (*steps, answer(value)), answer=Answer(value, "number"))


def option_price(world: World, rng: random.Random) -> WebTaskDraft | None:
    """The price of a product with one chosen option that changes the price."""
    catalog = _catalog(world)
    priced = [
        (p, kind, c)
        for p in catalog.products
        for kind, choices in (("size", p.sizes), ("color", p.colors))
        for c in choices
        if c.extra_cents and c.in_stock
    ]
    product, kind, choice = rng.choice(priced)
    cents = product.price_cents + choice.extra_cents
    prompt = rng.choice(
        (
            "How much does the {name} cost in {kind} {value}?",
            "What is the price of the {name} when you choose {kind} {value}?",
        )
    ).format(name=product.name, kind=kind, value=choice.value)
    prompt += f" It is listed under {product.category}."
    plan = (click("link", product.name), answer(dollars(cents)))
    return WebTaskDraft(prompt, category_page(catalog, product), plan, answer=_money(cents))


def order_total(world: World, rng: random.Random) -> WebTaskDraft | None:
    """The total of a past order, from My orders."""
    order = rng.choice(_catalog(world).orders)
    prompt = rng.choice(
        (
            f"What was the total of my order #{order['id']}?",
            f"How much did I pay in total for my order of {long_date(order['placed_on'])}?",
            f"What is the order total of order number {order['id']}?",
        )
    )
    cents = int(order["total_cents"])
    plan = (click("link", "My orders"), answer(dollars(cents)))
    return WebTaskDraft(prompt, HOME, plan, answer=_money(cents))


def order_line(world: World, rng: random.Random) -> WebTaskDraft | None:
    """How many units, or which option, of a product a past order has."""
    catalog = _catalog(world)
    item = rng.choice(catalog.order_items)
    order_id = item["order_id"]
    product = item["product_name"]
    same = [
        i for i in catalog.order_items if (i["order_id"], i["product_name"]) == (order_id, product)
    ]
    asks = [("quantity", "How many units of the {product} did I buy in order #{order}?")]
    if item["size"] and len(same) == 1:
        asks.append(
            (
                "size",
                "Which size of the {product} did I order in order #{order}? Give just the size.",
            )
        )
    if item["color"] and len(same) == 1:
        asks.append(
            ("color", "What color was the {product} in my order #{order}? Give just the color.")
        )
    what, question = rng.choice(asks)
    value = str(sum(i["quantity"] for i in same)) if what == "quantity" else str(item[what])
    plan = (click("link", "My orders"), click("link", f"Order #{order_id}"), answer(value))
    prompt = question.format(product=product, order=order_id)
    expected = Answer(value, "number") if what == "quantity" else Answer(value)
    return WebTaskDraft(prompt, HOME, plan, answer=expected)


def delivery_on_page(world: World, rng: random.Random) -> WebTaskDraft | None:
    """How many days delivery to a ZIP code takes, with the product page open (JavaScript)."""
    product = rng.choice(_catalog(world).products)
    zip_code = _zip(rng)
    days = str(delivery_days(product.id, zip_code))
    prompt = rng.choice(
        (
            "How many days does delivery of the {name} to ZIP code {zip} take?",
            "If I order the {name} now, in how many days would it arrive at ZIP {zip}?",
        )
    ).format(name=product.name, zip=zip_code)
    plan = (type_text("Delivery ZIP", zip_code), click("button", "Check delivery"), answer(days))
    return WebTaskDraft(
        prompt, product_path(product), plan, answer=Answer(days, "number"), requires_js=True
    )


def missing_product(world: World, rng: random.Random) -> WebTaskDraft | None:
    """A question about a product the shop does not sell: the answer is to give up."""
    name = unlisted_name(rng, _catalog(world))
    if name is None:
        return None
    prompt = rng.choice(
        (
            "What does the {name} cost?",
            "How many reviews does the {name} have?",
            "What is the rating of the {name}?",
        )
    ).format(name=name)
    plan = (
        type_text("Search", name),
        click("button", "Search"),
        give_up(f"The shop does not sell a product called {name}."),
    )
    return WebTaskDraft(prompt, HOME, plan, feasible=False)


# ------------------------------------------------------------------------------------ level 2
def _under(rng: random.Random, products: list[Product]) -> tuple[int, list[Product]] | None:
    """A whole-dollar price limit that keeps some of the products and leaves out others."""
    prices = sorted({p.price_cents for p in products})
    gaps = [
        dollars_
        for low, high in zip(prices, prices[1:], strict=False)
        for dollars_ in [low // 100 + 1]
        if dollars_ * 100 < high
    ]
    if not gaps:
        return None
    limit = rng.choice(gaps)
    return limit, [p for p in products if p.price_cents <= limit * 100]


def priciest_brand_under(world: World, rng: random.Random) -> WebTaskDraft | None:
    """The most expensive product of a brand in a category within a budget (filters + sort)."""
    catalog = _catalog(world)
    product = rng.choice(catalog.products)
    brand, category = product.brand, product.category
    found = _under(rng, search(catalog.products, brand, category))
    if found is None:
        return None
    limit, kept = found
    best = max(kept, key=lambda p: p.price_cents)
    if [p.price_cents for p in kept].count(best.price_cents) > 1:
        return None
    prompt = rng.choice(
        (
            "Which is the most expensive {brand} product in {category} costing at most ${limit}?",
            "Among {brand} products in the {category} category priced ${limit} or less, which one "
            "costs the most?",
        )
    ).format(brand=brand, category=category, limit=limit)
    plan = (
        type_text("Search", brand),
        click("button", "Search"),
        select("Category", category),
        type_text("Max price", str(limit)),
        select("Sort by", "Price: high to low"),
        click("button", "Apply filters"),
        answer(best.name),
    )
    return WebTaskDraft(prompt, HOME, plan, answer=Answer(best.name))


def top_rated_under(world: World, rng: random.Random) -> WebTaskDraft | None:
    """The best-rated product of a category within a budget."""
    catalog = _catalog(world)
    category = random_category(rng)
    found = _under(rng, search(catalog.products, category=category))
    if found is None:
        return None
    limit, kept = found
    ranked = sorted(kept, key=lambda p: -p.rating)
    if len(ranked) < 2 or ranked[0].rating == ranked[1].rating:
        return None
    prompt = rng.choice(
        (
            "What is the highest-rated {category} product that costs ${limit} or less?",
            "I have ${limit} to spend in {category}. Which product there has the best rating?",
        )
    ).format(category=category, limit=limit)
    plan = (
        click("link", category),
        type_text("Max price", str(limit)),
        select("Sort by", "Rating: high to low"),
        click("button", "Apply filters"),
        answer(ranked[0].name),
    )
    return WebTaskDraft(prompt, HOME, plan, answer=Answer(ranked[0].name))


def count_under(world: World, rng: random.Random) -> WebTaskDraft | None:
    """How many products of a category cost at most some amount."""
    catalog = _catalog(world)
    category = random_category(rng)
    found = _under(rng, search(catalog.products, category=category))
    if found is None:
        return None
    limit, kept = found
    prompt = f"How many products in the {category} category cost ${limit} or less?"
    plan = (
        click("link", category),
        type_text("Max price", str(limit)),
        click("button", "Apply filters"),
        answer(str(len(kept))),
    )
    return WebTaskDraft(prompt, HOME, plan, answer=Answer(str(len(kept)), "number"))


def pricier_option(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Which of two options of a product costs more."""
    catalog = _catalog(world)
    pairs = [
        (p, kind, a, b)
        for p in catalog.products
        for kind, choices in (("size", p.sizes), ("color", p.colors))
        for a in choices
        for b in choices
        if a.extra_cents > b.extra_cents and a.in_stock and b.in_stock
    ]
    product, kind, dearer, cheaper = rng.choice(pairs)
    steps = find_steps(catalog, product)
    if steps is None:
        return None
    first, second = (dearer, cheaper) if rng.random() < 0.5 else (cheaper, dearer)
    prompt = (
        f"For the {product.name}, which {kind} costs more: {first.value} or {second.value}? "
        f"Answer with the {kind}."
    )
    plan = (*steps, answer(dearer.value))
    return WebTaskDraft(prompt, HOME, plan, answer=Answer(dearer.value))


def line_cost(world: World, rng: random.Random) -> WebTaskDraft | None:
    """What some units of a product with options cost before shipping."""
    catalog = _catalog(world)
    product = rng.choice([p for p in catalog.products if p.sizes or p.colors])
    # An option out of stock does not show what it adds to the price, so ask about others.
    size = rng.choice([c.value for c in product.sizes if c.in_stock] or [""])
    color = rng.choice([c.value for c in product.colors if c.in_stock] or [""])
    quantity = rng.randint(2, 5)
    steps = find_steps(catalog, product)
    if steps is None:
        return None
    chosen = " and ".join(x for x in (size and f"size {size}", color and f"color {color}") if x)
    cents = unit_price_cents(product, size, color) * quantity
    prompt = f"How much would {quantity} of the {product.name} in {chosen} cost, before shipping?"
    return WebTaskDraft(prompt, HOME, (*steps, answer(dollars(cents))), answer=_money(cents))


def more_reviews(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Which of two products has more reviews."""
    catalog = _catalog(world)
    first, second = rng.sample(catalog.products, 2)
    if first.reviews == second.reviews:
        return None
    find_first, find_second = find_steps(catalog, first), find_steps(catalog, second)
    if find_first is None or find_second is None:
        return None
    winner = max((first, second), key=lambda p: p.reviews)
    prompt = f"Which has more reviews: the {first.name} or the {second.name}?"
    plan = (*find_first, *find_second, answer(winner.name))
    return WebTaskDraft(prompt, HOME, plan, answer=Answer(winner.name))


def delivery_by_search(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Delivery days of a product found by search (JavaScript)."""
    catalog = _catalog(world)
    product = rng.choice(catalog.products)
    steps = find_steps(catalog, product)
    if steps is None:
        return None
    zip_code = _zip(rng)
    days = str(delivery_days(product.id, zip_code))
    prompt = f"How many days would the {product.name} take to arrive at ZIP code {zip_code}?"
    plan = (
        *steps,
        type_text("Delivery ZIP", zip_code),
        click("button", "Check delivery"),
        answer(days),
    )
    return WebTaskDraft(prompt, HOME, plan, answer=Answer(days, "number"), requires_js=True)


# ------------------------------------------------------------------------------------ level 3
_Budget = tuple[str, str, int, list[Product]]


def _brand_budgets(catalog: Catalog) -> list[_Budget]:
    """(brand, category, whole-dollar limit, the products it keeps) for comparing a few.

    A budget keeps two to a page of products, leaves some out and has no tie in reviews.
    """
    budgets = []
    for brand, category in sorted({(p.brand, p.category) for p in catalog.products}):
        listed = search(catalog.products, brand, category)
        for limit in sorted({p.price_cents // 100 + 1 for p in listed}):
            kept = [p for p in listed if p.price_cents <= limit * 100]
            if 2 <= len(kept) <= PAGE_SIZE and len(kept) < len(listed):
                if len({p.reviews for p in kept}) == len(kept):
                    budgets.append((brand, category, limit, kept))
    return budgets


def most_reviewed_of_brand(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Among a brand's products of a category within a budget, the one with the most reviews."""
    budgets = per_catalog(_catalog(world), _brand_budgets)
    if not budgets:
        return None
    brand, category, limit, shown = rng.choice(budgets)
    best = max(shown, key=lambda p: p.reviews)
    prompt = (
        f"Of the {brand} products in {category} that cost ${limit} or less, "
        "which one has the most reviews?"
    )
    visits = [step for p in shown for step in (click("link", p.name), back())]
    plan = (
        type_text("Search", brand),
        click("button", "Search"),
        select("Category", category),
        type_text("Max price", str(limit)),
        click("button", "Apply filters"),
        *visits[:-1],
        answer(best.name),
    )
    return WebTaskDraft(prompt, HOME, plan, answer=Answer(best.name))


def faster_delivery(world: World, rng: random.Random) -> WebTaskDraft | None:
    """Which of two products arrives sooner at a ZIP code (JavaScript)."""
    catalog = _catalog(world)
    first, second = rng.sample(catalog.products, 2)
    zip_code = _zip(rng)
    days = {p.name: delivery_days(p.id, zip_code) for p in (first, second)}
    find_first, find_second = find_steps(catalog, first), find_steps(catalog, second)
    if days[first.name] == days[second.name] or find_first is None or find_second is None:
        return None
    sooner = min(days, key=lambda name: days[name])
    prompt = (
        f"Which would arrive sooner at ZIP code {zip_code}: the {first.name} or the {second.name}?"
    )
    check_it = [type_text("Delivery ZIP", zip_code), click("button", "Check delivery")]
    plan = (*find_first, *check_it, *find_second, *check_it, answer(sooner))
    return WebTaskDraft(prompt, HOME, plan, answer=Answer(sooner), requires_js=True)


_LEVEL_1: list[TaskTemplate] = [price_by_search, price_by_search, product_fact, product_fact]
_LEVEL_1 += [option_price, order_total, order_line, delivery_on_page, missing_product]
_LEVEL_2: list[TaskTemplate] = [priciest_brand_under, top_rated_under, count_under]
_LEVEL_2 += [pricier_option, line_cost, more_reviews, delivery_by_search]
_LEVEL_3: list[TaskTemplate] = [most_reviewed_of_brand, faster_delivery]
QUESTIONS = {1: _LEVEL_1, 2: _LEVEL_2, 3: _LEVEL_3}
"""Question templates by level (a template listed twice is drawn twice as often)."""
