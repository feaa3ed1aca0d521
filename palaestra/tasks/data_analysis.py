"""Data analysis: questions about small CSV files, answered by running code on them.

Task ``data-sales-2-417`` is what ``random.Random("data/sales/2/417")`` writes: one or two CSV
files (sales by region and month, sensor readings with gaps, grades, inventory) and a question
at level 2 of the ``sales`` template. Level 1 asks for one aggregate of one file; level 2 filters,
groups, ranks or takes a median; level 3 joins two files. The answer is a number, compared with a
relative tolerance of 1e-4 (an answer rounded as the question asks is accepted), or names in
order, compared after normalising case and spaces. The split is a hash of the question and the
files. Reference code uses only ``csv`` and ``statistics``: pandas may be missing in a sandbox.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import itertools
import math
import random
import re
import statistics
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from palaestra.core.types import Verdict
from palaestra.errors import ConfigError, TaskError
from palaestra.tasks.code import CodeTask, SandboxFactory, extract_answer
from palaestra.tasks.math import last_boxed
from palaestra.tasks.splits import split_of
from palaestra.tasks.task import Split

if TYPE_CHECKING:
    import numpy as np

__all__ = ["LEVELS", "RELATIVE_TOLERANCE", "TEMPLATES", "DataAnalysisFamily"]

LEVELS = (1, 2, 3)
RELATIVE_TOLERANCE = 1e-4
_MAX_SKIPS = 10_000

_REGIONS = ("North", "South", "East", "West", "Central", "Coastal", "Highlands", "Metro")
_PRODUCTS = ("Widget", "Gadget", "Sprocket", "Gizmo", "Bracket", "Valve", "Lantern", "Kettle")
_SUBJECTS = ("Math", "Physics", "Chemistry", "Biology", "History", "English", "Art")
_NAMES = (
    "Ada", "Ben", "Chloe", "Dev", "Elena", "Felix", "Grace", "Hugo", "Iris", "Jonas", "Kira",
    "Liam", "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera",
    "Wen", "Xavi", "Yara", "Zane", "Aiko", "Bruno", "Carla", "Dario",
)  # fmt: skip
_CATEGORIES = ("Tools", "Garden", "Kitchen", "Office", "Toys", "Sports")
_LOCATIONS = ("Lab", "Warehouse", "Office", "Greenhouse")


@dataclass(frozen=True)
class _Draft:
    """A task before it gets an id: files, question, answer, and the code that computes it."""

    files: dict[str, str]
    columns: dict[str, str]
    question: str
    answer: float | list[str]
    code: str
    decimals: int = 2
    """For numbers: how many decimals the question asks for (0: a count)."""
    load: tuple[str, ...] = field(default=())


# ------------------------------------------------------------------------------------ helpers
def _csv(header: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(header), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row[k] is None else row[k] for k in header})
    return out.getvalue()


def _loader(*names: str) -> str:
    lines = ["import csv", "import statistics", ""]
    for name in names:
        lines += [
            f'with open("{name}", newline="") as f:',
            f"    {name[:-4]} = list(csv.DictReader(f))",
        ]
    return "\n".join(lines) + "\n\n"


def _distinct_top(values: dict[str, float], k: int) -> list[str] | None:
    """The ``k`` keys with the largest values, or None when a tie makes the order ambiguous."""
    ranked = sorted(values, key=values.__getitem__, reverse=True)
    if len(ranked) < k:
        return None
    cut = [values[key] for key in ranked[: k + 1]]
    if any(a - b < 1e-6 for a, b in itertools.pairwise(cut)):
        return None
    return ranked[:k]


def _print(decimals: int) -> str:
    return "print(round(total, 2))\n" if decimals else "print(total)\n"


# -------------------------------------------------------------------------------------- sales
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
    return _csv(["product", "unit_price"], rows)


def _sales(rng: random.Random, level: int) -> _Draft | None:
    """Revenue of a region: level 1 all of it, level 2 filtered, level 3 joined with prices."""
    data = _sales_rows(rng, level, priced=level < 3)
    rows, region = data["rows"], rng.choice(data["regions"])
    files = {"sales.csv": _csv(data["header"], rows)}
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
    return _Draft(files, columns, question, total, code + _print(2), load=load)


def _ranking(rng: random.Random, level: int) -> _Draft | None:
    """Top regions or products: level 1 by units, level 2 by revenue, level 3 joined."""
    data = _sales_rows(rng, level, priced=level < 3)
    rows = data["rows"]
    files = {"sales.csv": _csv(data["header"], rows)}
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
        top = _distinct_top(totals, 1)
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
        top = _distinct_top(totals, 3)
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
        top = _distinct_top(totals, 3)
    if top is None:
        return None
    load = ("sales.csv", "prices.csv") if level == 3 else ("sales.csv",)
    return _Draft(files, columns, question, top, code, load=load)


def _change(rng: random.Random, level: int) -> _Draft | None:
    """Percent changes: units of a product, the best month, a region's quarters."""
    data = _sales_rows(rng, level)
    rows, months = data["rows"], data["months"]
    files = {"sales.csv": _csv(data["header"], rows)}
    columns = {"sales.csv": ", ".join(data["header"])}
    percent = "in percent (e.g. -12.5 for a 12.5% drop)"
    if level == 1:
        product = rng.choice(data["products"])
        before = sum(
            r["units"] for r in rows if r["product"] == product and r["month"] == months[0]
        )
        after = sum(
            r["units"] for r in rows if r["product"] == product and r["month"] == months[-1]
        )
        if before == 0:
            return None
        question = (
            f"By how much did the number of {product} units sold change from {months[0]} to "
            f"{months[-1]}, {percent}?"
        )
        code = (
            f"def units(month):\n"
            f"    return sum(int(r['units']) for r in sales "
            f"if r['product'] == {product!r} and r['month'] == month)\n\n"
            f"before, after = units({months[0]!r}), units({months[-1]!r})\n"
            "total = (after - before) / before * 100\n"
        )
        return _Draft(
            files,
            columns,
            question,
            (after - before) / before * 100,
            code + _print(2),
            load=("sales.csv",),
        )
    if level == 2:
        revenue: dict[str, float] = {}
        for r in rows:
            revenue[r["month"]] = revenue.get(r["month"], 0) + _revenue(r)
        if len(revenue) != len(months):
            return None
        change = {m: (revenue[m] - revenue[p]) / revenue[p] for p, m in itertools.pairwise(months)}
        top = _distinct_top(change, 1)
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
        return _Draft(files, columns, question, top, code, load=("sales.csv",))
    region = rng.choice(data["regions"])

    def quarter(chosen: Sequence[str]) -> float:
        return sum(_revenue(r) for r in rows if r["region"] == region and r["month"] in chosen)

    before, after = quarter(months[:3]), quarter(months[-3:])
    if before == 0:
        return None
    question = (
        f"How did the revenue (units x unit_price) of the {region} region change from the first "
        f"three months in the file to the last three months, {percent}?"
    )
    code = (
        "months = sorted({r['month'] for r in sales})\n\n"
        "def revenue(chosen):\n"
        "    return sum(int(r['units']) * float(r['unit_price']) for r in sales\n"
        f"               if r['region'] == {region!r} and r['month'] in chosen)\n\n"
        "before, after = revenue(months[:3]), revenue(months[-3:])\n"
        "total = (after - before) / before * 100\n"
    )
    return _Draft(
        files,
        columns,
        question,
        (after - before) / before * 100,
        code + _print(2),
        load=("sales.csv",),
    )


