"""The sensors template: hourly readings with gaps, counted, summarised and joined."""

from __future__ import annotations

import itertools
import math
import random
import statistics
from typing import Any

from palaestra.tasks.data_analysis.drafts import Draft, csv_text, print_total

__all__ = ["sensors"]

_LOCATIONS = ("Lab", "Warehouse", "Office", "Greenhouse")


def sensors(rng: random.Random, level: int) -> Draft | None:
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
    files = {"readings.csv": csv_text(header, rows)}
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
        return Draft(files, columns, question, total, code + print_total(0), 0, ("readings.csv",))
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
        return Draft(
            files,
            columns,
            question,
            statistics.median(values),
            code + print_total(2),
            load=("readings.csv",),
        )
    where = {s: rng.choice(_LOCATIONS) for s in sensors}
    location = where[sensor]
    files["sensors.csv"] = csv_text(
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
    return Draft(
        files,
        columns,
        question,
        statistics.mean(values),
        code + print_total(2),
        load=("readings.csv", "sensors.csv"),
    )
