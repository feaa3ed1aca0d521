"""The shop site: its generated worlds, its pages and forms, and its tasks (solvable, verified)."""

from __future__ import annotations

import itertools
import re

import pytest

pytest.importorskip("starlette")
pytest.importorskip("lxml")

import gymnasium as gym  # noqa: E402
import httpx  # noqa: E402

import palaestra  # noqa: E402, F401
from palaestra.envs.web_nav.host import COOKIE, host  # noqa: E402
from palaestra.envs.web_nav.sites import SITES  # noqa: E402
from palaestra.envs.web_nav.sites.base import snapshot  # noqa: E402
from palaestra.envs.web_nav.sites.shop import ShopSite  # noqa: E402
from palaestra.envs.web_nav.sites.shop.catalog import search  # noqa: E402
from palaestra.envs.web_nav.sites.shop.orders import (  # noqa: E402
    Address,
    Line,
    delivery_days,
    order_rows,
)
from palaestra.envs.web_nav.tasks import WebTasks, make_task  # noqa: E402

SHOP = SITES["shop"]
WORLD = SHOP.world(0)
CATALOG = WORLD.data


@pytest.fixture
def session():
    opened = host().open_session("shop", 0)
    yield opened
    host().close_session(opened.token)


def client_of(session) -> httpx.Client:
    client = httpx.Client(transport=host().transport(), base_url="http://web")
    client.cookies.set(COOKIE, session.token)
    return client


@pytest.fixture
def client(session):
    with client_of(session) as opened:
        yield opened


def state(session):
    return snapshot(session.database, SHOP.state_tables)


def product_where(test):
    return next(p for p in CATALOG.products if test(p))


def cart_rows(client) -> list[str]:
    return re.findall(r"<tr><td>([^<]+)</td>", client.get("/shop/cart").text)


# ------------------------------------------------------------------------------------ the world
def test_worlds_are_deterministic_and_differ_by_seed():
    again = ShopSite().generate(0)
    assert again.data.products == CATALOG.products
    assert again.data.orders == CATALOG.orders and again.data.order_items == CATALOG.order_items
    assert snapshot(again.template, SHOP.state_tables) == WORLD.initial_state
    other = ShopSite().generate(1)
    assert [p.name for p in other.data.products] != [p.name for p in CATALOG.products]


@pytest.mark.parametrize("seed", range(SHOP.worlds))
def test_world_content_is_what_the_pages_and_tasks_assume(seed):
    catalog = SHOP.world(seed).data
    names = [p.name for p in catalog.products]
    assert 120 <= len(names) <= 200 and len(set(names)) == len(names)
    assert 2 <= len(catalog.orders) <= 4
    for product in catalog.products:
        for choices in (product.sizes, product.colors):
            assert not choices or any(c.in_stock for c in choices)
        assert product in search(catalog.products, product.name)[:8]  # found by its name
    initial = SHOP.world(seed).initial_state
    assert set(initial) == {"orders", "order_items"}
    assert len(initial["orders"]) == len(catalog.orders)


def test_order_rows_price_options_shipping_and_gift_wrap():
    product = product_where(lambda p: any(c.extra_cents and c.in_stock for c in p.sizes))
    size = next(c for c in product.sizes if c.extra_cents and c.in_stock)
    line = Line(product.id, size.value, "", 2)
    address = Address("A B", "1 Elm Street", "Lakeside", "12345", "Germany")
    order, items = order_rows(CATALOG, 5, [line], address, "express", True, CATALOG.today)
    unit = product.price_cents + size.extra_cents
    assert (
        items[0]["unit_price_cents"] == unit and items[0]["id"] == f"5:{product.id}:{size.value}:"
    )
    assert order["total_cents"] == 2 * unit + 1499 + 450
    cheap, _ = order_rows(CATALOG, 6, [line], address, "standard", False, CATALOG.today)
    assert cheap["shipping_cents"] == (0 if 2 * unit >= 7500 else 599)