# ------------------------------------------------------------------------------------ sensors
def _sensors(rng: random.Random, level: int) -> _Draft | None:
    """Readings with missing values: counts above a threshold, a median, a joined mean."""
    sensors = [f"S{i}" for i in range(1, 1 + (2, 4, 6)[level - 1])]
    base = {s: (rng.uniform(15, 25), rng.uniform(30, 70)) for s in sensors}
    missing = (0.05, 0.1, 0.15)[level - 1]
    rows = []
    for hour, sensor in itertools.product(range((24, 48, 72)[level - 1]), sensors):
        day, clock = divmod(hour, 24)
        row: dict[str, Any] = {
            "timestamp": f"2024-03-{day + 1:02d} {clock:02d}:00",
            "sensor": sensor,
        }
        warm = 2 * math.sin((clock - 9) / 24 * 2 * math.pi)
        row["temperature"] = round(base[sensor][0] + warm + rng.gauss(0, 1), 1)
        row["humidity"] = round(base[sensor][1] + rng.gauss(0, 4), 1)
        for key in ("temperature", "humidity"):
            if rng.random() < missing:
                row[key] = None
        if level == 3:
            row["status"] = "error" if rng.random() < 0.05 else "ok"
            if row["status"] == "error" and row["temperature"] is not None:
                row["temperature"] = rng.choice((-99.9, 999.9))
        rows.append(row)
    header = ["timestamp", "sensor", "temperature", "humidity"] + (["status"] if level == 3 else [])
    files = {"readings.csv": _csv(header, rows)}
    columns = {"readings.csv": ", ".join(header) + " (empty cells are missing readings)"}
    sensor = rng.choice(sensors)
    if level == 1:
        threshold = round(base[sensor][0] + rng.uniform(-1, 2), 1)
        total: float = sum(
            1
            for r in rows
            if r["sensor"] == sensor
            and r["temperature"] is not None
            and r["temperature"] > threshold
        )
        question = (
            f"How many readings of sensor {sensor} have a temperature strictly above "
            f"{threshold}? Skip missing readings."
        )
        code = (
            "total = sum(\n"
            "    1 for r in readings\n"
            f"    if r['sensor'] == {sensor!r} and r['temperature'] != ''\n"
            f"    and float(r['temperature']) > {threshold}\n"
            ")\n"
        )
        return _Draft(files, columns, question, total, code + _print(0), 0, ("readings.csv",))
    if level == 2:
        values = [
            r["humidity"] for r in rows if r["sensor"] == sensor and r["humidity"] is not None
        ]
        question = f"What is the median humidity of sensor {sensor}, ignoring missing readings?"
        code = (
            f"values = [float(r['humidity']) for r in readings "
            f"if r['sensor'] == {sensor!r} and r['humidity'] != '']\n"
            "total = statistics.median(values)\n"
        )
        return _Draft(
            files,
            columns,
            question,
            statistics.median(values),
            code + _print(2),
            load=("readings.csv",),
        )
    where = {s: rng.choice(_LOCATIONS) for s in sensors}
    location = where[sensor]
    files["sensors.csv"] = _csv(
        ["sensor", "location"], [{"sensor": s, "location": where[s]} for s in sensors]
    )
    columns["sensors.csv"] = "sensor, location"
    values = [
        r["temperature"]
        for r in rows
        if where[r["sensor"]] == location and r["status"] == "ok" and r["temperature"] is not None
    ]
    if not values:
        return None
    question = (
        f"sensors.csv says where each sensor is. What is the mean temperature of all readings "
        f"from sensors in the {location}, leaving out missing readings and readings whose "
        f"status is 'error'?"
    )
    code = (
        "where = {r['sensor']: r['location'] for r in sensors}\n"
        "values = [\n"
        "    float(r['temperature']) for r in readings\n"
        f"    if where[r['sensor']] == {location!r} and r['status'] == 'ok'\n"
        "    and r['temperature'] != ''\n"
        "]\n"
        "total = statistics.mean(values)\n"
    )
    return _Draft(
        files,
        columns,
        question,
        statistics.mean(values),
        code + _print(2),
        load=("readings.csv", "sensors.csv"),
    )


