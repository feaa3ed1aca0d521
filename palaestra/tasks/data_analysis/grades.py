"""The grades template: scores per student and subject, averaged, counted and ranked."""

from __future__ import annotations

import itertools
import random
import statistics
from typing import Any

from palaestra.tasks.data_analysis.drafts import Draft, csv_text, distinct_top, print_total

__all__ = ["grades"]

_SUBJECTS = ("Math", "Physics", "Chemistry", "Biology", "History", "English", "Art")
_NAMES = (
    "Ada", "Ben", "Chloe", "Dev", "Elena", "Felix", "Grace", "Hugo", "Iris", "Jonas", "Kira",
    "Liam", "Maya", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera",
    "Wen", "Xavi", "Yara", "Zane", "Aiko", "Bruno", "Carla", "Dario",
)  # fmt: skip


def grades(rng: random.Random, level: int) -> Draft | None:
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
        files = {"grades.csv": csv_text(["student", "subject", "score"], rows)}
        columns = {"grades.csv": "student, subject, score"}
    else:
        files = {"grades.csv": csv_text(["student_id", "subject", "score"], rows)}
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
        return Draft(
            files,
            columns,
            question,
            statistics.mean(scores),
            code + print_total(2),
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
        return Draft(files, columns, question, total, code + print_total(0), 0, ("grades.csv",))
    classes = {name: rng.choice("ABC") for name in names}
    chosen = rng.choice("ABC")
    means = {n: statistics.mean(s) for n, s in per_student.items() if classes[n] == chosen}
    top = distinct_top({n: float(m) for n, m in means.items()}, 3)
    if top is None:
        return None
    students = [{"student_id": ids[n], "name": n, "class": classes[n]} for n in names]
    files["students.csv"] = csv_text(["student_id", "name", "class"], students)
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
    return Draft(files, columns, question, top, code, load=("grades.csv", "students.csv"))
