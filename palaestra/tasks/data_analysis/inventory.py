"""The inventory template: stock per SKU, valued, checked against reorder levels and orders."""

from __future__ import annotations

import random
from typing import Any

from palaestra.tasks.data_analysis.drafts import Draft, csv_text, print_total

__all__ = ["inventory"]

_CATEGORIES = ("Tools", "Garden", "Kitchen", "Office", "Toys", "Sports")


def inventory(rng: random.Random, level: int) -> Draft | None:
    """Stock per SKU: a category's stock value, low-stock counts, stock left after orders."""
    categories = rng.sample(_CATEGORIES, (3, 4, 5)[level - 1])
    rows: list[dict[str, Any]] = [
        {
            "sku": f"SKU-{1001 + i}",
            "category": rng.choice(categories),
            "stock": rng.randint(0, 200),
            "unit_cost": round(rng.uniform(1, 250), 2),
            "reorder_level": rng.randint(10, 60),
        }
        for i in range((10, 25, 40)[level - 1])
    ]
    header = ["sku", "category", "stock", "unit_cost", "reorder_level"]
    files = {"inventory.csv": csv_text(header, rows)}
    columns = {"inventory.csv": ", ".join(header)}
    if level == 1:
        category = rng.choice([r["category"] for r in rows])
        total: float = sum(r["stock"] * r["unit_cost"] for r in rows if r["category"] == category)
        question = f"What is the total value (stock x unit_cost) of the {category} stock?"
        code = (
            f"total = sum(int(r['stock']) * float(r['unit_cost']) for r in inventory "
            f"if r['category'] == {category!r})\n"
        )
        return Draft(
            files, columns, question, total, code + print_total(2), load=("inventory.csv",)
        )
    if level == 2:
        cost = rng.randrange(20, 150, 10)
        total = sum(1 for r in rows if r["stock"] < r["reorder_level"] and r["unit_cost"] > cost)
        question = (
            f"How many SKUs are below their reorder level (stock < reorder_level) and cost "
            f"more than {cost} per unit?"
        )
        code = (
            "total = sum(\n"
            "    1 for r in inventory\n"
            "    if int(r['stock']) < int(r['reorder_level'])\n"
            f"    and float(r['unit_cost']) > {cost}\n"
            ")\n"
        )
        return Draft(files, columns, question, total, code + print_total(0), 0, ("inventory.csv",))
    orders = [
        {"order_id": 5001 + i, "sku": rng.choice(rows)["sku"], "quantity": rng.randint(1, 40)}
        for i in range(rng.randint(30, 80))
    ]
    files["orders.csv"] = csv_text(["order_id", "sku", "quantity"], orders)
    columns["orders.csv"] = "order_id, sku, quantity"
    ordered: dict[str, int] = {}
    for o in orders:
        ordered[o["sku"]] = ordered.get(o["sku"], 0) + o["quantity"]
    total = sum(1 for r in rows if r["stock"] - ordered.get(r["sku"], 0) < r["reorder_level"])
    question = (
        "orders.csv lists open orders. Once every order is shipped from stock, how many SKUs "
        "will be below their reorder level (stock left < reorder_level)?"
    )
    code = (
        "ordered = {}\n"
        "for r in orders:\n"
        "    ordered[r['sku']] = ordered.get(r['sku'], 0) + int(r['quantity'])\n"
        "total = sum(\n"
        "    1 for r in inventory\n"
        "    if int(r['stock']) - ordered.get(r['sku'], 0) < int(r['reorder_level'])\n"
        ")\n"
    )
    return Draft(
        files, columns, question, total, code + print_total(0), 0, ("inventory.csv", "orders.csv")
    )