# ------------------------------------------------------------------------------------- grades
def _grades(rng: random.Random, level: int) -> _Draft | None:
    """Scores per student and subject: a subject mean, a count of students, a class's top 3."""
    names = rng.sample(_NAMES, (8, 15, 24)[level - 1])
    subjects = rng.sample(_SUBJECTS, (3, 4, 5)[level - 1])
    ids = {name: f"st{i:02d}" for i, name in enumerate(names, start=1)}
    rows: list[dict[str, Any]] = []
    for name, subject in itertools.product(names, subjects):
        if rng.random() < 0.9:
            rows.append(
                {
                    "student": name,
                    "student_id": ids[name],
                    "subject": subject,
                    "score": rng.randint(35, 100),
                }
            )
    if level < 3:
        files = {"grades.csv": _csv(["student", "subject", "score"], rows)}
        columns = {"grades.csv": "student, subject, score"}
    else:
        files = {"grades.csv": _csv(["student_id", "subject", "score"], rows)}
        columns = {"grades.csv": "student_id, subject, score"}
    if level == 1:
        subject = rng.choice(subjects)
        scores = [r["score"] for r in rows if r["subject"] == subject]
        if not scores:
            return None
        question = f"What is the mean score in {subject}?"
        code = (
            f"total = statistics.mean(int(r['score']) for r in grades "
            f"if r['subject'] == {subject!r})\n"
        )
        return _Draft(
            files,
            columns,
            question,
            statistics.mean(scores),
            code + _print(2),
            load=("grades.csv",),
        )
    per_student: dict[str, list[int]] = {}
    for r in rows:
        per_student.setdefault(r["student"], []).append(r["score"])
    if level == 2:
        bar = rng.randrange(55, 85, 5)
        total = sum(1 for s in per_student.values() if statistics.mean(s) >= bar)
        question = (
            f"How many students have a mean score of at least {bar} over the subjects they took?"
        )
        code = (
            "scores = {}\n"
            "for r in grades:\n"
            "    scores.setdefault(r['student'], []).append(int(r['score']))\n"
            f"total = sum(1 for s in scores.values() if statistics.mean(s) >= {bar})\n"
        )
        return _Draft(files, columns, question, total, code + _print(0), 0, ("grades.csv",))
    classes = {name: rng.choice("ABC") for name in names}
    chosen = rng.choice("ABC")
    means = {n: statistics.mean(s) for n, s in per_student.items() if classes[n] == chosen}
    top = _distinct_top({n: float(m) for n, m in means.items()}, 3)
    if top is None:
        return None
    students = [{"student_id": ids[n], "name": n, "class": classes[n]} for n in names]
    files["students.csv"] = _csv(["student_id", "name", "class"], students)
    columns["students.csv"] = "student_id, name, class"
    question = (
        f"students.csv gives each student's name and class. Which three students of class "
        f"{chosen} have the highest mean score?"
    )
    code = (
        f"names = {{r['student_id']: r['name'] for r in students if r['class'] == {chosen!r}}}\n"
        "scores = {}\n"
        "for r in grades:\n"
        "    if r['student_id'] in names:\n"
        "        scores.setdefault(names[r['student_id']], []).append(int(r['score']))\n"
        "means = {name: statistics.mean(s) for name, s in scores.items()}\n"
        "print(', '.join(sorted(means, key=means.get, reverse=True)[:3]))\n"
    )
    return _Draft(files, columns, question, top, code, load=("grades.csv", "students.csv"))


