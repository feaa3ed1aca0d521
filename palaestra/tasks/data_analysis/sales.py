"""Sales templates: revenue of a region, top regions or products, and percent changes.

All three read ``sales.csv`` (units sold by month, region and product, with a unit price up to
level 2); level 3 joins it with ``prices.csv``, which gives the unit prices instead.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from typing import Any

from palaestra.tasks.data_analysis.drafts import Draft, csv_text, distinct_top, print_total

__all__ = ["change", "ranking", "sales"]

_REGIONS = ("North", "South", "East", "West", "Central", "Coastal", "Highlands", "Metro")
_PRODUCTS = ("Widget", "Gadget", "Sprocket", "Gizmo", "Bracket", "Valve", "Lantern", "Kettle")


def _sales_rows(rng: random.Random, level: int, priced: bool = True) -> dict[str, Any]:
    months = [f"2024-{m:02d}" for m in range(1, 1 + (4, 6, 9)[level - 1])]
    regions = rng.sample(_REGIONS, (3, 5, 6)[level - 1])
    products = rng.sample(_PRODUCTS, (3, 4, 5)[level - 1])
    base = {p: rng.randint(200, 5000) / 100 for p in products}
    rows = []
    for month, region, product in itertools.product(months, regions, products):
        if rng.random() < 0.8:
            row: dict[str, Any] = {"month": month, "region": region, "product": product}
            row["units"] = rng.randint(1, 120)
            if priced:
                row["unit_price"] = round(base[product] * rng.choice((1, 1, 0.95, 0.9)), 2)
            rows.append(row)
    header = ["month", "region", "product", "units"] + (["unit_price"] if priced else [])
    return {
        "months": months,
        "regions": regions,
        "products": products,
        "base": base,
        "rows": rows,
        "header": header,
    }


def _revenue(row: dict[str, Any], price: dict[str, float] | None = None) -> float:
    return float(row["units"] * (price[row["product"]] if price else row["unit_price"]))


def _prices_file(rng: random.Random, base: dict[str, float]) -> str:
    extra = [p for p in _PRODUCTS if p not in base][: rng.randint(1, 2)]  # priced, never sold
    rows = [{"product": p, "unit_price": v} for p, v in base.items()]
    rows += [{"product": p, "unit_price": rng.randint(200, 5000) / 100} for p in extra]
    rng.shuffle(rows)
    return csv_text(["product", "unit_price"], rows)


def sales(rng: random.Random, level: int) -> Draft | None:
    """Revenue of a region: level 1 all of it, level 2 filtered, level 3 joined with prices."""
    data = _sales_rows(rng, level, priced=level < 3)
    rows, region = data["rows"], rng.choice(data["regions"])
    files = {"sales.csv": csv_text(data["header"], rows)}
    columns = {"sales.csv": ", ".join(data["header"])}
    if level == 1:
        total = sum(_revenue(r) for r in rows if r["region"] == region)
        question = f"What is the total revenue (units x unit_price) of the {region} region?"
        code = (
            f"total = sum(int(r['units']) * float(r['unit_price']) for r in sales "
            f"if r['region'] == {region!r})\n"
        )
    elif level == 2:
        product = rng.choice(data["products"])
        start = rng.randrange(len(data["months"]) - 2)
        first, last = data["months"][start], data["months"][rng.randrange(start + 1, 6)]
        total = sum(
            _revenue(r)
            for r in rows
            if r["region"] == region and r["product"] == product and first <= r["month"] <= last
        )
        question = (
            f"What was the revenue (units x unit_price) from {product} sales in the {region} "
            f"region from {first} to {last}, both months included?"
        )
        code = (
            "total = sum(\n"
            "    int(r['units']) * float(r['unit_price'])\n"
            "    for r in sales\n"
            f"    if r['region'] == {region!r} and r['product'] == {product!r}\n"
            f"    and {first!r} <= r['month'] <= {last!r}\n"
            ")\n"
        )
    else:
        files["prices.csv"] = _prices_file(rng, data["base"])
        columns["prices.csv"] = "product, unit_price"
        total = sum(_revenue(r, data["base"]) for r in rows if r["region"] == region)
        question = (
            f"sales.csv lists units sold; prices.csv gives each product's unit price. What is the "
            f"total revenue of the {region} region?"
        )
        code = (
            "price = {r['product']: float(r['unit_price']) for r in prices}\n"
            f"total = sum(int(r['units']) * price[r['product']] for r in sales "
            f"if r['region'] == {region!r})\n"
        )
    load = ("sales.csv", "prices.csv") if level == 3 else ("sales.csv",)
    return Draft(files, columns, question, total, code + print_total(2), load=load)


def ranking(rng: random.Random, level: int) -> Draft | None:
    """Top regions or products: level 1 by units, level 2 by revenue, level 3 joined."""
    data = _sales_rows(rng, level, priced=level < 3)
    rows = data["rows"]
    files = {"sales.csv": csv_text(data["header"], rows)}
    columns = {"sales.csv": ", ".join(data["header"])}
    totals: dict[str, float] = {}
    if level == 1:
        for r in rows:
            totals[r["region"]] = totals.get(r["region"], 0) + r["units"]
        question = "Which region sold the most units in total?"
        code = (
            "totals = {}\n"
            "for r in sales:\n"
            "    totals[r['region']] = totals.get(r['region'], 0) + int(r['units'])\n"
            "print(max(totals, key=totals.get))\n"
        )
        top = distinct_top(totals, 1)
    elif level == 2:
        for r in rows:
            totals[r["region"]] = totals.get(r["region"], 0) + _revenue(r)
        question = "Which three regions had the highest total revenue (units x unit_price)?"
        code = (
            "totals = {}\n"
            "for r in sales:\n"
            "    revenue = int(r['units']) * float(r['unit_price'])\n"
            "    totals[r['region']] = totals.get(r['region'], 0) + revenue\n"
            "print(', '.join(sorted(totals, key=totals.get, reverse=True)[:3]))\n"
        )
        top = distinct_top(totals, 3)
    else:
        files["prices.csv"] = _prices_file(rng, data["base"])
        columns["prices.csv"] = "product, unit_price"
        for r in rows:
            totals[r["product"]] = totals.get(r["product"], 0) + _revenue(r, data["base"])
        question = (
            "sales.csv lists units sold; prices.csv gives each product's unit price. Which three "
            "products brought in the most revenue?"
        )
        code = (
            "price = {r['product']: float(r['unit_price']) for r in prices}\n"
            "totals = {}\n"
            "for r in sales:\n"
            "    revenue = int(r['units']) * price[r['product']]\n"
            "    totals[r['product']] = totals.get(r['product'], 0) + revenue\n"
            "print(', '.join(sorted(totals, key=totals.get, reverse=True)[:3]))\n"
        )
        top = distinct_top(totals, 3)
    if top is None:
        return None
    load = ("sales.csv", "prices.csv") if level == 3 else ("sales.csv",)
    return Draft(files, columns, question, top, code, load=load)


def change(rng: random.Random, level: int) -> Draft | None:
    """Percent changes: units of a product, the best month, a region's quarters."""
    data = _sales_rows(rng, level)
    rows, months = data["rows"], data["months"]
    files = {"sales.csv": csv_text(data["header"], rows)}
    columns = {"sales.csv": ", ".join(data["header"])}
    if level == 2:
        revenue: dict[str, float] = {}
        for r in rows:
            revenue[r["month"]] = revenue.get(r["month"], 0) + _revenue(r)
        if len(revenue) != len(months):
            return None
        growth = {m: (revenue[m] - revenue[p]) / revenue[p] for p, m in itertools.pairwise(months)}
        top = distinct_top(growth, 1)
        if top is None:
            return None
        question = (
            "In which month did total revenue (units x unit_price) grow the most, in percent, "
            "over the month before? Answer with the month as written in the file (YYYY-MM)."
        )
        code = (
            "revenue = {}\n"
            "for r in sales:\n"
            "    amount = int(r['units']) * float(r['unit_price'])\n"
            "    revenue[r['month']] = revenue.get(r['month'], 0) + amount\n"
            "months = sorted(revenue)\n"
            "change = {m: (revenue[m] - revenue[p]) / revenue[p] "
            "for p, m in zip(months, months[1:])}\n"
            "print(max(change, key=change.get))\n"
        )
        return Draft(files, columns, question, top, code, load=("sales.csv",))
    percent = "in percent (e.g. -12.5 for a 12.5% drop)"
    if level == 1:
        product = rng.choice(data["products"])

        def units(month: str) -> float:
            return sum(r["units"] for r in rows if r["product"] == product and r["month"] == month)

        before, after = units(months[0]), units(months[-1])
        question = (
            f"By how much did the number of {product} units sold change from {months[0]} to "
            f"{months[-1]}, {percent}?"
        )
        code = (
            f"def units(month):\n"
            f"    return sum(int(r['units']) for r in sales "
            f"if r['product'] == {product!r} and r['month'] == month)\n\n"
            f"before, after = units({months[0]!r}), units({months[-1]!r})\n"
        )
    else:
        region = rng.choice(data["regions"])

        def quarter(chosen: Sequence[str]) -> float:
            return sum(_revenue(r) for r in rows if r["region"] == region and r["month"] in chosen)

        before, after = quarter(months[:3]), quarter(months[-3:])
        question = (
            f"How did the revenue (units x unit_price) of the {region} region change from the "
            f"first three months in the file to the last three months, {percent}?"
        )
        code = (
            "months = sorted({r['month'] for r in sales})\n\n"
            "def revenue(chosen):\n"
            "    return sum(int(r['units']) * float(r['unit_price']) for r in sales\n"
            f"               if r['region'] == {region!r} and r['month'] in chosen)\n\n"
            "before, after = revenue(months[:3]), revenue(months[-3:])\n"
        )
    if before == 0:
        return None
    code += "total = (after - before) / before * 100\n" + print_total(2)
    return Draft(
        files, columns, question, (after - before) / before * 100, code, load=("sales.csv",)
    )