# ------------------------------------------------------------------------------------ the pages
def test_every_page_is_html_with_the_shop_navigation(client):
    product = CATALOG.products[0]
    order = CATALOG.orders[0]
    for path in (
        "/shop/",
        "/shop/search?q=mug",
        "/shop/search?category=Kitchen&sort=price_asc&page=2",
        f"/shop/product/{product.id}",
        "/shop/cart",
        "/shop/checkout",
        "/shop/orders",
        f"/shop/orders/{order['id']}",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.text.startswith("<!DOCTYPE html>") and 'href="/shop/cart"' in response.text
    assert client.get("/shop/product/99999").status_code == 404
    assert client.get("/shop/orders/1").status_code == 404


def test_results_filter_sort_and_paginate(client):
    listing = search(CATALOG.products, category="Kitchen", sort="price_asc")
    page = client.get("/shop/search?category=Kitchen&sort=price_asc").text
    shown = [float(x) for x in re.findall(r"</a> - \$([\d,.]+) -", page)]
    assert len(shown) == 8 and shown == sorted(shown)
    assert listing[0].name in page and "Next page" in page and "Previous page" not in page
    second = client.get("/shop/search?category=Kitchen&sort=price_asc&page=2").text
    assert listing[8].name in second and "Previous page" in second
    limit = listing[3].price_cents / 100
    capped = client.get(f"/shop/search?category=Kitchen&max_price={limit}").text
    assert f"of {sum(p.price_cents <= listing[3].price_cents for p in listing)} products" in capped
    bad = client.get("/shop/search?max_price=cheap").text
    assert "Enter a maximum price" in bad


def test_delivery_api_is_deterministic_and_checks_the_zip(client):
    product = CATALOG.products[3]
    answer = client.get(f"/shop/api/delivery?product={product.id}&zip=12345").json()
    assert answer["days"] == delivery_days(product.id, "12345") and 2 <= answer["days"] <= 8
    assert answer["message"] == f"Arrives in {answer['days']} days"
    refused = client.get(f"/shop/api/delivery?product={product.id}&zip=123")
    assert refused.status_code == 422 and "5-digit" in refused.json()["error"]
    page = client.get(f"/shop/product/{product.id}").text
    assert 'data-js id="check-delivery"' in page and "palaestraFetch" in page


def add(client, product, quantity="1", **options):
    fields = {"product": str(product.id), "quantity": quantity, **options}
    return client.post("/shop/cart/add", data=fields)


def test_add_to_cart_refuses_bad_options_and_quantities(client, session):
    product = product_where(lambda p: p.stock > 2 and any(not c.in_stock for c in p.sizes))
    gone = next(c for c in product.sizes if not c.in_stock)
    fine = next(c for c in product.sizes if c.in_stock)
    color = next((c.value for c in product.colors if c.in_stock), "")
    refusals = [
        ({"color": color}, "1", "Choose a size."),
        ({"size": gone.value, "color": color}, "1", f"Size {gone.value} is out of stock."),
        ({"size": fine.value, "color": color}, "0", "Enter a quantity from 1 to 10."),
        ({"size": fine.value, "color": color}, "abc", "Enter a quantity from 1 to 10."),
        ({"size": fine.value, "color": color}, str(product.stock + 1), "left in stock"),
    ]
    for options, quantity, message in refusals:
        response = add(client, product, quantity, **options)
        assert response.status_code == 422 and message in response.text, message
        assert f'value="{quantity}"' in response.text  # what was typed is kept
    assert session.scratch.get("cart", []) == []
    sold_out = product_where(lambda p: p.stock == 0)
    options = {
        key: next(c.value for c in choices if c.in_stock)
        for key, choices in (("size", sold_out.sizes), ("color", sold_out.colors))
        if choices
    }
    assert "This product is out of stock." in add(client, sold_out, **options).text
    assert state(session) == WORLD.initial_state


def test_cart_adds_merges_and_removes_lines(client, session):
    first = product_where(lambda p: not (p.sizes or p.colors) and p.stock >= 3)
    second = product_where(lambda p: not (p.sizes or p.colors) and p.stock >= 1 and p != first)
    response = add(client, first)
    assert response.status_code == 303 and response.headers["location"] == "/shop/cart"
    add(client, first, "2")
    add(client, second)
    assert cart_rows(client) == [first.name, second.name]
    assert session.scratch["cart"][0].quantity == 3
    client.post("/shop/cart/remove", data={"line": f"{first.id}::"})
    assert cart_rows(client) == [second.name]


def checkout_form(**changes):
    fields = {
        "full_name": "Ines Kim",
        "street": "12 Cedar Lane",
        "city": "Riverton",
        "zip": "48213",
        "country": "Germany",
        "shipping": "express",
        "gift_wrap": "1",
    }
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not None}