# ---------------------------------------------------------------------------------- inventory
def _inventory(rng: random.Random, level: int) -> _Draft | None:
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
    files = {"inventory.csv": _csv(header, rows)}
    columns = {"inventory.csv": ", ".join(header)}
    if level == 1:
        category = rng.choice([r["category"] for r in rows])
        total: float = sum(r["stock"] * r["unit_cost"] for r in rows if r["category"] == category)
        question = f"What is the total value (stock x unit_cost) of the {category} stock?"
        code = (
            f"total = sum(int(r['stock']) * float(r['unit_cost']) for r in inventory "
            f"if r['category'] == {category!r})\n"
        )
        return _Draft(files, columns, question, total, code + _print(2), load=("inventory.csv",))
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
        return _Draft(files, columns, question, total, code + _print(0), 0, ("inventory.csv",))
    orders = [
        {"order_id": 5001 + i, "sku": rng.choice(rows)["sku"], "quantity": rng.randint(1, 40)}
        for i in range(rng.randint(30, 80))
    ]
    files["orders.csv"] = _csv(["order_id", "sku", "quantity"], orders)
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
    return _Draft(
        files, columns, question, total, code + _print(0), 0, ("inventory.csv", "orders.csv")
    )


TEMPLATES: dict[str, Callable[[random.Random, int], _Draft | None]] = {
    "sales": _sales,
    "ranking": _ranking,
    "change": _change,
    "sensors": _sensors,
    "grades": _grades,
    "inventory": _inventory,
}
"""Question templates by name; each takes a seeded RNG and a level (1-3)."""


