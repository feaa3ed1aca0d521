"""Retail tools: what each does, and every refusal (with the world left as it was)."""

from __future__ import annotations

import random

import pytest

from palaestra.envs.tool_use.retail import RetailWorld
from palaestra.errors import ToolError


def _has_everything(world):
    statuses = {o["status"] for o in world.state["orders"].values()}
    stocks = [p["stock"] for p in world.state["products"].values()]
    return (
        {"pending", "shipped", "delivered", "cancelled"} <= statuses
        and 0 in stocks
        and max(stocks) >= 2
    )


@pytest.fixture
def world():
    """The first generated world that has an order in every status and a sold-out product."""
    return next(
        w
        for w in (RetailWorld.generate(random.Random(s)) for s in range(100))
        if _has_everything(w)
    )


def order_with(world, status):
    return next(o for o in world.state["orders"].values() if o["status"] == status)


def refuses(world, tool, match, **arguments):
    before = world.snapshot()
    with pytest.raises(ToolError, match=match):
        getattr(world, tool)(**arguments)
    assert world.snapshot() == before


def test_generated_world_is_deterministic_and_consistent(world):
    assert (
        RetailWorld.generate(random.Random(0)).state == RetailWorld.generate(random.Random(0)).state
    )
    for order in world.state["orders"].values():
        assert order["customer_id"] in world.state["customers"]
        total = sum(line["unit_price"] * line["quantity"] for line in order["items"])
        assert order["total"] == pytest.approx(total, abs=0.01)


def test_look_ups(world):
    customer = next(iter(world.state["customers"].values()))
    found = world.find_customer(customer["name"].split()[1].upper())
    assert customer["id"] in [c["id"] for c in found]
    assert world.get_customer(customer["id"])["address"] == customer["address"]
    orders = world.list_orders(customer["id"])
    assert all(world.state["orders"][o["id"]]["customer_id"] == customer["id"] for o in orders)
    product = next(iter(world.state["products"].values()))
    assert product["id"] in [p["id"] for p in world.search_products(product["category"])]
    result = world.get_order(order_with(world, "pending")["id"])
    result["items"][0]["quantity"] = 999  # results are copies: the world must not change
    assert all(
        line["quantity"] != 999 for o in world.state["orders"].values() for line in o["items"]
    )


def test_place_order_takes_stock_and_makes_a_pending_order(world):
    product = next(p for p in world.state["products"].values() if p["stock"] >= 2)
    customer = next(iter(world.state["customers"].values()))
    stock = product["stock"]
    result = world.place_order(customer["id"], product["id"], 2)
    order = world.state["orders"][result["order_id"]]
    assert order["status"] == "pending" and order["address"] == customer["address"]
    assert product["stock"] == stock - 2
    assert result["total"] == pytest.approx(product["price"] * 2)


def test_cancel_restores_stock(world):
    order = order_with(world, "pending")
    line = order["items"][0]
    stock = world.state["products"][line["product_id"]]["stock"]
    world.cancel_order(order["id"], "no longer needed")
    assert order["status"] == "cancelled"
    assert world.state["products"][line["product_id"]]["stock"] >= stock + line["quantity"]


def test_every_refusal_leaves_the_world_unchanged(world):
    customer_id = next(iter(world.state["customers"]))
    product = next(p for p in world.state["products"].values() if p["stock"] < 10)
    refuses(world, "get_customer", "No customer with id 'C-0'", customer_id="C-0")
    refuses(world, "list_orders", "No customer", customer_id="nope")
    refuses(world, "get_order", "No order with id", order_id="O-0")
    refuses(world, "get_product", "No product with id", product_id="P-0")
    refuses(world, "find_customer", "must not be empty", name="  ")
    refuses(world, "search_products", "must not be empty", query="")
    refuses(
        world, "place_order", "No customer", customer_id="C-0", product_id=product["id"], quantity=1
    )
    refuses(
        world, "place_order", "No product", customer_id=customer_id, product_id="P-0", quantity=1
    )
    refuses(
        world,
        "place_order",
        "between 1 and 10",
        customer_id=customer_id,
        product_id=product["id"],
        quantity=0,
    )
    refuses(
        world,
        "place_order",
        "between 1 and 10",
        customer_id=customer_id,
        product_id=product["id"],
        quantity=11,
    )
    refuses(
        world,
        "place_order",
        "in stock; cannot order",
        customer_id=customer_id,
        product_id=product["id"],
        quantity=product["stock"] + 1,
    )
    for status in ("shipped", "delivered", "cancelled"):
        order_id = order_with(world, status)["id"]
        refuses(
            world,
            "cancel_order",
            "only pending orders can be cancelled",
            order_id=order_id,
            reason="no longer needed",
        )
        refuses(
            world,
            "update_order_address",
            "only a pending order's address",
            order_id=order_id,
            address="1 Elm Street",
        )
    refuses(
        world,
        "update_order_address",
        "must not be empty",
        order_id=order_with(world, "pending")["id"],
        address=" ",
    )
    for status in ("pending", "shipped", "cancelled"):
        refuses(
            world, "return_order", "only delivered orders", order_id=order_with(world, status)["id"]
        )
    for email in ("no-at-sign", "a@b", "@x.com", "a b@x.com"):
        refuses(
            world,
            "update_customer_email",
            "not a valid email",
            customer_id=customer_id,
            email=email,
        )


def test_refused_order_does_not_advance_the_id_counter(world):
    product = next(p for p in world.state["products"].values() if p["stock"] == 0)
    customer_id = next(iter(world.state["customers"]))
    counter = world.state["next_order"]
    with pytest.raises(ToolError):
        world.place_order(customer_id, product["id"], 1)
    assert world.state["next_order"] == counter