def test_checkout_validates_on_the_server_and_keeps_what_was_typed(client, session):
    product = product_where(lambda p: not (p.sizes or p.colors) and p.stock >= 1)
    add(client, product)
    for changes, message in (
        ({"zip": "1234"}, "Enter a 5-digit ZIP code."),
        ({"zip": "12a45"}, "Enter a 5-digit ZIP code."),
        ({"full_name": "  "}, "Enter the full name."),
        ({"street": ""}, "Enter the street address."),
        ({"country": "Atlantis"}, "Choose a country."),
        ({"shipping": "teleport"}, "Choose a shipping method."),
    ):
        response = client.post("/shop/checkout", data=checkout_form(**changes))
        assert response.status_code == 422 and message in response.text, message
        assert 'value="Riverton"' in response.text
    assert state(session) == WORLD.initial_state
    assert len(session.scratch["cart"]) == 1  # the cart survives a refused checkout


def test_an_empty_cart_cannot_be_ordered(client, session):
    response = client.post("/shop/checkout", data=checkout_form())
    assert response.status_code == 422 and "Your cart is empty." in response.text
    assert state(session) == WORLD.initial_state


def test_placing_an_order_writes_exactly_its_rows(client, session):
    product = product_where(lambda p: p.colors and not p.sizes and p.stock >= 2)
    color = next(c for c in product.colors if c.in_stock)
    add(client, product, "2", color=color.value)
    response = client.post("/shop/checkout", data=checkout_form(), follow_redirects=True)
    order_id = max(o["id"] for o in CATALOG.orders) + 1
    assert response.status_code == 200 and f"Your order number is {order_id}." in response.text
    address = Address("Ines Kim", "12 Cedar Lane", "Riverton", "48213", "Germany")
    line = Line(product.id, "", color.value, 2)
    order, items = order_rows(CATALOG, order_id, [line], address, "express", True, CATALOG.today)
    now = state(session)
    assert now["orders"][str(order_id)] == order
    assert {k: v for k, v in now["order_items"].items() if v["order_id"] == order_id} == {
        items[0]["id"]: items[0]
    }
    assert len(now["orders"]) == len(CATALOG.orders) + 1
    listing = client.get("/shop/orders").text
    assert f"Order #{order_id}" in listing
    assert product.name in client.get(f"/shop/orders/{order_id}").text
    assert f"In stock: {product.stock - 2}" in client.get(f"/shop/product/{product.id}").text
    assert "Your cart is empty." in client.get("/shop/cart").text


def test_sessions_do_not_see_each_other(session):
    other = host().open_session("shop", 0)
    try:
        mine, theirs = client_of(session), client_of(other)
        product = product_where(lambda p: not (p.sizes or p.colors) and p.stock >= 1)
        add(mine, product)
        mine.post("/shop/checkout", data=checkout_form())
        assert len(state(session)["orders"]) == len(CATALOG.orders) + 1
        assert state(other) == WORLD.initial_state
        assert "Your cart is empty." in theirs.get("/shop/cart").text
        assert (
            f"Order #{max(o['id'] for o in CATALOG.orders) + 1}"
            not in theirs.get("/shop/orders").text
        )
    finally:
        host().close_session(other.token)


# ------------------------------------------------------------------------------------ the tasks
SCAN = 2500


