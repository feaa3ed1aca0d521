"""Task templates of the retail domain: what users ask, and the gold calls that do it."""

from __future__ import annotations

import random
from typing import Any

from palaestra.envs.tool_use.names import street_address
from palaestra.envs.tool_use.retail.world import (
    _CATALOGUE,
    CANCEL_REASONS,
    RetailWorld,
)
from palaestra.envs.tool_use.world import Domain, TaskDraft, World, gold_call

__all__ = ["RETAIL"]


def _orders(world: World, status: str, customer_id: str | None = None) -> list[dict[str, Any]]:
    return [
        o
        for o in world.state["orders"].values()
        if o["status"] == status and (customer_id is None or o["customer_id"] == customer_id)
    ]


def _customers_with(world: World, status: str, count: int | None = None) -> list[dict[str, Any]]:
    found = []
    for customer in world.state["customers"].values():
        n = len(_orders(world, status, customer["id"]))
        if (count is None and n > 0) or n == count:
            found.append(customer)
    return found


def _cancel_by_id(world: World, rng: random.Random) -> TaskDraft | None:
    pending = _orders(world, "pending")
    if not pending:
        return None
    order, reason = rng.choice(pending), rng.choice(CANCEL_REASONS)
    phrasing = rng.choice(
        [
            "Please cancel order {oid}, the reason is: {reason}.",
            "Cancel my order {oid} ({reason}).",
            "I want to cancel order {oid}; reason: {reason}.",
        ]
    )
    return TaskDraft(
        phrasing.format(oid=order["id"], reason=reason),
        [gold_call("cancel_order", order_id=order["id"], reason=reason)],
    )


def _readdress_by_id(world: World, rng: random.Random) -> TaskDraft | None:
    pending = _orders(world, "pending")
    if not pending:
        return None
    order, address = rng.choice(pending), street_address(rng)
    if address == order["address"]:
        return None
    prompt = rng.choice(
        [
            "Ship order {oid} to {address} instead.",
            "Please change the delivery address of order {oid} to {address}.",
        ]
    )
    return TaskDraft(
        prompt.format(oid=order["id"], address=address),
        [gold_call("update_order_address", order_id=order["id"], address=address)],
    )


def _return_by_id(world: World, rng: random.Random) -> TaskDraft | None:
    delivered = _orders(world, "delivered")
    if not delivered:
        return None
    order = rng.choice(delivered)
    prompt = rng.choice(
        ["I'd like to return order {oid}.", "Please process a return for order {oid}."]
    )
    return TaskDraft(
        prompt.format(oid=order["id"]), [gold_call("return_order", order_id=order["id"])]
    )


def _stock_question(world: World, rng: random.Random) -> TaskDraft | None:
    product = rng.choice(list(world.state["products"].values()))
    prompt = rng.choice(
        [
            "How many units of product {pid} are in stock? Reply with the number.",
            "What is the current stock of {pid}? Answer with the number of units.",
        ]
    )
    return TaskDraft(
        prompt.format(pid=product["id"]),
        [gold_call("get_product", product_id=product["id"])],
        answer=str(product["stock"]),
    )


def _status_question(world: World, rng: random.Random) -> TaskDraft | None:
    order = rng.choice(list(world.state["orders"].values()))
    prompt = (
        "What is the status of order {oid}? Answer with one word: pending, shipped, delivered, "
        "cancelled or returned."
    )
    return TaskDraft(
        prompt.format(oid=order["id"]),
        [gold_call("get_order", order_id=order["id"])],
        answer=order["status"],
    )


def _cancel_my_pending(world: World, rng: random.Random) -> TaskDraft | None:
    candidates = _customers_with(world, "pending", count=1)
    if not candidates:
        return None
    customer, reason = rng.choice(candidates), rng.choice(CANCEL_REASONS)
    order = _orders(world, "pending", customer["id"])[0]
    prompt = (
        f"Hi, this is {customer['name']}. Please cancel my pending order; the reason is: {reason}."
    )
    gold = [
        gold_call("find_customer", name=customer["name"]),
        gold_call("list_orders", customer_id=customer["id"]),
        gold_call("cancel_order", order_id=order["id"], reason=reason),
    ]
    return TaskDraft(prompt, gold)


def _buy_product(world: World, rng: random.Random) -> TaskDraft | None:
    in_stock = [p for p in world.state["products"].values() if p["stock"] >= 2]
    if not in_stock:
        return None
    customer = rng.choice(list(world.state["customers"].values()))
    product = rng.choice(in_stock)
    quantity = rng.randint(1, min(3, product["stock"]))
    prompt = f"I'm {customer['name']}. Please order {quantity} {product['name']} for me."
    gold = [
        gold_call("find_customer", name=customer["name"]),
        gold_call("search_products", query=product["name"]),
        gold_call(
            "place_order", customer_id=customer["id"], product_id=product["id"], quantity=quantity
        ),
    ]
    return TaskDraft(prompt, gold)