# ------------------------------------------------------------------------------------- tasks
def _format_line(draft: _Draft) -> str:
    if isinstance(draft.answer, list):
        if len(draft.answer) == 1:
            return "Put the answer in \\boxed{}."
        return "Put the names in \\boxed{}, highest first, separated by commas: \\boxed{A, B, C}."
    if draft.decimals == 0:
        return "Put the number in \\boxed{}."
    return f"Round to {draft.decimals} decimals and put the number in \\boxed{{}}."


@functools.lru_cache(maxsize=4096)
def _make_task(template: str, level: int, index: int) -> CodeTask | None:
    draft = TEMPLATES[template](random.Random(f"data/{template}/{level}/{index}"), level)
    if draft is None or draft.answer == 0:  # a zero is too easy to guess
        return None
    files = "; ".join(f"{name} ({draft.columns[name]})" for name in draft.files)
    prompt = f"Files: {files}.\n\n{draft.question} {_format_line(draft)}"
    fingerprint = hashlib.blake2b(digest_size=8)
    for name in sorted(draft.files):
        fingerprint.update(f"{name}\n{draft.files[name]}\n".encode())
    hidden: dict[str, Any]
    if isinstance(draft.answer, list):
        gold = ", ".join(draft.answer)
        hidden = {"kind": "list", "answer": list(draft.answer)}
    else:
        gold = f"{draft.answer:.{draft.decimals}f}"
        hidden = {
            "kind": "number",
            "answer": gold,
            "exact": draft.answer,
            "decimals": draft.decimals,
            "tolerance": RELATIVE_TOLERANCE,
        }
    return CodeTask(
        id=f"data-{template}-{level}-{index}",
        prompt=prompt,
        split=split_of(f"{draft.question}\n{fingerprint.hexdigest()}"),
        domain="data",
        difficulty=level,
        seed=index,
        answer=gold,
        metadata={"template": template, "files": sorted(draft.files)},
        family="data",
        files=draft.files,
        reference_code=_loader(*draft.load) + draft.code,
        solution=f"Computed from the files: \\boxed{{{gold}}}",
        hidden=hidden,
    )