@pytest.mark.parametrize("level", [1, 2, 3])
def test_templates_make_many_distinct_tasks_in_both_splits(level):
    prompts = {"train": set(), "test": set()}
    counts = {"infeasible": 0, "js": 0, "state": 0, "tasks": 0}
    for index in range(SCAN):
        task = make_task("shop", level, index)
        if task is None:
            continue
        draft = task.draft
        counts["tasks"] += 1
        prompts[task.split].add(task.prompt)
        assert draft.plan and draft.plan[-1].action in ("answer", "give_up"), task.id
        assert draft.start.startswith("/shop/")
        assert not re.search(r"\[\d+\]", draft.prompt)  # no element ids leak into prompts
        assert set(draft.changes) <= set(SHOP.state_tables)
        if not draft.feasible:
            counts["infeasible"] += 1
            assert draft.plan[-1].action == "give_up" and not draft.changes
        elif draft.answer is None:
            counts["state"] += 1
            assert draft.changes["orders"] and draft.changes["order_items"]
        counts["js"] += draft.requires_js
    assert counts["tasks"] > 0.8 * SCAN
    assert len(prompts["train"]) >= 200 and len(prompts["test"]) >= 200
    assert 0.03 * counts["tasks"] < counts["infeasible"] < 0.12 * counts["tasks"]
    assert counts["js"] > 0 and counts["state"] > 0


def oracle_episodes(level, count, backend="text"):
    javascript = backend == "browser"
    supply = WebTasks(split="train", site="shop", difficulty=level, javascript=javascript)
    tasks = supply.iterate("shop", level)
    if javascript:
        tasks = (t for t in tasks if t.draft.requires_js)
    return list(itertools.islice(tasks, count))


@pytest.mark.parametrize("level", [1, 2, 3])
def test_the_oracle_solves_tasks_and_doing_nothing_fails(level):
    env = gym.make("WebNav-v0", site="shop", difficulty=level)
    kinds = set()
    for task in oracle_episodes(level, 30):
        env.reset(options={"task_id": task.id})
        for action in env.unwrapped.oracle_actions():
            obs, reward, terminated, truncated, info = env.step(action)
            assert info["error"] is None, (task.id, action, obs)
        assert terminated and reward == 1.0, (task.id, info["verdict"])
        kinds.add(
            "infeasible" if not task.draft.feasible else "answer" if task.draft.answer else "order"
        )
        env.reset(options={"task_id": task.id})
        *_, reward, terminated, truncated, info = env.step("I give up.")
        assert terminated and reward == 0.0, task.id
    assert kinds >= {"answer", "order"}
    env.close()


def test_a_different_order_fails_the_purchase_task():
    task = next(t for t in oracle_episodes(2, 40) if t.draft.changes)
    env = gym.make("WebNav-v0", site="shop", difficulty=2)
    env.reset(options={"task_id": task.id})
    gold = env.unwrapped.oracle_actions()
    env.reset(options={"task_id": task.id})
    for action in gold[:-1]:  # the order is placed; then it is changed behind the agent's back
        env.step(action)
    order_id = max(o["id"] for o in SHOP.world(task.world_seed).data.orders) + 1
    database = env.unwrapped.session.database
    database.execute("UPDATE orders SET gift_wrap = 1 - gift_wrap WHERE id = ?", (order_id,))
    *_, reward, terminated, _, info = env.step(gold[-1])
    assert terminated and reward == 0.0 and "state differs" in info["verdict"]
    env.close()


def test_the_javascript_tasks_are_solved_in_the_browser():
    from palaestra.envs.web_nav.browser import browser_available

    missing = browser_available()
    if missing:
        pytest.skip(missing)
    env = gym.make("WebNav-v0", site="shop", difficulty=1, backend="browser")
    for task in oracle_episodes(1, 2, backend="browser"):
        env.reset(options={"task_id": task.id})
        *steps, last = env.unwrapped.oracle_actions()
        for action in steps:
            obs, reward, terminated, truncated, info = env.step(action)
            assert info["error"] is None, (task.id, action, obs)
        assert "Arrives in" in obs  # the script wrote the estimate into the page
        *_, reward, terminated, truncated, info = env.step(last)
        assert reward == 1.0, info["verdict"]
    env.close()
