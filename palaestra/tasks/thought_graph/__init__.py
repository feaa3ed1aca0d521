"""Graph of Thoughts' synthetic tasks and the simulated reasoner that ThoughtGraph-v0 runs on.

Sorting, set intersection and keyword counting at sizes 32, 64 and 128 (``problems``: seeded
problems, answer parsing and the paper's exact error metrics), and a seeded simulated reasoner
(``reasoner``) whose errors grow faster than linearly with input length, so that schedules and
policies over thought transformations can be compared cheaply on a CPU.
"""

from palaestra.tasks.thought_graph.problems import (
    COUNTRIES,
    KINDS,
    SIZES,
    ThoughtProblem,
    error_count,
    format_answer,
    local_error,
    make_problem,
    max_error,
    parse_answer,
    partial_score,
    solution,
)
from palaestra.tasks.thought_graph.reasoner import SimulatedReasoner, SimulatedReasonerConfig

__all__ = [
    "COUNTRIES",
    "KINDS",
    "SIZES",
    "SimulatedReasoner",
    "SimulatedReasonerConfig",
    "ThoughtProblem",
    "error_count",
    "format_answer",
    "local_error",
    "make_problem",
    "max_error",
    "parse_answer",
    "partial_score",
    "solution",
]