def _latest_total(world: World, rng: random.Random) -> TaskDraft | None:
    customer = rng.choice(list(world.state["customers"].values()))
    orders = [o for o in world.state["orders"].values() if o["customer_id"] == customer["id"]]
    if not orders:
        return None
    latest = orders[-1]
    prompt = f"What is the total of {customer['name']}'s most recent order? Answer with the amount."
    gold = [
        gold_call("find_customer", name=customer["name"]),
        gold_call("list_orders", customer_id=customer["id"]),
    ]
    return TaskDraft(prompt, gold, answer=f"{latest['total']:.2f}")


def _change_email(world: World, rng: random.Random) -> TaskDraft | None:
    customer = rng.choice(list(world.state["customers"].values()))
    first, last = customer["name"].lower().split()
    email = (
        f"{first[0]}{last}{rng.randint(1, 99)}@{rng.choice(['mail.com', 'post.net', 'inbox.org'])}"
    )
    prompt = f"This is {customer['name']}; please update my email address to {email}."
    gold = [
        gold_call("find_customer", name=customer["name"]),
        gold_call("update_customer_email", customer_id=customer["id"], email=email),
    ]
    return TaskDraft(prompt, gold)


def _cancel_all_then_buy(world: World, rng: random.Random) -> TaskDraft | None:
    candidates = _customers_with(world, "pending")
    in_stock = [p for p in world.state["products"].values() if p["stock"] >= 1]
    if not candidates or not in_stock:
        return None
    customer, reason, product = (
        rng.choice(candidates),
        rng.choice(CANCEL_REASONS),
        rng.choice(in_stock),
    )
    pending = _orders(world, "pending", customer["id"])
    # Cancelling restores stock, so the purchase must still fit after cancellations.
    quantity = 1
    prompt = (
        f"I'm {customer['name']}. Cancel all of my pending orders (reason: {reason}), "
        f"then order one {product['name']} for me."
    )
    gold = [
        gold_call("find_customer", name=customer["name"]),
        gold_call("list_orders", customer_id=customer["id"]),
    ]
    gold += [gold_call("cancel_order", order_id=o["id"], reason=reason) for o in pending]
    gold += [
        gold_call("search_products", query=product["name"]),
        gold_call(
            "place_order", customer_id=customer["id"], product_id=product["id"], quantity=quantity
        ),
    ]
    return TaskDraft(prompt, gold)


def _return_and_readdress(world: World, rng: random.Random) -> TaskDraft | None:
    candidates = [
        c
        for c in _customers_with(world, "delivered", count=1)
        if len(_orders(world, "pending", c["id"])) == 1
    ]
    if not candidates:
        return None
    customer, address = rng.choice(candidates), street_address(rng)
    delivered = _orders(world, "delivered", customer["id"])[0]
    pending = _orders(world, "pending", customer["id"])[0]
    if address == pending["address"]:
        return None
    prompt = (
        f"Hello, {customer['name']} here. Please return my delivered order, and send my pending "
        f"order to {address} instead."
    )
    gold = [
        gold_call("find_customer", name=customer["name"]),
        gold_call("list_orders", customer_id=customer["id"]),
        gold_call("return_order", order_id=delivered["id"]),
        gold_call("update_order_address", order_id=pending["id"], address=address),
    ]
    return TaskDraft(prompt, gold)


def _cheapest_in_category(world: World, rng: random.Random) -> TaskDraft | None:
    category = rng.choice(sorted(_CATALOGUE))
    products = [p for p in world.state["products"].values() if p["category"] == category]
    candidates = _customers_with(world, "pending", count=1)
    if not products or not candidates:
        return None
    cheapest = min(products, key=lambda p: (p["price"], p["id"]))
    if cheapest["stock"] < 1 or sum(p["price"] == cheapest["price"] for p in products) > 1:
        return None
    customer, address = rng.choice(candidates), street_address(rng)
    pending = _orders(world, "pending", customer["id"])[0]
    if address == pending["address"]:
        return None
    prompt = (
        f"I'm {customer['name']}. Order one unit of the cheapest product in the {category} "
        f"category for me, and change the address of my pending order {pending['id']} "
        f"to {address}. "
        "Tell me the price of what you ordered."
    )
    gold = [
        gold_call("find_customer", name=customer["name"]),
        gold_call("search_products", query=category),
        gold_call("place_order", customer_id=customer["id"], product_id=cheapest["id"], quantity=1),
        gold_call("update_order_address", order_id=pending["id"], address=address),
    ]
    return TaskDraft(prompt, gold, answer=f"{cheapest['price']:.2f}")


RETAIL = Domain(
    name="retail",
    world=RetailWorld,
    templates={
        1: [_cancel_by_id, _readdress_by_id, _return_by_id, _stock_question, _status_question],
        2: [_cancel_my_pending, _buy_product, _latest_total, _change_email],
        3: [_cancel_all_then_buy, _return_and_readdress, _cheapest_in_category],
    },
    description="an online shop: customers, products, orders, cancellations and returns",
    example=gold_call("get_order", order_id="O-5001"),
)