class DataAnalysisFamily:
    """Questions about CSV files for CodeInterpreter-v0, checked numerically or as name lists.

    Args:
        templates: names from `TEMPLATES` (all by default).
        levels: difficulty levels, 1-3 (all by default).
    """

    name = "data"
    description = (
        "Data analysis: the CSV files named in the task are in the working directory; compute the "
        "answer with Python (csv and statistics always work; pandas may be missing)."
    )
    answer_format = (
        "Put the final answer in \\boxed{}: a number rounded as asked (compared with a relative "
        "tolerance of 1e-4), or names in order separated by commas, e.g. \\boxed{North, East}."
    )

    def __init__(
        self,
        templates: str | Sequence[str] | None = None,
        levels: int | Sequence[int] | None = None,
    ) -> None:
        self.templates: tuple[str, ...] = _choose(templates, "templates", TEMPLATES)
        self.levels: tuple[int, ...] = _choose(levels, "levels", LEVELS)
        self._id = re.compile(r"^data-([a-z_]+)-([1-9])-(\d{1,10})$")

    def get(self, task_id: str, split: Split) -> CodeTask:
        """The task with this id; a `TaskError` if it does not exist or is in the other split."""
        match = self._id.match(task_id) if isinstance(task_id, str) else None
        if match is None or match[1] not in self.templates or int(match[2]) not in self.levels:
            raise TaskError(
                f"{task_id!r} is not a data task id; ids look like 'data-sales-2-417' "
                f"(template: {', '.join(self.templates)}; level: 1-3; then an index)"
            )
        task = _make_task(match[1], int(match[2]), int(match[3]))
        if task is None:
            raise TaskError(f"index {match[3]} yields no task for {task_id!r}; try another index")
        if task.split != split:
            raise TaskError(
                f"task {task_id!r} belongs to the {task.split} split, not {split}; "
                f"make the env with split={task.split!r}"
            )
        return task

    def sample(self, rng: np.random.Generator, split: Split) -> CodeTask:
        """A task of the split drawn with ``rng``: a template, a level, then an index."""
        template = self.templates[int(rng.integers(len(self.templates)))]
        level = self.levels[int(rng.integers(len(self.levels)))]
        return next(self._scan(template, level, int(rng.integers(0, 2**31)), split))

    def iterate(self, split: Split) -> Iterator[CodeTask]:
        """The split's tasks, endless: round-robin over templates and levels, by index."""
        scans = [self._scan(t, lv, 0, split) for t in self.templates for lv in self.levels]
        while True:
            for scan in scans:
                yield next(scan)

    def _scan(self, template: str, level: int, start: int, split: Split) -> Iterator[CodeTask]:
        skipped = 0
        for index in itertools.count(start):
            task = _make_task(template, level, index)
            if task is not None and task.split == split:
                skipped = 0
                yield task
            elif (skipped := skipped + 1) >= _MAX_SKIPS:
                raise TaskError(f"no {split} task for {template} level {level} near {index}")

    def verify(self, task: CodeTask, answer: str, new_sandbox: SandboxFactory) -> Verdict:
        r"""Score 1 when the last ``\boxed{}`` holds the number (within tolerance) or the names."""
        boxed = last_boxed(extract_answer(answer))
        if boxed is None:
            return _fail("no \\boxed{...} in the final answer; write it as \\boxed{42}")
        if task.hidden["kind"] == "list":
            want = [_normalise(item) for item in task.hidden["answer"]]
            got = _items(boxed)
            if got == want:
                return Verdict(score=1.0, success=True, reason="the names match the reference")
            return _fail(f"expected {len(want)} name(s) in the reference's order; got {_clip(got)}")
        value = _number(boxed)
        if value is None:
            return _fail(f"expected one number in \\boxed{{}}; got {_clip(boxed)!r}")
        exact, decimals = float(task.hidden["exact"]), int(task.hidden["decimals"])
        allowed = float(task.hidden["tolerance"]) * abs(exact)
        if decimals:  # a value rounded as asked is right, whichever way a tie was rounded
            allowed = max(allowed, 0.5 * 10.0**-decimals * (1 + 1e-9))
        if math.isfinite(value) and abs(value - exact) <= allowed:
            return Verdict(score=1.0, success=True, reason="the number matches the reference")
        return _fail(
            f"expected a number within a relative {task.hidden['tolerance']:g} of the "
            f"reference{f' (rounded to {decimals} decimals)' if decimals else ''}; got {value:g}"
        )


# ---------------------------------------------------------------------------------- checking
def _choose(value: Any, what: str, allowed: Any) -> tuple[Any, ...]:
    allowed = tuple(allowed)
    if value is None:
        return allowed
    values = tuple(value) if isinstance(value, (list, tuple, set, frozenset)) else (value,)
    if not values or any(v not in allowed for v in values):
        raise ConfigError(f"{what} must be among {list(allowed)}, got {value!r}")
    return values


def _fail(reason: str) -> Verdict:
    return Verdict(score=0.0, success=False, reason=reason)


def _clip(value: Any, limit: int = 80) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _unlatex(text: str) -> str:
    text = re.sub(r"\\(?:text|textbf|mathrm|mbox)\s*\{([^{}]*)\}", r"\1", text)
    return text.replace("\\%", "%").replace("\\$", "$").replace("\\,", "").replace("{,}", ",")


def _normalise(item: str) -> str:
    return " ".join(item.strip().strip("'\"`*.[]()").split()).casefold()


def _items(boxed: str) -> list[str]:
    parts = re.split(r"[,;\n]|\\\\", _unlatex(boxed).strip().strip("[]()"))
    return [_normalise(p) for p in parts if _normalise(p)]


_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def _number(boxed: str) -> float | None:
    """The one number in a boxed answer (thousands separators, $ and % allowed), else None."""
    text = _unlatex(boxed).replace("\u2212", "-")
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)
    found = _NUMBER.findall(text)
    return float(found[0]) if len(found) == 1 else None
